#!/usr/bin/env python3
"""Blocking pops with real processes (issue 12): BLPOP & co through the log, on any node.

1. Three clients on three nodes block on one list; one RPUSH of three elements serves them in the
   order they blocked, one element each (FIFO across nodes).
2. A timeout answers nil after about its time, and the client no longer counts as blocked.
3. A client that disconnects while blocked leaves the queue: a later push stays in the list.
4. Commands pipelined behind a blocking command run after it is served, as in Redis.
5. A client blocked on a follower keeps its place when the leader is SIGKILLed: a push through
   the new leader serves it exactly once.
6. Consumers on two followers pop a stream of pushes while the leader is killed: no element is
   delivered twice, and every element pushed is delivered or still in the list, or its pop or push
   answered -UNKNOWN.

Usage: test_blocking.py PATH/TO/prez-server"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prez_harness import (Client, Cluster, RespError, blocked_clients, call, check,  # noqa: E402
                          encode, wait_until)


def block(node, *command):
    """Opens a connection on `node` and sends a blocking command without reading its reply."""
    c = Client(node.port, timeout=30)
    c.send_raw(encode(*command))
    return c


def main(binary):
    with Cluster(binary, 3, node_timeout_ms=500) as c:
        c.start()
        leader = c.leader()
        f1, f2 = [n for n in c.nodes if n is not leader]

        # 1. FIFO across nodes.
        waiters = []
        for i, node in enumerate([f1, f2, leader]):
            waiters.append(block(node, "BLPOP", "q", "0"))
            check(wait_until(lambda: blocked_clients(f1) == i + 1, 10),
                  "client %d counts as blocked (blocked_clients %d)" % (i + 1, blocked_clients(f1)))
        check(call(leader.port, "RPUSH", "q", "a", "b", "c") == 3, "RPUSH answers the length")
        got = [w.read_reply() for w in waiters]
        check(got == [["q", "a"], ["q", "b"], ["q", "c"]], "served in blocking order: %r" % got)
        for w in waiters:
            w.close()
        check(call(f2.port, "EXISTS", "q") == 0, "the list was emptied")

        # 2. A timeout.
        with Client(f1.port, timeout=10) as cl:
            start = time.monotonic()
            reply = cl.call("BRPOP", "empty", "0.4")
            took = time.monotonic() - start
        check(reply is None, "a timed out BRPOP answers nil: %r" % (reply,))
        check(0.35 <= took <= 5, "BRPOP 0.4 answered after %.2f s" % took)
        check(wait_until(lambda: blocked_clients(f1) == 0, 5), "nobody blocked after the timeout")

        # 3. A client that leaves while blocked.
        gone = block(f2, "BLPOP", "d", "0")
        check(wait_until(lambda: blocked_clients(f2) == 1, 10), "the leaving client blocked")
        gone.close()
        check(wait_until(lambda: blocked_clients(f2) == 0, 10), "a closed connection leaves the queue")
        call(leader.port, "RPUSH", "d", "kept")
        check(call(f1.port, "LRANGE", "d", "0", "-1") == ["kept"], "nobody took the element")

        # 4. Commands behind a blocking one wait for it.
        p = Client(f1.port, timeout=30)
        p.send_raw(encode("BLPOP", "e", "0") + encode("SET", "after", "1") + encode("GET", "after"))
        check(wait_until(lambda: blocked_clients(f1) == 1, 10), "the pipelining client blocked")
        time.sleep(0.3)
        check(call(f2.port, "GET", "after") is None, "the SET behind BLPOP has not run yet")
        call(f2.port, "RPUSH", "e", "v")
        check([p.read_reply() for _ in range(3)] == [["e", "v"], "OK", "1"],
              "BLPOP, then the SET and GET behind it")
        p.close()

        # 4b. CLIENT UNBLOCK from another connection of the node, as a timeout or an error.
        u = Client(f2.port, timeout=10)
        cid = u.call("CLIENT", "ID")
        check(call(f2.port, "CLIENT", "UNBLOCK", str(cid)) == 0, "nothing to unblock yet")
        u.send_raw(encode("BLPOP", "u", "0"))
        check(wait_until(lambda: blocked_clients(f2) == 1, 10), "blocked before CLIENT UNBLOCK")
        check(call(f2.port, "CLIENT", "UNBLOCK", str(cid)) == 1, "CLIENT UNBLOCK answers 1")
        check(u.read_reply() is None, "unblocked as by a timeout")
        u.send_raw(encode("BRPOP", "u", "0"))
        check(wait_until(lambda: blocked_clients(f2) == 1, 10), "blocked again")
        check(call(f2.port, "CLIENT", "UNBLOCK", str(cid), "ERROR") == 1, "ERROR mode")
        reply = u.read_reply()
        check(str(reply) == "UNBLOCKED client unblocked via CLIENT UNBLOCK", "error: %r" % reply)
        u.close()
        check(wait_until(lambda: blocked_clients(f2) == 0, 10), "nobody blocked on f2 before part 5")

        # 5. The leader dies while a follower's client is blocked.
        w = block(f1, "BLPOP", "lk", "0")
        check(wait_until(lambda: blocked_clients(f2) == 1, 10), "blocked before the failover")
        leader.kill()
        new_leader = c.leader(among=[f1, f2], seconds=20)
        check(call(f2.port, "RPUSH", "lk", "v1", "v2", timeout=10) == 2, "RPUSH after failover")
        check(w.read_reply() == ["lk", "v1"], "the blocked client got the first element once")
        w.close()
        check(call(new_leader.port, "LRANGE", "lk", "0", "-1") == ["v2"], "the second stays")
        leader.start()
        check(wait_until(lambda: blocked_clients(leader) == 0, 20), "the old leader is back")

        # 6. Consumers and a producer across a leader kill.
        consume_through_failover(c)
    print("blocking: ok")


def consume_through_failover(c):
    leader = c.leader()
    followers = [n for n in c.nodes if n is not leader]
    total = 300
    received = []
    unknown_pops = [0]
    stop = threading.Event()
    lock = threading.Lock()

    def consumer(node):
        cl = None
        while not stop.is_set():
            try:
                if cl is None:
                    cl = Client(node.port, timeout=20)
                reply = cl.call("BLPOP", "jobs", "0.5")
                if reply is not None:
                    with lock:
                        received.append(reply[1])
            except RespError as e:
                if str(e).startswith("UNKNOWN"):
                    with lock:
                        unknown_pops[0] += 1
                time.sleep(0.05)
            except (OSError, ValueError):
                if cl is not None:
                    cl.close()
                cl = None
                time.sleep(0.1)
        if cl is not None:
            cl.close()

    threads = [threading.Thread(target=consumer, args=(n,)) for n in followers]
    for t in threads:
        t.start()
    pushed, unknown_pushes, errors = [], [], {}
    producer = followers[0]
    for i in range(total):
        item = "job%d" % i
        try:
            call(producer.port, "RPUSH", "jobs", item, timeout=10)
            pushed.append(item)
        except RespError as e:
            errors[str(e)[:40]] = errors.get(str(e)[:40], 0) + 1
            (unknown_pushes if str(e).startswith("UNKNOWN") else []).append(item)
        except ConnectionRefusedError as e:
            errors[repr(e)[:40]] = errors.get(repr(e)[:40], 0) + 1  # not pushed
        except OSError as e:
            errors[repr(e)[:40]] = errors.get(repr(e)[:40], 0) + 1
            unknown_pushes.append(item)
        if i == total // 3:
            leader.kill()
    c.leader(among=followers, seconds=20)
    wait_until(lambda: len(received) >= len(pushed), 20)
    stop.set()
    for t in threads:
        t.join(30)
    left = call(followers[1].port, "LRANGE", "jobs", "0", "-1", timeout=10) or []
    print("errors of pushes: %r" % errors)
    print("pushed %d (%d unknown), received %d, %d pops answered -UNKNOWN, %d left" %
          (len(pushed), len(unknown_pushes), len(received), unknown_pops[0], len(left)))
    check(len(received) == len(set(received)), "no element delivered twice")
    everything = received + left
    check(len(everything) == len(set(everything)), "no element both delivered and still listed")
    missing = [x for x in pushed if x not in set(everything)]
    check(len(missing) <= unknown_pops[0],
          "every pushed element was delivered or is listed, except at most one per -UNKNOWN pop: "
          "missing %r" % missing[:5])
    strays = [x for x in everything if x not in set(pushed) and x not in set(unknown_pushes)]
    check(not strays, "nothing delivered that was never pushed: %r" % strays[:5])
    leader.start()
    c.leader(seconds=20)


if __name__ == "__main__":
    main(sys.argv[1])
