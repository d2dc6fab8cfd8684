#!/usr/bin/env python3
"""Connection commands inside MULTI (docs/decisions.md D30): CONFIG, CLIENT, INFO, PING, ECHO,
AUTH, UNWATCH are queued and run by the connection at EXEC, their replies in EXEC's array at their
places, in RESP2 and RESP3; an EXEC holding only them never touches the log; a WATCH-aborted EXEC
runs none of them; Redis's refusals inside MULTI stay.
Usage: test_multi_local.py PATH/TO/prez-server"""
import sys

from prez_harness import Client, Cluster, RespError, call, check, encode, wait_until


def commit_index(port):
    text = call(port, "INFO", "raft")
    return int(dict(l.split(":", 1) for l in text.splitlines() if ":" in l)["commit_index"])


def expect_error(reply, prefix, what):
    check(isinstance(reply, RespError) and str(reply).startswith(prefix),
          f"{what}: expected an error starting with {prefix!r}, got {reply!r}")


def resp2(node, other):
    with Client(node.port) as a:
        # Redis's own example: CONFIG SET's error in its place, the SET applied.
        check(a.call("MULTI") == "OK", "MULTI")
        check(a.call("SET", "foo", "bar") == "QUEUED", "SET queued")
        check(a.call("CONFIG", "SET", "maxmemory", "bla") == "QUEUED", "CONFIG SET queued")
        replies = a.call("EXEC")
        check(len(replies) == 2 and replies[0] == "OK", f"EXEC replies {replies!r}")
        expect_error(replies[1], "ERR CONFIG SET failed (possibly related to argument 'maxmemory')",
                     "CONFIG SET inside MULTI")
        check(call(other.port, "GET", "foo") == "bar", "the SET applied")

        # Mixed: every reply at its place, connection state changed by EXEC.
        a.call("MULTI")
        for cmd in (("CLIENT", "SETNAME", "alice"), ("PING",), ("INCR", "n"), ("INFO", "server"),
                    ("CLIENT", "GETNAME"), ("ECHO", "e"), ("GET", "n"), ("CONFIG", "GET", "maxmemory"),
                    ("AUTH", "x"), ("UNWATCH",)):
            check(a.call(*cmd) == "QUEUED", f"{cmd} queued")
        r = a.call("EXEC")
        check(len(r) == 10, f"EXEC has one reply per command: {r!r}")
        check(r[0] == "OK" and r[1] == "PONG" and r[2] == 1, f"EXEC replies {r!r}")
        check(isinstance(r[3], str) and "redis_version:" in r[3], "INFO inside EXEC")
        check(r[4] == "alice" and r[5] == "e" and r[6] == "1", f"EXEC replies {r!r}")
        check(r[7] == ["maxmemory", "0"], f"CONFIG GET inside EXEC: {r[7]!r}")
        expect_error(r[8], "ERR AUTH", "AUTH inside EXEC")
        check(r[9] == "OK", "UNWATCH inside EXEC")
        check(a.call("CLIENT", "GETNAME") == "alice", "CLIENT SETNAME inside EXEC took effect")

        # Pipelined: what follows EXEC sees its connection commands' effects.
        a.send_raw(encode("MULTI") + encode("CLIENT", "SETNAME", "bob") + encode("SET", "p", "1") +
                   encode("EXEC") + encode("CLIENT", "GETNAME") + encode("PING"))
        got = [a.read_reply() for _ in range(6)]
        check(got == ["OK", "QUEUED", "QUEUED", ["OK", "OK"], "bob", "PONG"],
              f"pipelined replies {got!r}")

        # Only connection commands: never through the log.
        before = commit_index(other.port)
        a.call("MULTI")
        a.call("PING")
        a.call("ECHO", "x")
        a.call("TIME")
        r = a.call("EXEC")
        check(r[:2] == ["PONG", "x"] and len(r) == 3 and len(r[2]) == 2, f"local EXEC {r!r}")
        check(commit_index(other.port) == before, "an EXEC of connection commands used the log")

        # A WATCH-aborted EXEC runs none of them.
        check(a.call("WATCH", "w") == "OK", "WATCH")
        check(call(other.port, "SET", "w", "theirs") == "OK", "concurrent SET")
        a.call("MULTI")
        a.call("CLIENT", "SETNAME", "carol")
        a.call("SET", "w", "mine")
        check(a.call("EXEC") is None, "EXEC after a watched change returns nil")
        check(a.call("CLIENT", "GETNAME") == "bob", "an aborted EXEC ran CLIENT SETNAME")
        check(call(other.port, "GET", "w") == "theirs", "an aborted EXEC applied SET")
        # WATCH with only connection commands (checked through the log) or nothing queued.
        a.call("WATCH", "w")
        a.call("MULTI")
        a.call("PING")
        check(a.call("EXEC") == ["PONG"], "WATCH then a connection command")
        a.call("WATCH", "w")
        a.call("MULTI")
        check(a.call("EXEC") == [], "WATCH then an empty EXEC")
        a.call("WATCH", "w")
        call(other.port, "SET", "w", "again")
        a.call("MULTI")
        a.call("PING")
        check(a.call("EXEC") is None, "WATCH abort with only a connection command")

        # Redis's refusals stay.
        a.call("MULTI")
        expect_error(a.send_raw(encode("WATCH", "x")) or a.read_reply(),
                     "ERR WATCH inside MULTI is not allowed", "WATCH inside MULTI")
        expect_error(a.send_raw(encode("MULTI")) or a.read_reply(),
                     "ERR MULTI calls can not be nested", "nested MULTI")
        check(a.call("PING") == "QUEUED", "PING queued")
        check(a.call("EXEC") == ["PONG"], "EXEC after WATCH/MULTI errors runs")
        a.call("MULTI")
        expect_error(a.send_raw(encode("SUBSCRIBE", "ch")) or a.read_reply(),
                     "ERR Command not allowed inside a transaction", "SUBSCRIBE inside MULTI")
        expect_error(a.send_raw(encode("EXEC")) or a.read_reply(), "EXECABORT",
                     "EXEC after SUBSCRIBE")
        # RESET acts at once inside MULTI.
        a.call("MULTI")
        a.call("SET", "r", "1")
        check(a.call("RESET") == "RESET", "RESET inside MULTI")
        expect_error(a.send_raw(encode("EXEC")) or a.read_reply(), "ERR EXEC without MULTI",
                     "EXEC after RESET")
    # A protocol error read behind such an EXEC is answered after what came before it.
    with Client(node.port) as a:
        a.send_raw(encode("MULTI") + encode("CLIENT", "SETNAME", "z") + encode("SET", "q", "1") +
                   encode("EXEC") + encode("PING") + b"*1\r\n$x\r\n")
        got = [a.read_reply() for _ in range(6)]
        check(got[:5] == ["OK", "QUEUED", "QUEUED", ["OK", "OK"], "PONG"], f"replies {got!r}")
        expect_error(got[5], "ERR Protocol error", "protocol error behind EXEC")
    print("RESP2: connection commands inside MULTI run at EXEC, replies in place")


