#!/usr/bin/env python3
"""Snapshots and log compaction with real processes (issue 8).

1. A 3-node cluster with small snapshot triggers. One follower is killed; thousands of writes
   (INCRs of one counter, SETs over 50 keys and ZADDs to a sorted set of 50 members, which
   snapshots carry as their own value type) go through the leader, which takes several
   snapshots and compacts its log past everything the dead follower holds. INFO persistence shows
   the snapshots and a log that no longer starts at 1; at most two snapshot files are kept.
2. The dead follower restarts and catches up through InstallSnapshot: INFO persistence shows
   snapshots_installed >= 1 and it applies up to the leader's commit. Then the old leader is
   killed: the restarted follower, helped by the third node, serves the counter's exact value.
3. RAFT.SNAPSHOT answers +OK and INFO then shows a snapshot at or past the applied index.
4. All three are SIGKILLed and restarted: they come back from snapshot + log tail with the same
   counter and keys.
5. The newest snapshot file of one node is damaged (a flipped byte) while it is down: it starts
   from the older one (saying why it refused the newest), and serves the same data.
6. A torn snapshot left as a .tmp file is ignored at start.

Usage: test_snapshots.py PATH/TO/prez-server"""
import glob
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prez_harness import Client, Cluster, RespError, call, check, encode, wait_until  # noqa: E402

KEYS = 50
SNAPSHOT_CONF = "snapshot-entries 300\nsnapshot-trailing-entries 20\n"


def info(node, section):
    try:
        text = call(node.port, "INFO", section, timeout=2) or ""
    except (OSError, RespError, ValueError):
        return {}
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def pipelined_writes(node, start, count):
    """INCR counter, SET k<i % KEYS> v<i> and ZADD board <i> m<i % KEYS>, pipelined 100 at a time
    through `node`."""
    with Client(node.port, timeout=30) as c:
        i = start
        while i < start + count:
            batch = min(100, start + count - i)
            payload = b""
            for j in range(i, i + batch):
                payload += encode("INCR", "counter") + encode("SET", "k%d" % (j % KEYS), "v%d" % j)
                payload += encode("ZADD", "board", str(j), "m%d" % (j % KEYS))
            c.send_raw(payload)
            for _ in range(3 * batch):
                c.read_reply()
            i += batch


def expected_keys(total):
    """The value each key holds after writes 0..total-1."""
    values = {}
    for j in range(total):
        values["k%d" % (j % KEYS)] = "v%d" % j
    return values


def check_data(node, total, what):
    got = call(node.port, "GET", "counter", timeout=10)
    check(got == str(total), "%s: counter %r, expected %d" % (what, got, total))
    values = expected_keys(total)
    keys = sorted(values)
    got = call(node.port, "MGET", *keys, timeout=10)
    check(got == [values[k] for k in keys], "%s: the keys differ from the writes" % what)
    scores = {}
    for j in range(total):
        scores["m%d" % (j % KEYS)] = j
    board = []
    for member, score in sorted(scores.items(), key=lambda item: item[1]):
        board += [member, str(score)]
    got = call(node.port, "ZRANGE", "board", "0", "-1", "WITHSCORES", timeout=10)
    check(got == board, "%s: the sorted set differs from the writes" % what)


def snapshot_files(node):
    return sorted(glob.glob(os.path.join(node.dir, "data", "snapshot-*.snap")))


def applied(node):
    return int(info(node, "raft").get("last_applied", "0") or 0)


def settled(node, target):
    """`node` applied `target`, runs no snapshot and keeps exactly two snapshot files."""
    if applied(node) < target or info(node, "persistence").get("rdb_bgsave_in_progress") != "0":
        return False
    time.sleep(0.2)
    return len(snapshot_files(node)) == 2 and applied(node) >= target


