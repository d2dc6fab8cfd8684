#!/usr/bin/env python3
"""MULTI/EXEC/DISCARD/WATCH through a follower, never crossing replies between clients, and
exactly-once INCR across a leader kill (acknowledged <= final <= acknowledged + unknown).
Usage: test_transactions.py PATH/TO/prez-server"""
import signal
import sys
import threading
import time

from prez_harness import Client, Cluster, RespError, call, check, encode

def main(binary):
    with Cluster(binary, size=3, node_timeout_ms=500) as c:
        c.start()
        leader = c.leader()
        f1, f2 = [n for n in c.nodes if n is not leader]
        check(c.write(f1, "warm", "up"), "first write")
        with Client(f1.port) as a:
            check(a.call("MULTI") == "OK", "MULTI")
            check(a.call("SET", "t", "1") == "QUEUED", "SET queued")
            check(a.call("INCR", "t") == "QUEUED", "INCR queued")
            check(a.call("GET", "t") == "QUEUED", "GET queued")
            check(a.call("EXEC") == ["OK", 2, "2"], "EXEC replies")
            try:
                a.call("EXEC")
                check(False, "EXEC without MULTI must fail")
            except RespError as e:
                check(str(e) == "ERR EXEC without MULTI", str(e))
            check(a.call("MULTI") == "OK" and a.call("SET", "t", "9") == "QUEUED", "MULTI again")
            check(a.call("DISCARD") == "OK", "DISCARD")
            check(a.call("GET", "t") == "2", "DISCARD applied nothing")
            # A refused command while queueing aborts the EXEC.
            a.call("MULTI")
            try:
                a.call("SET", "only-key")
            except RespError:
                pass
            try:
                a.call("EXEC")
                check(False, "EXEC after a queueing error must abort")
            except RespError as e:
                check(str(e).startswith("EXECABORT"), str(e))
            # WATCH: another client's change aborts the transaction.
            check(a.call("WATCH", "w") == "OK", "WATCH")
            check(call(f2.port, "SET", "w", "theirs") == "OK", "concurrent SET")
            a.call("MULTI")
            a.call("SET", "w", "mine")
            check(a.call("EXEC") is None, "EXEC after a watched change returns nil")
            check(call(leader.port, "GET", "w") == "theirs", "aborted EXEC changed nothing")
            check(a.call("WATCH", "w") == "OK", "WATCH again")
            a.call("MULTI")
            a.call("SET", "w", "mine")
            check(a.call("EXEC") == ["OK"], "EXEC with an unchanged watched key runs")
            check(call(f2.port, "GET", "w") == "mine", "the transaction applied")
        print("MULTI/EXEC/DISCARD/WATCH through a follower: ok")

        # Two clients pipelining transactions through the same follower: replies never cross.
        errors = []
        def txn_client(name):
            try:
                with Client(f1.port) as cl:
                    for i in range(50):
                        cl.send_raw(encode("MULTI") + encode("SET", name, f"{name}-{i}") +
                                    encode("GET", name) + encode("EXEC"))
                        replies = [cl.read_reply() for _ in range(4)]
                        if replies != ["OK", "QUEUED", "QUEUED", ["OK", f"{name}-{i}"]]:
                            errors.append((name, i, replies))
                            return
            except Exception as e:  # noqa: BLE001
                errors.append((name, repr(e)))
        threads = [threading.Thread(target=txn_client, args=(f"c{i}",)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        check(not errors, f"crossed or failed transaction replies: {errors[:3]}")
        print("4 clients x 50 pipelined transactions through one follower: replies never crossed")

        # Exactly-once INCR while the leader is killed.
        acked, unknown = 0, 0
        stop = time.monotonic() + 4
        killed = False
        with Client(f1.port, timeout=15) as cl:
            while time.monotonic() < stop:
                if not killed and time.monotonic() > stop - 3:
                    c.leader().signal(signal.SIGKILL)
                    killed = True
                try:
                    cl.call("INCR", "counter")
                    acked += 1
                except RespError as e:
                    if str(e).startswith("UNKNOWN"):
                        unknown += 1
                    elif not str(e).startswith(("CLUSTERDOWN", "TRYAGAIN")):
                        raise
        final = int(c.write(f1, "probe", "x") and call(f1.port, "GET", "counter"))
        print(f"INCR across a leader kill: acknowledged {acked}, unknown {unknown}, final {final}")
        check(acked <= final <= acked + unknown, "an INCR was lost or applied twice")


if __name__ == "__main__":
    main(sys.argv[1])
