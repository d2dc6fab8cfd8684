#!/usr/bin/env python3
"""Expiry never goes backwards, whatever the nodes' wall clocks do (docs/expiry.md, "Reads").

Every node runs under libfaketime (Debian's faketime) with its clock offset read from a file, so
the test can step one node's wall clock while it runs:
1. the leader's own clock steps back 3 s after a key with a short TTL was seen expired: the key
   stays gone on every node;
2. the followers' clocks are 3 s behind the leader's; a key with a short TTL is seen expired, then
   the leader is killed: the key stays gone through the new leader (whose clock is behind).
Usage: test_clock_skew.py PATH/TO/prez-server"""
import os
import signal
import sys
import time

from prez_harness import Cluster, RespError, call, check, wait_until

LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"


def set_offset(node, seconds):
    with open(os.path.join(node.dir, "clock-offset"), "w") as f:
        f.write("%+.1f\n" % seconds)


def get(node, key):
    try:
        return call(node.port, "GET", key, timeout=3)
    except (RespError, OSError) as e:
        return e


def expired_everywhere(nodes, key, seconds):
    """GET `key` through every node for `seconds`: returns the replies that were not nil."""
    bad = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for n in nodes:
            reply = get(n, key)
            if reply is not None and not isinstance(reply, (RespError, OSError)):
                bad.append((n.name, reply))
        time.sleep(0.05)
    return bad


def main(binary):
    check(os.path.exists(LIBFAKETIME), f"{LIBFAKETIME} missing: apt-get install faketime")
    with Cluster(binary, size=3, node_timeout_ms=500) as c:
        for n in c.nodes:
            set_offset(n, 0)
            n.env = {"LD_PRELOAD": LIBFAKETIME,
                     "FAKETIME_TIMESTAMP_FILE": os.path.join(n.dir, "clock-offset"),
                     "FAKETIME_CACHE_DURATION": "1",
                     "FAKETIME_DONT_FAKE_MONOTONIC": "1",
                     # Under ASan (the test command's second run) libfaketime is preloaded ahead
                     # of the sanitizer runtime, which ASan refuses unless told it is intended.
                     "ASAN_OPTIONS": ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"),
                                                            "verify_asan_link_order=0"]))}
        c.start()
        leader = c.leader()
        check(c.write(leader, "warm", "up"), "first write")

        # 1. The leader's clock steps back after the key was seen expired.
        check(call(leader.port, "SET", "a", "v", "PX", 700) == "OK", "SET a PX 700")
        check(wait_until(lambda: get(leader, "a") is None, 5), "a expires on the leader")
        set_offset(leader, -3.0)
        time.sleep(1.2)  # libfaketime re-reads the offset file at most once a second
        bad = expired_everywhere(c.nodes, "a", 2.0)
        check(not bad, f"after the leader's clock stepped back 3 s, an expired key came back: "
              f"{bad[:3]}")
        print("leader's clock stepped back 3 s: the expired key stayed expired on every node")
        set_offset(leader, 0)

        # 2. Failover to a node whose clock is 3 s behind.
        followers = [n for n in c.nodes if n is not leader]
        for n in followers:
            set_offset(n, -3.0)
        time.sleep(1.2)
        check(call(leader.port, "SET", "b", "v", "PX", 700) == "OK", "SET b PX 700")
        check(wait_until(lambda: get(leader, "b") is None, 5), "b expires on the leader")
        leader.kill()
        new_leader = c.leader(among=followers)
        bad = expired_everywhere(followers, "b", 2.0)
        check(not bad, f"after failing over to {new_leader.name} (clock 3 s behind), an expired "
              f"key came back: {bad[:3]}")
        print(f"failover to {new_leader.name}, clock 3 s behind: the expired key stayed expired")
        # Writes go on, and a fresh TTL still expires.
        check(c.write(new_leader, "c", "v"), "write after the failover")
        check(call(new_leader.port, "PEXPIRE", "c", 300) == 1, "PEXPIRE c 300")
        check(wait_until(lambda: get(new_leader, "c") is None, 5), "c expires on the new leader")
        print("a new TTL expires under the new leader")


if __name__ == "__main__":
    main(sys.argv[1])
