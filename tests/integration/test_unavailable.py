#!/usr/bin/env python3
"""Without a majority, prez answers honestly and in bounded time: a write proposed by a leader that
lost its followers gets -UNKNOWN (never a definite failure); a read gets -CLUSTERDOWN; a lone
survivor answers -CLUSTERDOWN. Once the majority is back, writes succeed again.
Usage: test_unavailable.py PATH/TO/prez-server"""
import signal
import sys
import time

from prez_harness import Cluster, RespError, call, check

NODE_TIMEOUT_MS = 500
# Session bounds in the server for this timeout: wait for a leader max(3 s, 3T), write outcome
# max(5 s, 5T); the gateway gives up after their sum plus 3 s.
REPLY_BOUND_S = 3 + 5 + 3


def timed_error(port, *args):
    t0 = time.monotonic()
    try:
        reply = call(port, *args, timeout=REPLY_BOUND_S + 5)
    except RespError as e:
        return str(e), time.monotonic() - t0
    return reply, time.monotonic() - t0


def main(binary):
    with Cluster(binary, size=3, node_timeout_ms=NODE_TIMEOUT_MS) as c:
        c.start()
        leader = c.leader()
        followers = [n for n in c.nodes if n is not leader]
        check(c.write(leader, "k", "before"), "first write")
        for f in followers:
            f.signal(signal.SIGSTOP)
        try:
            reply, took = timed_error(leader.port, "SET", "k", "during")
            print(f"write with the followers paused: {reply!r} after {took:.1f} s")
            check(isinstance(reply, str) and reply.startswith(("UNKNOWN", "CLUSTERDOWN")),
                  f"write without a majority: {reply!r}")
            check(took <= REPLY_BOUND_S, f"write answer took {took:.1f} s")
            reply, took = timed_error(leader.port, "GET", "k")
            print(f"read with the followers paused: {reply!r} after {took:.1f} s")
            check(isinstance(reply, str) and reply.startswith("CLUSTERDOWN"),
                  f"read without a majority: {reply!r}")
            check(took <= REPLY_BOUND_S, f"read answer took {took:.1f} s")
        finally:
            for f in followers:
                f.signal(signal.SIGCONT)
        check(c.write(followers[0], "k", "after", seconds=15), "write after the majority returned")
        check(call(followers[1].port, "GET", "k") == "after", "read after the majority returned")

        # A lone survivor: the other two are killed.
        survivor = followers[1]
        for n in c.nodes:
            if n is not survivor:
                n.kill()
        reply, took = timed_error(survivor.port, "SET", "x", "1")
        print(f"write on a lone survivor: {reply!r} after {took:.1f} s")
        check(isinstance(reply, str) and reply.startswith(("CLUSTERDOWN", "UNKNOWN")),
              f"lone survivor write: {reply!r}")
        check(took <= REPLY_BOUND_S, f"lone survivor answer took {took:.1f} s")
        reply, took = timed_error(survivor.port, "GET", "x")
        print(f"read on a lone survivor: {reply!r} after {took:.1f} s")
        check(isinstance(reply, str) and reply.startswith("CLUSTERDOWN"), f"lone read: {reply!r}")


if __name__ == "__main__":
    main(sys.argv[1])
