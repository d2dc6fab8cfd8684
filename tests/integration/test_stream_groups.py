#!/usr/bin/env python3
"""Stream consumer groups with real processes (issue 12): a work queue read on every node.

1. Readers of one group block with XREADGROUP ... BLOCK on both followers and the leader; entries
   added through another node are each delivered to exactly one of them (the group's last ID
   moves in the log), and every node then answers XINFO GROUPS and XPENDING the same.
2. A queue through a leader SIGKILL: producers add jobs through both followers, two consumers
   (one per follower) read with XREADGROUP ... > and XACK, while the leader is killed and
   restarted. Afterwards a recoverer takes what was delivered but never seen (a read answered
   -UNKNOWN may have delivered entries) with XAUTOCLAIM, as a client of Redis would. Checks:
   every acknowledged job was processed; no entry came to two readers through ">"; nothing is
   left pending; every node agrees.

Usage: test_stream_groups.py PATH/TO/prez-server"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prez_harness import (Client, Cluster, RespError, blocked_clients, call, check,  # noqa: E402
                          encode, wait_until)


def part1(c, leader, f1, f2):
    call(leader.port, "XGROUP", "CREATE", "w", "g", "$", "MKSTREAM")
    readers = []
    for i, node in enumerate((f1, f2, leader)):
        r = Client(node.port, timeout=10)
        r.send_raw(encode("XREADGROUP", "GROUP", "g", "r%d" % i, "COUNT", "1", "BLOCK", "8000",
                          "STREAMS", "w", ">"))
        readers.append(r)
    check(wait_until(lambda: blocked_clients(f1) == 3, 10), "three readers block")
    ids = [call(f2.port, "XADD", "w", "*", "n", str(i)) for i in range(3)]
    got = [r.read_reply() for r in readers]
    for r in readers:
        r.close()
    delivered = sorted(reply[0][1][0][0] for reply in got)
    check(delivered == sorted(ids), "each entry went to exactly one reader: %r" % got)
    groups = [call(n.port, "XINFO", "GROUPS", "w") for n in c.nodes]
    check(all(g == groups[0] for g in groups), "XINFO GROUPS agrees on every node: %r" % groups)
    check(groups[0][0][groups[0][0].index("pending") + 1] == 3, "three pending: %r" % groups)
    pending = [call(n.port, "XPENDING", "w", "g") for n in c.nodes]
    check(all(p == pending[0] for p in pending) and pending[0][0] == 3,
          "XPENDING agrees: %r" % pending)


def part2(c, leader, f1, f2):
    call(leader.port, "XGROUP", "CREATE", "jobs", "g", "$", "MKSTREAM")
    lock = threading.Lock()
    added = []          # IDs whose XADD was acknowledged
    seen = []           # (reader, id) from acknowledged XREADGROUP ... > replies
    errors = []
    stop_producers = threading.Event()
    stop_consumers = threading.Event()

    def producer(node, name):
        n = 0
        while not stop_producers.is_set():
            n += 1
            try:
                entry_id = call(node.port, "XADD", "jobs", "*", "job", "%s-%d" % (name, n),
                                timeout=5)
                with lock:
                    added.append(entry_id)
            except (RespError, OSError) as e:
                with lock:
                    errors.append(str(e))
                time.sleep(0.05)

    def consumer(node, name):
        while not stop_consumers.is_set():
            try:
                reply = call(node.port, "XREADGROUP", "GROUP", "g", name, "COUNT", "20", "BLOCK",
                             "300", "STREAMS", "jobs", ">", timeout=5)
                if not reply:
                    continue
                ids = [e[0] for e in reply[0][1]]
                with lock:
                    seen.extend((name, i) for i in ids)
                call(node.port, "XACK", "jobs", "g", *ids, timeout=5)
            except (RespError, OSError) as e:
                with lock:
                    errors.append(str(e))
                time.sleep(0.05)

    producers = [threading.Thread(target=producer, args=(n, n.name)) for n in (f1, f2)]
    consumers = [threading.Thread(target=consumer, args=(n, "c-" + n.name)) for n in (f1, f2)]
    for t in producers + consumers:
        t.start()
    time.sleep(1.0)
    leader.kill()
    time.sleep(1.5)
    leader.start()
    time.sleep(1.5)
    stop_producers.set()
    for t in producers:
        t.join(20)
    # Let the consumers drain what is left, then stop them.
    new_leader = c.leader()
    check(wait_until(lambda: lag(new_leader) == 0, 20), "the consumers read every entry")
    stop_consumers.set()
    for t in consumers:
        t.join(20)
    for e in errors:
        check(e.startswith(("UNKNOWN", "CLUSTERDOWN", "TRYAGAIN")) or "onnection" in e
              or "timed out" in e, "only failover errors: %r" % e)
    # What a read answered -UNKNOWN (or lost with its connection) delivered stays pending: the
    # recoverer claims it, as Redis's own clients recover from a lost reply.
    recovered = []
    cursor = "0-0"
    for _ in range(100):
        cursor, claimed, _deleted = call(new_leader.port, "XAUTOCLAIM", "jobs", "g", "recoverer",
                                         "0", cursor, "COUNT", "100", "JUSTID")
        if claimed:
            recovered.extend(claimed)
            call(new_leader.port, "XACK", "jobs", "g", *claimed)
        if cursor == "0-0":
            break
    check(len(added) > 20, "producers were acknowledged through the failover (%d)" % len(added))
    by_reader = [i for _, i in seen]
    check(len(by_reader) == len(set(by_reader)),
          "no entry came to two readers through '>' (%d reads)" % len(by_reader))
    processed = set(by_reader) | set(recovered)
    missing = [i for i in added if i not in processed]
    check(not missing, "every acknowledged job was processed: missing %r" % missing[:5])
    check(wait_until(lambda: all(call(n.port, "XPENDING", "jobs", "g")[0] == 0 for n in c.nodes),
                     20), "nothing is left pending on any node")
    check(wait_until(lambda: len({repr(call(n.port, "XINFO", "GROUPS", "jobs"))
                                  for n in c.nodes}) == 1, 20),
          "every node agrees on the group")
    print("part 2: %d jobs acknowledged, %d read by consumers, %d recovered, %d failover errors"
          % (len(added), len(by_reader), len(recovered), len(errors)))


def lag(node):
    try:
        groups = call(node.port, "XINFO", "GROUPS", "jobs", timeout=2)
    except (RespError, OSError):
        return None
    group = groups[0]
    length = call(node.port, "XLEN", "jobs", timeout=2)
    last = call(node.port, "XINFO", "STREAM", "jobs", timeout=2)
    last_id = last[last.index("last-generated-id") + 1]
    return 0 if group[group.index("last-delivered-id") + 1] == last_id or length == 0 else 1


def main(binary):
    with Cluster(binary, 3, node_timeout_ms=500) as c:
        c.start()
        leader = c.leader()
        f1, f2 = [n for n in c.nodes if n is not leader]
        part1(c, leader, f1, f2)
        part2(c, leader, f1, f2)
    print("test_stream_groups: ok")


if __name__ == "__main__":
    main(sys.argv[1])