def resp3(node):
    with Client(node.port) as a:
        check(isinstance(a.call("HELLO", "3"), dict), "HELLO 3")
        a.call("MULTI")
        for cmd in (("CONFIG", "GET", "maxmemory"), ("SET", "x3", "1"), ("PING",),
                    ("CLIENT", "SETNAME", "dave"), ("HGETALL", "nohash"), ("INFO", "server"),
                    ("CONFIG", "SET", "maxmemory", "bla")):
            check(a.call(*cmd) == "QUEUED", f"{cmd} queued in RESP3")
        r = a.call("EXEC")
        check(len(r) == 7, f"RESP3 EXEC {r!r}")
        check(r[0] == {"maxmemory": "0"}, f"CONFIG GET is a map in RESP3's EXEC: {r[0]!r}")
        check(r[1] == "OK" and r[2] == "PONG" and r[3] == "OK", f"RESP3 EXEC {r!r}")
        check(r[4] == {}, f"HGETALL is a map in RESP3's EXEC: {r[4]!r}")
        check(isinstance(r[5], str) and "redis_version:" in r[5], "INFO verbatim in RESP3's EXEC")
        expect_error(r[6], "ERR CONFIG SET failed", "CONFIG SET in RESP3's EXEC")
        check(a.call("CLIENT", "GETNAME") == "dave", "CLIENT SETNAME in RESP3's EXEC")
    print("RESP3: each EXEC element keeps its command's RESP3 shape")


def close_during_exec(node):
    # INFO replies later (it gathers from other actors): the client leaves before EXEC is
    # answered; the node must go on serving.
    for _ in range(20):
        with Client(node.port) as a:
            a.send_raw(encode("MULTI") + encode("INFO") + encode("SET", "c", "1") +
                       encode("CLIENT", "LIST") + encode("EXEC") + encode("PING"))
    check(wait_until(lambda: call(node.port, "PING") == "PONG", 5), "the node stopped answering")
    print("a client closing while its EXEC's connection commands run does no harm")


def main(binary):
    with Cluster(binary, size=3, node_timeout_ms=500) as c:
        c.start()
        leader = c.leader()
        follower = next(n for n in c.nodes if n is not leader)
        check(c.write(follower, "warm", "up"), "first write")
        resp2(follower, leader)
        resp2_leader = leader
        with Client(resp2_leader.port) as a:
            a.call("MULTI")
            a.call("CLIENT", "SETNAME", "on-leader")
            a.call("INCR", "l")
            check(a.call("EXEC") == ["OK", 1], "EXEC with a connection command on the leader")
        resp3(follower)
        close_during_exec(follower)


if __name__ == "__main__":
    main(sys.argv[1])
