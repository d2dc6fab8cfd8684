#!/usr/bin/env python3
"""Pub/sub with real processes (issue 12): PUBLISH goes through the log, so every subscriber on
every node hears every message of a channel, in one order (the commit order).

1. Subscribers on all three nodes (channel and pattern); publishers on two different nodes
   publish interleaved, pipelined: every subscriber receives all messages, each exactly once, in
   the same order, and each publisher's messages in the order it sent them.
2. PUBLISH answers the number of receivers on the publisher's node; PUBSUB NUMSUB/NUMPAT/
   CHANNELS describe the node asked.
3. A subscriber that disconnects is forgotten (NUMSUB drops); RESET unsubscribes.
4. RESP3 subscribers get pushes and may run other commands meanwhile.
5. CLIENT REPLY OFF/SKIP/ON drop replies, never pushes.

Usage: test_pubsub.py PATH/TO/prez-server"""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prez_harness import Client, Cluster, call, check, encode, wait_until  # noqa: E402

MESSAGES = 300


def subscribe(node, command, *names):
    c = Client(node.port, timeout=20)
    c.send_raw(encode(command, *names))
    for _ in names:
        c.read_reply()
    return c


def main(binary):
    with Cluster(binary, 3, node_timeout_ms=500) as c:
        c.start()
        leader = c.leader()
        f1, f2 = [n for n in c.nodes if n is not leader]

        # 1. One order everywhere.
        subs = [subscribe(n, "SUBSCRIBE", "ch") for n in (leader, f1, f2)]
        psub = subscribe(f2, "PSUBSCRIBE", "c*")

        def publish(node, tag):
            with Client(node.port, timeout=30) as p:
                p.send_raw(b"".join(encode("PUBLISH", "ch", "%s%d" % (tag, i))
                                    for i in range(MESSAGES)))
                for _ in range(MESSAGES):
                    p.read_reply()

        threads = [threading.Thread(target=publish, args=(n, t)) for n, t in ((f1, "a"), (f2, "b"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        heard = []
        for s in subs + [psub]:
            got = []
            for _ in range(2 * MESSAGES):
                reply = s.read_reply()
                got.append(reply[-1])
                check(reply[0] in ("message", "pmessage"), "a message frame: %r" % (reply,))
            heard.append(got)
        for got in heard:
            check(len(set(got)) == 2 * MESSAGES, "every message exactly once")
            check(got == heard[0], "one order on every node and every subscription")
            for tag in "ab":
                mine = [m for m in got if m.startswith(tag)]
                check(mine == ["%s%d" % (tag, i) for i in range(MESSAGES)],
                      "publisher %s's messages in the order sent" % tag)

        # 2. Counts are the node's.
        check(call(f2.port, "PUBLISH", "ch", "x") == 2, "f2 has a channel and a pattern receiver")
        check(call(f1.port, "PUBLISH", "ch", "y") == 1, "f1 has one receiver")
        check(call(f1.port, "PUBLISH", "other", "z") == 0, "nobody on 'other'")
        check(call(f2.port, "PUBSUB", "NUMSUB", "ch", "zz") == ["ch", 1, "zz", 0], "NUMSUB")
        check(call(f2.port, "PUBSUB", "NUMPAT") == 1, "NUMPAT")
        check(call(f1.port, "PUBSUB", "CHANNELS") == ["ch"], "CHANNELS")
        # Inside EXEC too, PUBLISH answers its node's receivers (as Redis answers it there).
        es = subscribe(f2, "SUBSCRIBE", "exec-ch")
        with Client(f2.port, timeout=10) as t:
            t.send_raw(encode("MULTI") + encode("PUBLISH", "exec-ch", "in-exec") +
                       encode("SET", "after-publish", "1") + encode("PUBLISH", "nobody", "n") +
                       encode("EXEC") + encode("GET", "after-publish"))
            replies = [t.read_reply() for _ in range(6)]
            check(replies[4] == [1, "OK", 0], "EXEC's PUBLISH counts f2's receivers: %r" %
                  (replies,))
            check(replies[5] == "1", "a command after EXEC runs after it")
        check(es.read_reply() == ["message", "exec-ch", "in-exec"], "the message came")
        es.close()

        # 3. Departures.
        subs[1].close()
        check(wait_until(lambda: call(f1.port, "PUBSUB", "NUMSUB", "ch") == ["ch", 0], 10),
              "a closed subscriber is forgotten")
        psub.send_raw(encode("RESET"))
        replies = [psub.read_reply() for _ in range(3)]
        check(replies[-1] == "RESET", "RESET answers after the messages still queued: %r" %
              (replies,))
        check(call(f2.port, "PUBSUB", "NUMPAT") == 0, "RESET drops the patterns")

        # 4. RESP3.
        r3 = Client(f1.port, timeout=10)
        r3.send_raw(encode("HELLO", "3"))
        r3.read_reply()
        r3.send_raw(encode("SUBSCRIBE", "ch3"))
        check(r3.read_reply() == ["subscribe", "ch3", 1], "RESP3 subscribe confirmation")
        r3.send_raw(encode("SET", "k3", "v"))
        check(r3.read_reply() == "OK", "a RESP3 subscriber runs other commands")
        call(leader.port, "PUBLISH", "ch3", "pushed")
        check(r3.read_reply() == ["message", "ch3", "pushed"], "the push arrives")
        r3.close()

        # 5. CLIENT REPLY OFF / SKIP / ON: replies dropped, pushes still delivered (as Redis).
        q = Client(f1.port, timeout=10)
        q.send_raw(encode("HELLO", "3"))
        q.read_reply()
        q.send_raw(encode("CLIENT", "REPLY", "OFF") + encode("SET", "quiet", "1") +
                   encode("SUBSCRIBE", "ch5") + encode("GET", "quiet"))
        check(q.read_reply() == ["subscribe", "ch5", 1],
              "with replies off only the subscription's push comes")
        call(leader.port, "PUBLISH", "ch5", "still")
        check(q.read_reply() == ["message", "ch5", "still"], "messages still come")
        q.send_raw(encode("CLIENT", "REPLY", "ON") + encode("CLIENT", "REPLY", "SKIP") +
                   encode("ECHO", "skipped") + encode("ECHO", "seen"))
        check(q.read_reply() == "OK", "CLIENT REPLY ON answers")
        check(q.read_reply() == "seen", "SKIP drops exactly the next reply")
        check(call(f1.port, "GET", "quiet") == "1", "a silenced write still applies")
        q.close()
        for s in subs:
            s.close()
        psub.close()
    print("pubsub: ok")


if __name__ == "__main__":
    main(sys.argv[1])
