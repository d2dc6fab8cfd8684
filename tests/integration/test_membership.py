#!/usr/bin/env python3
"""Membership changes with real processes (Raft thesis §4), under continuous checked writes:
grow 3 -> 5 (new nodes join with an empty data dir and cluster-join yes, catch up, are promoted),
shrink 5 -> 3 removing the leader too, replace a node whose data dir was wiped (under a new name),
refuse a second change while one is uncommitted, and keep a removed node restarted with its old
data from disturbing the cluster. The recorded history is checked for linearizability and every
acknowledged write must be readable at the end.
Usage: test_membership.py PATH/TO/prez-server"""
import os
import shutil
import signal
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "fault"))

from prez_harness import (Client, Cluster, Node, RespError, call, check, free_port,  # noqa: E402
                          info_raft, wait_until)
from linearizability import check_history, report  # noqa: E402
from run_fault import Recorder, Worker, final_reads  # noqa: E402


class Targets:
    """What the workers talk to: the nodes not about to be removed."""

    def __init__(self, nodes):
        self.nodes = list(nodes)


def members(port):
    """RAFT.NODE LIST as {name: (address, role)}."""
    return {name: (address, role) for name, address, role in call(port, "RAFT.NODE", "LIST")}


def node_change(c, via, *args, seconds=20):
    """RAFT.NODE ... through `via`, retrying not-applied refusals; returns the final reply."""
    end = time.monotonic() + seconds
    last = None
    while time.monotonic() < end:
        try:
            return call(via.port, "RAFT.NODE", *args, timeout=10)
        except RespError as e:
            last = e
            if not str(e).startswith(("CLUSTERDOWN", "TRYAGAIN")):
                return e
        except OSError as e:
            last = e
        time.sleep(0.2)
    raise AssertionError(f"RAFT.NODE {args} through {via.name}: {last}")


def wait_role(c, observer, name, role, seconds=30):
    def seen():
        try:
            m = members(observer.port)
        except (RespError, OSError):
            return False
        return m.get(name, ("", ""))[1] == role
    check(wait_until(seen, seconds, interval=0.2),
          f"{name} is not '{role}' on {observer.name} within {seconds}s: "
          f"{members(observer.port) if observer.alive() else 'down'}")


def new_node(c, name):
    n = Node(c, name, free_port(), free_port())
    c.nodes.append(n)
    n.write_config("cluster-join yes\n")
    return n


def add_node(c, via, name):
    n = new_node(c, name)
    n.start()
    reply = node_change(c, via, "ADD", name, f"127.0.0.1:{n.cluster_port}")
    check(reply == "OK", f"ADD {name}: {reply!r}")
    wait_role(c, via, name, "voter")
    return n


