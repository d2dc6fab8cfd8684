#!/usr/bin/env python3
"""Streams with real processes (issue 12): entries through the log, read on any node.

1. XADD through both followers and the leader: every node answers XRANGE with the same entries
   and IDs, and XINFO STREAM with the same counters.
2. XREAD BLOCK with "$" on each follower and on the leader, then one XADD on another node: every
   waiting client gets that entry (a read pops nothing), and only that one ("$" means after the
   last entry when the client blocked, decided in the log). In RESP3 the reply is a map.
3. IDs made by XADD ("*") grow strictly across a leader SIGKILL: writers on both followers add
   entries while the leader dies; the stream read afterwards on every node holds the same IDs,
   strictly increasing, and every acknowledged entry is there once (an -UNKNOWN answer may or
   may not have added its entry, never twice).

Usage: test_streams.py PATH/TO/prez-server"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prez_harness import (Client, Cluster, RespError, blocked_clients, call, check,  # noqa: E402
                          encode, wait_until)


def id_key(entry_id):
    ms, seq = entry_id.split("-")
    return int(ms), int(seq)


def part1(c, leader, f1, f2):
    ids = [call(node.port, "XADD", "s", "*", "from", node.name) for node in (f1, f2, leader)]
    check(sorted(ids, key=id_key) == ids, "IDs grow in the order the entries were added: %r" % ids)
    check(call(f1.port, "XADD", "s", "MAXLEN", "=", "2", "*", "from", "trim") is not None,
          "XADD with MAXLEN")
    ranges = [call(node.port, "XRANGE", "s", "-", "+") for node in c.nodes]
    check(all(r == ranges[0] for r in ranges) and len(ranges[0]) == 2,
          "every node reads the same two entries: %r" % ranges)
    infos = [call(node.port, "XINFO", "STREAM", "s") for node in c.nodes]
    check(all(i == infos[0] for i in infos), "XINFO STREAM agrees on every node: %r" % infos)
    check(infos[0][infos[0].index("entries-added") + 1] == 4, "entries-added counts every XADD")


def part2(c, leader, f1, f2):
    call(leader.port, "XADD", "w", "1-1", "old", "1")
    waiters = []
    for node in (f1, f2, leader):
        w = Client(node.port, timeout=10)
        w.send_raw(encode("XREAD", "BLOCK", "8000", "STREAMS", "w", "$"))
        waiters.append(w)
    w3 = Client(f2.port, timeout=10)
    check(w3.call("HELLO", "3")["proto"] == 3, "HELLO 3")
    w3.send_raw(encode("XREAD", "COUNT", "5", "BLOCK", "0", "STREAMS", "w", "$"))
    waiters.append(w3)
    # Every waiter counts as blocked before the entry comes (INFO clients, summed over nodes).
    check(wait_until(lambda: blocked_clients(f1) == 4, 10),
          "four clients block (blocked_clients %r)" % [blocked_clients(n) for n in c.nodes])
    new_id = call(f1.port, "XADD", "w", "*", "new", "2")
    got = [w.read_reply() for w in waiters]
    for w in waiters:
        w.close()
    expected = [["w", [[new_id, ["new", "2"]]]]]
    check(got[:3] == [expected] * 3, "each waiter got exactly the new entry: %r" % got)
    check(got[3] == {"w": [[new_id, ["new", "2"]]]}, "RESP3: a map of stream to entries: %r"
          % got[3])


def part3(c, leader, f1, f2):
    acked, unknown = [], []
    stop = threading.Event()
    lock = threading.Lock()

    def writer(node, name):
        n = 0
        while not stop.is_set():
            n += 1
            value = "%s-%d" % (name, n)
            try:
                entry_id = call(node.port, "XADD", "f", "*", "v", value, timeout=5)
                with lock:
                    acked.append((entry_id, value))
            except RespError as e:
                with lock:
                    unknown.append((value, str(e)))
                time.sleep(0.05)
            except OSError as e:
                with lock:
                    unknown.append((value, repr(e)))
                time.sleep(0.05)

    threads = [threading.Thread(target=writer, args=(node, node.name)) for node in (f1, f2)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    leader.kill()
    time.sleep(1.5)
    leader.start()
    time.sleep(1.5)
    stop.set()
    for t in threads:
        t.join(20)
    check(len(acked) > 20, "writers were acknowledged through the failover (%d)" % len(acked))
    for e in unknown:
        check(e[1].startswith(("UNKNOWN", "CLUSTERDOWN", "TRYAGAIN")) or "Connection" in e[1],
              "only failover errors: %r" % (e,))
    new_leader = c.leader()
    check(wait_until(lambda: len({len(call(n.port, "XRANGE", "f", "-", "+")) for n in c.nodes})
                     == 1, 20), "every node catches up")
    entries = call(new_leader.port, "XRANGE", "f", "-", "+")
    ids = [e[0] for e in entries]
    check(all(id_key(a) < id_key(b) for a, b in zip(ids, ids[1:])), "IDs strictly increase")
    values = [e[1][1] for e in entries]
    check(len(values) == len(set(values)), "no entry was added twice")
    by_value = {e[1][1]: e[0] for e in entries}
    for entry_id, value in acked:
        check(by_value.get(value) == entry_id, "acknowledged %s %s is in the stream" % (
            entry_id, value))
    for node in c.nodes:
        check(call(node.port, "XRANGE", "f", "-", "+") == entries, "%s reads the same" % node.name)
    print("part 3: %d acknowledged, %d failover errors, %d entries" % (
        len(acked), len(unknown), len(entries)))


def main(binary):
    with Cluster(binary, 3, node_timeout_ms=500) as c:
        c.start()
        leader = c.leader()
        f1, f2 = [n for n in c.nodes if n is not leader]
        part1(c, leader, f1, f2)
        part2(c, leader, f1, f2)
        part3(c, leader, f1, f2)
    print("test_streams: ok")


if __name__ == "__main__":
    main(sys.argv[1])
