#!/usr/bin/env python3
"""Keyspace notifications with real processes (issue 12, docs/decisions.md D32): every node
publishes the events of the entries it applies, so subscribers on different nodes hear the same
events in the same order (the commit order), expiry included.

1. CONFIG SET notify-keyspace-events KEA on each node (node-local); CONFIG GET answers Redis's
   canonical "AKE"; a bad letter gets Redis's error.
2. Subscribers on the leader and on a follower; writes sent to the other follower: both hear
   the same (channel, payload) pairs in the same order, Redis's events, and `expired` for a
   key set with PX (once the log moves past its deadline: a read's clock entry here).
3. Reads publish nothing; turning notifications off on one node silences only that node.

Usage: test_keyspace_events.py PATH/TO/prez-server"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prez_harness import Client, Cluster, RespError, call, check, encode  # noqa: E402


def subscriber(node):
    c = Client(node.port, timeout=20)
    c.send_raw(encode("PSUBSCRIBE", "__key*@0__:*"))
    check(c.read_reply() == ["psubscribe", "__key*@0__:*", 1], "psubscribe confirmation")
    c.send_raw(encode("SUBSCRIBE", "sentinel"))
    check(c.read_reply() == ["subscribe", "sentinel", 2], "subscribe confirmation")
    return c


def pairs_until(sub, last):
    """(channel, payload) pairs heard until `last` is heard (included)."""
    got = []
    while not got or got[-1] != last:
        reply = sub.read_reply()
        check(reply[0] in ("pmessage", "message"), "a message frame: %r" % (reply,))
        got.append((reply[-2], reply[-1]))
    return got


def both(key, event):
    return [("__keyspace@0__:" + key, event), ("__keyevent@0__:" + event, key)]


def main(binary):
    with Cluster(binary, 3, node_timeout_ms=500) as c:
        c.start()
        leader = c.leader()
        f1, f2 = [n for n in c.nodes if n is not leader]

        # 1. Node-local configuration, Redis's text and error.
        for n in c.nodes:
            check(call(n.port, "CONFIG", "SET", "notify-keyspace-events", "KEA") == "OK",
                  "CONFIG SET on node %s" % n.name)
            check(call(n.port, "CONFIG", "GET", "notify-keyspace-events") ==
                  ["notify-keyspace-events", "AKE"], "CONFIG GET answers Redis's canonical text")
        try:
            call(f1.port, "CONFIG", "SET", "notify-keyspace-events", "KEQ")
            check(False, "a bad letter is refused")
        except RespError as e:
            check("Invalid event class character. Use 'Ag$lshzxeKEtmdn'." in str(e),
                  "Redis's error for a bad letter: %s" % e)

        # 2. The same events in the same order on the leader and a follower.
        subs = [subscriber(leader), subscriber(f1)]
        with Client(f2.port, timeout=20) as w:
            for command in (("SET", "wa", "1"), ("INCR", "wc"), ("RPUSH", "wl", "a", "b"),
                            ("LPOP", "wl", "2"), ("DEL", "wa", "nope"), ("HSET", "wh", "f", "v"),
                            ("SADD", "ws", "m"), ("ZADD", "wz", "1", "m"),
                            ("SET", "wx", "v", "PX", "300"), ("RENAME", "wh", "wh2")):
                w.call(*command)
        expected = (both("wa", "set") + both("wc", "incrby") + both("wl", "rpush") +
                    both("wl", "lpop") + both("wl", "del") + both("wa", "del") +
                    both("wh", "hset") + both("ws", "sadd") + both("wz", "zadd") +
                    both("wx", "set") + both("wx", "expire") + both("wh", "rename_from") +
                    both("wh2", "rename_to") + both("wx", "expired"))
        # Expiry runs when the log moves on (docs/expiry.md): once the deadline has passed, any
        # read makes the leader append a clock entry, whose application expires wx everywhere.
        time.sleep(0.5)
        check(call(f2.port, "GET", "wx") is None, "wx expired")
        heard = [pairs_until(s, ("__keyevent@0__:expired", "wx")) for s in subs]
        check(heard[0] == expected, "the leader's subscriber hears Redis's events: %r" %
              (heard[0],))
        check(heard[1] == heard[0], "the follower's subscriber hears the same, in the same order")

        # 3. Reads publish nothing; a node with notifications off publishes nothing.
        time.sleep(0.2)
        for n in c.nodes:
            check(call(n.port, "GET", "wx") is None, "wx expired")
            call(n.port, "LRANGE", "wl", "0", "-1")
        check(call(f1.port, "CONFIG", "SET", "notify-keyspace-events", "") == "OK", "off on f1")
        call(f2.port, "SET", "wy", "1")
        call(f2.port, "PUBLISH", "sentinel", "end")
        check(pairs_until(subs[0], ("sentinel", "end")) == both("wy", "set") + [("sentinel", "end")],
              "the leader still publishes; reads published nothing")
        check(pairs_until(subs[1], ("sentinel", "end")) == [("sentinel", "end")],
              "f1 publishes nothing once its notifications are off")
        for s in subs:
            s.close()
    print("keyspace events: ok")


if __name__ == "__main__":
    main(sys.argv[1])
