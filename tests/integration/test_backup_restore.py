#!/usr/bin/env python3
"""Backup and restore (docs/decisions.md D25) against real processes.

A 3-node cluster takes writes from a client thread the whole time. `prez-ctl snapshot save` runs
against a follower cut off from the others (test builds: the partition switch of D10) so that it
lags behind the writes acknowledged before the save began, with the cut healed while the save
waits; then against the leader. Each saved file must hold every key acknowledged before its save
began, with its value: it is restored with `prez-server --restore` into a new data dir as a
one-node cluster, started, read key by key, written to, restarted, and grown by a second node with
RAFT.NODE ADD. A follower in follower-mode redirect sends the save to the leader. A restore into a
non-empty dir and of a file with one flipped byte are refused (exit 1, a clear message, nothing
written); RAFT.SNAPSHOT READ answers clear errors for an unknown index and an offset past the end.
Usage: test_backup_restore.py PATH/TO/prez-server (prez-ctl is found next to it)"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from prez_harness import (Client, Cluster, Node, RespError, call, check, free_port, info_raft,
                          wait_until)

SAVED = re.compile(r"^saved (.+): index (\d+), term (\d+), (\d+) keys, (\d+) bytes \(from (.+)\)$")


def run(args, cwd=None, timeout=200):
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd)
    return proc.returncode, proc.stdout, proc.stderr


class Writer(threading.Thread):
    """SETs unique keys through one node as fast as it answers; records each acknowledged one."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.lock = threading.Lock()
        self.acked = []  # (key, value), in acknowledgement order
        self.halt = threading.Event()
        self.errors = 0

    def run(self):
        i = 0
        client = None
        while not self.halt.is_set():
            key, value = f"w:{i:06d}", f"v{i}-" + "x" * (i % 50)
            try:
                client = client or Client(self.port, timeout=5)
                if client.call("SET", key, value) == "OK":
                    with self.lock:
                        self.acked.append((key, value))
                    i += 1
            except (RespError, OSError, ValueError):
                # Unknown outcome: the key is never reused, and only acknowledged keys are checked.
                self.errors += 1
                i += 1
                if client is not None:
                    client.close()
                client = None
                time.sleep(0.05)
        if client is not None:
            client.close()

    def snapshot(self):
        with self.lock:
            return list(self.acked)


def is_test_build(node):
    wait_until(lambda: "ready" in node.tail_log(50), 10)
    return "this is a test build" in node.tail_log(50)


def partition(c, node, cut):
    """Cuts `node` off from every other node (both directions), or heals it."""
    for other in c.nodes:
        if other is node:
            continue
        for a, b in ((node, other), (other, node)):
            path = os.path.join(a.dir, "data", "partition-" + b.name)
            if cut:
                open(path, "w").close()
            elif os.path.exists(path):
                os.remove(path)


def save(ctl, path, node):
    started = time.monotonic()
    rc, out, err = run([ctl, "snapshot", "save", path, f"127.0.0.1:{node.port}"])
    print(f"snapshot save from {node.name} took {time.monotonic() - started:.2f}s: {out.strip()}"
          + (f" (stderr: {err.strip()})" if err.strip() else ""))
    check(rc == 0, f"snapshot save from {node.name}: rc={rc} out={out!r} err={err!r}")
    m = SAVED.match(out.strip())
    check(m is not None, f"snapshot save output: {out!r}")
    check(m.group(1) == path and m.group(6) == f"127.0.0.1:{node.port}", f"output: {out!r}")
    index, term, keys, size = (int(m.group(i)) for i in range(2, 6))
    check(os.path.getsize(path) == size, f"{path}: {os.path.getsize(path)} bytes, said {size}")
    check(not [f for f in os.listdir(os.path.dirname(path)) if ".tmp." in f],
          f"temporary files left: {os.listdir(os.path.dirname(path))}")
    return index, term, keys


