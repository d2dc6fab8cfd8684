#!/usr/bin/env python3
"""A connection's commands take effect in order, as in Redis: in a pipeline, a read sees every
earlier write of its connection and no later one, on the leader and on a follower, and pipelined
writes are applied in the order sent. Usage: test_connection_order.py PATH/TO/prez-server"""
import sys
import time

from prez_harness import Client, Cluster, RespError, check, encode

PAIRS = 1000


def pipeline(port, commands, timeout=30.0):
    with Client(port, timeout=timeout) as c:
        c.send_raw(b"".join(encode(*cmd) for cmd in commands))
        return [c.read_reply() for _ in commands]


def push_and_count(port, key):
    """1000 x (RPUSH key i, LLEN key) in one pipeline: LLEN after the i-th push must say i + 1."""
    commands = []
    for i in range(PAIRS):
        commands.append(("RPUSH", key, i))
        commands.append(("LLEN", key))
    started = time.monotonic()
    replies = pipeline(port, commands)
    elapsed = time.monotonic() - started
    errors = [r for r in replies if isinstance(r, RespError)]
    check(not errors, f"errors in the pipeline: {errors[:3]}")
    pushes, counts = replies[0::2], replies[1::2]
    wrong = [(i, n) for i, n in enumerate(counts) if n != i + 1]
    check(not wrong, f"{len(wrong)} of {PAIRS} LLEN replies counted other pushes, first "
          f"(index, LLEN): {wrong[:5]}")
    check(pushes == list(range(1, PAIRS + 1)), "RPUSH replies are 1..1000 in order")
    return elapsed


def main(binary):
    with Cluster(binary, size=3, node_timeout_ms=500) as c:
        c.start()
        leader = c.leader()
        follower = next(n for n in c.nodes if n is not leader)
        c.write(leader, "warm", "up")

        t = push_and_count(follower.port, "on-follower")
        print(f"follower: {PAIRS} x (RPUSH, LLEN) in one pipeline, every LLEN exact ({t:.2f} s)")
        t = push_and_count(leader.port, "on-leader")
        print(f"leader: {PAIRS} x (RPUSH, LLEN) in one pipeline, every LLEN exact ({t:.2f} s)")

        # INCR then GET, interleaved, and a final list read in order.
        commands = []
        for _ in range(300):
            commands += [("INCR", "counter"), ("GET", "counter")]
        replies = pipeline(follower.port, commands)
        gets = [int(r) for r in replies[1::2]]
        check(gets == list(range(1, 301)), f"GET after INCR saw {gets[:10]}...")
        items = pipeline(leader.port, [("LRANGE", "on-follower", 0, -1)])[0]
        check(items == [str(i) for i in range(PAIRS)], "pipelined pushes applied in order")
        print("INCR/GET pipeline through a follower: every GET saw exactly its INCR")

        # A pure read pipeline still goes by ReadIndex, and pure write pipelines stay pipelined.
        started = time.monotonic()
        replies = pipeline(follower.port, [("SET", f"k{i}", i) for i in range(2000)])
        check(all(r == "OK" for r in replies), "2000 pipelined SETs answered OK")
        replies = pipeline(follower.port, [("GET", f"k{i}") for i in range(2000)])
        check(replies == [str(i) for i in range(2000)], "2000 pipelined GETs read their SETs")
        print(f"2000 SETs then 2000 GETs pipelined through a follower: "
              f"{time.monotonic() - started:.2f} s")


if __name__ == "__main__":
    main(sys.argv[1])