def main(binary):
    with Cluster(binary, 3, node_timeout_ms=500) as c:
        for n in c.nodes:
            n.write_config(SNAPSHOT_CONF)
        c.start()
        leader = c.leader()
        followers = [n for n in c.nodes if n is not leader]
        down = followers[0]
        check(c.write(leader, "warmup", "1"), "a first write")
        wait_until(lambda: applied(down) >= applied(leader), 10)
        down.kill()

        total = 3000
        pipelined_writes(leader, 0, total)
        p = info(leader, "persistence")
        print("leader persistence after %d writes: %s" % (total, p))
        check(int(p.get("snapshots_taken", "0")) >= 2, "the leader took snapshots")
        check(int(p.get("log_first_index", "1")) > 1, "the leader compacted its log")
        # (A snapshot finishing while we look shows three files between its rename and the
        # removal of the oldest: look again until it settles.)
        files = wait_until(lambda: (lambda f: f if 1 <= len(f) <= 2 else None)(
            snapshot_files(leader)), 5) or snapshot_files(leader)
        check(1 <= len(files) <= 2, "one or two snapshot files kept: %s" % files)
        check_data(leader, total, "leader")

        # 2. The dead follower catches up by InstallSnapshot.
        down.start()
        target = applied(leader)
        caught_up = wait_until(lambda: applied(down) >= target, 30)
        p = info(down, "persistence")
        print("restarted follower persistence: %s" % p)
        check(caught_up, "the restarted follower caught up (applied %d of %d)" %
              (applied(down), target))
        check(int(p.get("snapshots_installed", "0")) >= 1,
              "the restarted follower caught up through InstallSnapshot")
        leader.kill()
        new_leader = c.leader(among=followers, seconds=20)
        print("new leader: %s" % new_leader.name)
        check_data(down, total, "restarted follower after the old leader died")
        leader.start()
        c.leader(seconds=20)

        # 3. RAFT.SNAPSHOT on demand.
        pipelined_writes(down, total, 50)
        total += 50
        before = applied(down)
        check(call(down.port, "RAFT.SNAPSHOT", timeout=60) == "OK", "RAFT.SNAPSHOT answers OK")
        p = info(down, "persistence")
        check(int(p.get("snapshot_index", "0")) >= before,
              "RAFT.SNAPSHOT took a snapshot at or past %d: %s" % (before, p))
        check(p.get("rdb_last_bgsave_status") == "ok", "the last snapshot succeeded")

        # 4. Everyone killed and restarted: snapshot + log tail.
        for n in c.nodes:
            n.kill()
        for n in c.nodes:
            n.start()
        start = time.monotonic()
        served = wait_until(lambda: call(c.nodes[0].port, "GET", "counter", timeout=2) == str(total),
                            30)
        print("first read after a restart of all three: %.2f s" % (time.monotonic() - start))
        check(served, "the restarted cluster serves the counter")
        for n in c.nodes:
            check_data(n, total, "%s after a full restart" % n.name)

        # 5. A damaged newest snapshot: the older one (and the log kept since it) stand in.
        victim = c.nodes[1]
        pipelined_writes(victim, total, 700)  # at least two more snapshots everywhere
        total += 700
        # The victim answers once the leader commits and may still be applying (and snapshotting)
        # behind that: kill it only once it has applied everything, no snapshot is running and it
        # keeps two files, seen twice in a row, so the kill does not land mid-snapshot.
        target = max(applied(n) for n in c.nodes)
        check(wait_until(lambda: settled(victim, target) and settled(victim, target), 20),
              "the victim applied %d and its snapshots settled: %s" %
              (target, snapshot_files(victim)))
        victim.kill()
        files = snapshot_files(victim)
        check(len(files) == 2, "two snapshot files kept: %s" % files)
        with open(files[-1], "r+b") as f:
            f.seek(os.path.getsize(files[-1]) // 2)
            byte = f.read(1)
            f.seek(-1, os.SEEK_CUR)
            f.write(bytes([byte[0] ^ 0xFF]))
        # 6. A torn snapshot that never finished.
        with open(os.path.join(victim.dir, "data", "snapshot-%020d.snap.tmp" % 99999999), "wb") as f:
            f.write(b"PREZSNP1 torn")
        victim.start()
        check(wait_until(lambda: applied(victim) >= total, 30), "the node with a damaged snapshot "
              "started from the older one and caught up")
        with open(os.path.join(victim.dir, "server.log"), "rb") as f:
            log = f.read().decode(errors="replace")
        check("snapshot refused" in log, "the damaged snapshot was refused with its reason")
        check_data(victim, total, "node started from its older snapshot")
    print("snapshots: ok")


if __name__ == "__main__":
    main(sys.argv[1])