def restore_and_check(server, ctl, backup, acked, label):
    """Restores `backup` into a new one-node cluster, checks every acknowledged key, writes,
    grows it to two nodes. Returns nothing; raises on a failed check."""
    with Cluster(server, size=1) as r:
        node = r.nodes[0]
        rc, out, err = run([server, "--restore", backup, "prez.conf"], cwd=node.dir, timeout=60)
        check(rc == 0 and "restored" in out, f"{label}: --restore rc={rc} {out!r} {err!r}")
        # Restoring again, now that the dir holds the restored node, is refused and changes nothing.
        data = os.path.join(node.dir, "data")
        before = sorted(os.listdir(data))
        rc, out, err = run([server, "--restore", backup, "prez.conf"], cwd=node.dir, timeout=60)
        check(rc == 1 and "not empty" in err, f"{label}: restore into a used dir: {rc} {err!r}")
        check(sorted(os.listdir(data)) == before, f"{label}: the used dir changed")

        node.start()
        r.leader(seconds=20)
        missing = []
        with Client(node.port, timeout=10) as client:
            for key, value in acked:
                got = client.call("GET", key)
                if got != value:
                    missing.append((key, value, got))
        check(not missing, f"{label}: {len(missing)} of {len(acked)} acknowledged keys missing or "
              f"wrong after restore, first {missing[:3]}")
        check(call(node.port, "SET", "after-restore", "yes") == "OK", f"{label}: write refused")
        # A restart starts from the restored snapshot and the log after it, as from its own.
        node.stop()
        node.start()
        r.leader(seconds=20)
        check(call(node.port, "GET", "after-restore") == "yes" and
              (not acked or call(node.port, "GET", acked[0][0]) == acked[0][1]),
              f"{label}: data after a restart of the restored node")
        members = call(node.port, "RAFT.NODE", "LIST")
        check([m[0] for m in members] == [node.name] and members[0][2] == "voter",
              f"{label}: restored membership {members!r}")

        # The restored cluster grows like any other (test_membership.py's way).
        joiner = Node(r, "node-1", free_port(), free_port())
        r.nodes.append(joiner)
        joiner.write_config("cluster-join yes\n")  # its nodes.conf lists both nodes
        joiner.start()
        reply = None
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                reply = call(node.port, "RAFT.NODE", "ADD", joiner.name,
                             f"127.0.0.1:{joiner.cluster_port}", timeout=10)
                break
            except RespError as e:
                reply = e
                if not str(e).startswith(("CLUSTERDOWN", "TRYAGAIN")):
                    break
            time.sleep(0.2)
        check(reply == "OK", f"{label}: RAFT.NODE ADD: {reply!r}")
        last = int(info_raft(node.port).get("last_applied", "0"))

        def joined():
            roles = {m[0]: m[2] for m in call(node.port, "RAFT.NODE", "LIST")}
            applied = int(info_raft(joiner.port).get("last_applied", "0"))
            return roles.get(joiner.name) == "voter" and applied >= last

        check(wait_until(joined, 30, interval=0.2),
              f"{label}: the second node never became a caught-up voter: "
              f"{info_raft(joiner.port)}")
        check(call(joiner.port, "GET", acked[-1][0]) == acked[-1][1] if acked else True,
              f"{label}: read through the second node")


def main(server):
    server = os.path.abspath(server)
    ctl = os.path.join(os.path.dirname(server), "prez-ctl")
    check(os.access(ctl, os.X_OK), f"no prez-ctl next to {server}")
    # The backups outlive the cluster they come from.
    backups = tempfile.mkdtemp(prefix="prez-backups-")
    try:
        run_all(server, ctl, backups)
    finally:
        shutil.rmtree(backups, ignore_errors=True)