def main(binary):
    rec = Recorder()
    with Cluster(binary, size=3, node_timeout_ms=500) as c:
        c.start()
        leader = c.leader()
        targets = Targets(c.nodes)
        keys = [f"m{i}" for i in range(6)]
        counters = ["mc0", "mc1"]
        until = time.monotonic() + 600
        workers = [Worker(i, targets, keys, counters, rec, until, 5.0, 7, True, True)
                   for i in range(3)]
        for w in workers:
            w.start()
        time.sleep(1.0)

        # A follower relays the change to the leader (proxy mode), like any write.
        follower = next(n for n in c.nodes if n is not leader)
        for bad, why in [(("ADD", "node-0", "127.0.0.1:1"), "already a member"),
                         (("ADD", "bad/name", "127.0.0.1:1"), "invalid node name"),
                         (("ADD", "fresh", "nowhere"), "invalid address"),
                         (("REMOVE", "ghost"), "no node 'ghost'"),
                         (("FROB",), "unknown subcommand")]:
            reply = node_change(c, follower, *bad)
            check(isinstance(reply, RespError) and why in str(reply),
                  f"RAFT.NODE {bad}: {reply!r}, expected '{why}'")

        # Grow 3 -> 5 under the workers' writes.
        grown = [add_node(c, follower, "node-3"), add_node(c, follower, "node-4")]
        targets.nodes.extend(grown)
        check(len([r for _, r in members(leader.port).values() if r == "voter"]) == 5,
              f"5 voters: {members(leader.port)}")
        for n in grown:
            check(info_raft(n.port).get("role") == "follower", f"{n.name} follows")
        time.sleep(1.0)

        # Shrink 5 -> 3: the leader first, then a follower.
        leader = c.leader()
        targets.nodes.remove(leader)
        via = next(n for n in targets.nodes if n is not leader)
        reply = node_change(c, via, "REMOVE", leader.name)
        check(reply == "OK" or (isinstance(reply, RespError) and str(reply).startswith("UNKNOWN")),
              f"REMOVE {leader.name} (the leader): {reply!r}")
        new_leader = c.leader(among=targets.nodes, seconds=20)
        wait_role(c, new_leader, leader.name, "")  # gone from the list
        removed = [leader]
        other = next(n for n in targets.nodes if n is not new_leader and n not in grown)
        targets.nodes.remove(other)
        check(node_change(c, new_leader, "REMOVE", other.name) == "OK", f"REMOVE {other.name}")
        removed.append(other)
        check(sorted(members(new_leader.port)) == sorted(n.name for n in targets.nodes),
              f"3 members left: {members(new_leader.port)}")
        # A removed node says so, and its name is never used again.
        def says_removed():
            try:
                call(other.port, "GET", "m0")
            except RespError as e:
                return "removed from the cluster" in str(e)
            return False
        check(wait_until(says_removed, 10), f"{other.name} does not say it was removed")
        reply = node_change(c, new_leader, "ADD", other.name, "127.0.0.1:1")
        check(isinstance(reply, RespError) and "never reused" in str(reply),
              f"re-adding a removed name: {reply!r}")
        # nodes.conf follows the committed configuration.
        with open(os.path.join(new_leader.dir, "nodes.conf")) as f:
            text = f.read()
        for n in targets.nodes:
            check(f"{n.name} 127.0.0.1:{n.cluster_port}\n" in text, f"nodes.conf lists {n.name}")
        check(f"# removed: {leader.name}" in text, f"nodes.conf remembers {leader.name}:\n{text}")

        # A removed node restarted with its old data cannot disturb the cluster.
        for n in removed:
            n.kill()
        removed[0].start()
        term = int(info_raft(new_leader.port)["term"])
        time.sleep(3.0)
        check(int(info_raft(new_leader.port)["term"]) == term,
              "the restarted removed node moved the cluster's term")
        check(c.leader(among=targets.nodes) is new_leader, "leadership changed")
        removed[0].kill()

        # Replace a node whose disk was lost: remove it, add a new node under a new name.
        victim = next(n for n in targets.nodes if n is not new_leader)
        victim.kill()
        shutil.rmtree(os.path.join(victim.dir, "data"))
        targets.nodes.remove(victim)
        check(node_change(c, new_leader, "REMOVE", victim.name) == "OK", f"REMOVE {victim.name}")
        replacement = add_node(c, new_leader, "node-5")
        targets.nodes.append(replacement)

        # One change at a time: with both followers paused the next change cannot commit, and a
        # second one is refused while it is in flight.
        leader = c.leader(among=targets.nodes)
        paused = [n for n in targets.nodes if n is not leader]
        for n in paused:
            n.signal(signal.SIGSTOP)
        first = {}
        def first_change():
            try:
                first["reply"] = call(leader.port, "RAFT.NODE", "ADD", "node-6",
                                      f"127.0.0.1:{free_port()}", "LEARNER", timeout=15)
            except Exception as e:  # noqa: BLE001 - any outcome is recorded
                first["reply"] = e
        t = threading.Thread(target=first_change)
        t.start()
        time.sleep(0.15)
        try:
            second = call(leader.port, "RAFT.NODE", "REMOVE", replacement.name, timeout=5)
        except RespError as e:
            second = e
        for n in paused:
            n.signal(signal.SIGCONT)
        t.join(30)
        check(isinstance(second, RespError) and "change is in progress" in str(second),
              f"a second change while one is uncommitted: {second!r}")
        wait_role(c, c.leader(among=targets.nodes), "node-6", "learner")
        check(node_change(c, c.leader(among=targets.nodes), "REMOVE", "node-6") == "OK",
              "REMOVE node-6")

        time.sleep(1.0)
        for w in workers:
            w.stop_event.set()
        for w in workers:
            w.join(30)
        errors = [w.error for w in workers if w.error]
        check(not errors, f"worker errors: {errors}")
        final_reads(targets, keys + counters, rec)
        oks = sum(1 for op in rec.ops if op.status == "ok")
        check(not rec.unexpected, f"unexpected replies: {rec.unexpected}")
        results = check_history(rec.ops, max_seconds=60)
        bad = [r for r in results.values() if r.verdict != "ok"]
        if bad:
            for r in bad:
                print(report(r))
        check(not bad, f"history not linearizable: {[(r.key, r.verdict) for r in bad]}")
        print(f"membership: {len(rec.ops)} operations ({oks} ok) linearizable through grow 3->5, "
              f"shrink 5->3 (leader removed), a replaced node and a refused concurrent change")


if __name__ == "__main__":
    main(sys.argv[1])