def run_all(server, ctl, backups):
    with Cluster(server, size=3) as c:
        c.start()
        leader = c.leader()
        for i in range(200):
            check(c.write(leader, f"pre:{i}", f"p{i}"), "preload write")
        writer = Writer(leader.port)
        writer.start()
        check(wait_until(lambda: len(writer.snapshot()) > 200, 20), "the writer writes nothing")

        # 1. A follower that lags: cut off while writes go on, the save started while it lags,
        # the cut healed while the save waits for its linearizable point.
        follower = next(n for n in c.nodes if n is not leader)
        lagging = is_test_build(follower)
        if lagging:
            partition(c, follower, True)
            time.sleep(1.5)
        acked_before = [("pre:%d" % i, "p%d" % i) for i in range(200)] + writer.snapshot()
        follower_applied = int(info_raft(follower.port).get("last_applied", "0"))
        leader_commit = int(info_raft(leader.port).get("commit_index", "0"))
        if lagging:
            check(follower_applied < leader_commit,
                  f"the cut-off follower does not lag: {follower_applied} >= {leader_commit}")
            healer = threading.Timer(1.0, partition, (c, follower, False))
            healer.start()
        follower_file = os.path.join(backups, "from-follower.snap")
        index, term, keys = save(ctl, follower_file, follower)
        if lagging:
            healer.join()
        check(index >= leader_commit,
              f"follower's snapshot at {index}, before the commit index {leader_commit} known "
              "when the save began")
        check(keys >= len(acked_before), f"{keys} keys < {len(acked_before)} acknowledged")

        # 2. The leader, writes still running.
        acked_leader = [("pre:%d" % i, "p%d" % i) for i in range(200)] + writer.snapshot()
        leader_file = os.path.join(backups, "from-leader.snap")
        leader_index, _, _ = save(ctl, leader_file, leader)
        writer.halt.set()
        writer.join(timeout=10)

        # READ's errors are clear and the connection survives them.
        with Client(leader.port) as client:
            for args, why in (((999999999, 0, 10), "is not being served"),
                              ((leader_index, 1 << 40, 10), "past the end"),
                              (("x", 0, 10), "not an integer")):
                try:
                    reply = client.call("RAFT.SNAPSHOT", "READ", *args)
                except RespError as e:
                    reply = e
                check(isinstance(reply, RespError) and why in str(reply),
                      f"RAFT.SNAPSHOT READ {args}: {reply!r}")
            check(client.call("PING") == "PONG", "connection after READ errors")

        # 3. A damaged backup is refused; nothing is written.
        damaged = os.path.join(backups, "damaged.snap")
        with open(follower_file, "rb") as f:
            data = bytearray(f.read())
        data[len(data) // 2] ^= 0x01
        with open(damaged, "wb") as f:
            f.write(bytes(data))
        target = os.path.join(c.root, "never")
        os.makedirs(target)
        with open(os.path.join(target, "prez.conf"), "w") as f:
            f.write(f"name solo\nport {free_port()}\ndir ./data\n")
        rc, out, err = run([server, "--restore", damaged, "prez.conf"], cwd=target)
        check(rc == 1 and "restore refused" in err and "CRC mismatch" in err,
              f"damaged backup: rc={rc} {err!r}")
        check(not os.path.exists(os.path.join(target, "data")), "a refused restore wrote data")
        rc, out, err = run([server, "--restore"], cwd=target)
        check(rc == 2 and "usage" in err, f"--restore without a file: rc={rc} {err!r}")

    # 4. With follower-mode redirect a follower answers FETCH with -MOVED: prez-ctl saves from
    # the leader it names.
    with Cluster(server, size=3) as c:
        for n in c.nodes:
            n.write_config("follower-mode redirect\n")
        c.start()
        leader = c.leader()
        check(c.write(leader, "redirected", "yes"), "write before the redirected save")
        follower = next(n for n in c.nodes if n is not leader)
        rc, out, err = run([ctl, "snapshot", "save", os.path.join(backups, "redirected.snap"),
                            f"127.0.0.1:{follower.port}"])
        check(rc == 0 and out.endswith(f"(from 127.0.0.1:{leader.port})\n"),
              f"save through a redirecting follower: rc={rc} {out!r} {err!r}")

    # 5. Each backup restores into a new cluster with every key acknowledged before its save.
    restore_and_check(server, ctl, follower_file, acked_before, "follower")
    restore_and_check(server, ctl, leader_file, acked_leader, "leader")
    print(f"backup and restore: saves from a {'lagging ' if lagging else ''}follower "
          f"({len(acked_before)} keys acknowledged before) and the leader "
          f"({len(acked_leader)}) restored whole; writes and RAFT.NODE ADD after restore; "
          "redirected save, damaged file and used dir refused ok")


if __name__ == "__main__":
    main(sys.argv[1])
