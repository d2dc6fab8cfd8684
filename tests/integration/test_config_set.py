#!/usr/bin/env python3
"""CONFIG SET / GET / RESETSTAT / REWRITE on a real node (docs/decisions.md D27): loglevel,
requirepass, maxclients and snapshot-entries take effect at once; Redis's encoding parameters are
accepted and reported; bad values get Redis's errors and change nothing; CONFIG REWRITE writes a
prez.conf the node restarts from with the new values; in a cluster, CONFIG SET changes one node
only.
Usage: test_config_set.py PATH/TO/prez-server
"""
import os
import socket
import sys
import time

from prez_harness import Client, Cluster, RespError, check, wait_until

REFUSAL = b"-ERR max number of clients reached\r\n"


def error_of(client, *args):
    """The error text a command answers (fails if it succeeds)."""
    try:
        reply = client.call(*args)
    except RespError as e:
        return str(e)
    raise AssertionError(f"{args!r} succeeded with {reply!r}; an error was expected")


def as_dict(flat):
    return dict(zip(flat[0::2], flat[1::2]))


def log_lines(node, level):
    with open(os.path.join(node.dir, "server.log"), "rb") as f:
        return [l for l in f.read().decode(errors="replace").splitlines() if f" {level} " in l]


def refused(port):
    """True when a new connection gets Redis's maxclients refusal."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"PING\r\n")
        s.settimeout(5)
        data = b""
        while len(data) < len(REFUSAL):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.startswith(b"-ERR max number of clients reached")


def loglevel_is_live(node, admin):
    # A protocol error is logged at debug level: silent at notice, seen after CONFIG SET debug.
    def bad_client():
        with socket.create_connection(("127.0.0.1", node.port), timeout=5) as s:
            s.sendall(b"*1\r\n$abc\r\n")
            s.settimeout(5)
            s.recv(4096)

    before = len(log_lines(node, "debug"))
    bad_client()
    time.sleep(0.3)
    check(len(log_lines(node, "debug")) == before, "a debug line was logged at loglevel notice")
    check(admin.call("CONFIG", "SET", "loglevel", "debug") == "OK", "CONFIG SET loglevel failed")
    check(admin.call("CONFIG", "GET", "loglevel") == ["loglevel", "debug"], "loglevel not reported")
    bad_client()
    check(wait_until(lambda: len(log_lines(node, "debug")) > before, 5),
          "no debug line after CONFIG SET loglevel debug")
    check(admin.call("CONFIG", "SET", "loglevel", "notice") == "OK", "loglevel notice refused")
    print("loglevel: CONFIG SET debug logs debug lines at once")


def requirepass_is_live(node, admin):
    check(admin.call("CONFIG", "SET", "requirepass", "s3cret") == "OK", "requirepass refused")
    check(admin.call("PING") == "PONG", "the connection that set the password was logged out")
    with Client(node.port) as c:
        check(error_of(c, "PING").startswith("NOAUTH"), "a new client was served without AUTH")
        check(error_of(c, "AUTH", "wrong").startswith("WRONGPASS"), "a wrong password passed")
        check(c.call("AUTH", "s3cret") == "OK", "the new password was refused")
        check(c.call("PING") == "PONG", "not served after AUTH")
    check(admin.call("CONFIG", "SET", "requirepass", "") == "OK", "clearing requirepass refused")
    with Client(node.port) as c:
        check(c.call("PING") == "PONG", "a password is still asked after requirepass ''")
    print("requirepass: new connections and AUTH use the new password at once")


def maxclients_is_live(node, admin):
    check(admin.call("CONFIG", "SET", "maxclients", "2") == "OK", "maxclients 2 refused")
    with Client(node.port) as second:
        check(second.call("PING") == "PONG", "the second client was not served")
        check(refused(node.port), "a third client was served with maxclients 2")
    check(admin.call("CONFIG", "SET", "maxclients", "100") == "OK", "maxclients 100 refused")
    with Client(node.port) as c1, Client(node.port) as c2, Client(node.port) as c3:
        check(all(c.call("PING") == "PONG" for c in (c1, c2, c3)), "not served after raising")
    print("maxclients: lowered and raised at once")


def encoding_knobs(admin):
    check(admin.call("CONFIG", "SET", "hash-max-listpack-entries", "512", "hash-max-ziplist-value",
                     "1kb", "set-max-intset-entries", "0", "list-max-listpack-size", "-1",
                     "lazyfree-lazy-user-del", "yes") == "OK", "encoding parameters refused")
    got = as_dict(admin.call("CONFIG", "GET", "hash-max-*"))
    check(got == {"hash-max-listpack-entries": "512", "hash-max-ziplist-entries": "512",
                  "hash-max-listpack-value": "1024", "hash-max-ziplist-value": "1024"},
          f"hash-max-* reported as {got}")
    check(admin.call("HSET", "h", "f", "v") == 1, "HSET failed after the knobs changed")
    print("encoding parameters: accepted, stored and reported")


def refusals_change_nothing(admin):
    cases = [
        (("maxclients", "5", "foo", "bar"),
         "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"),
        (("maxclients", "5", "port", "1"),
         "ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config"),
        (("maxclients", "5", "hash-max-listpack-entries", "x"),
         "ERR CONFIG SET failed (possibly related to argument 'hash-max-listpack-entries') - "
         "argument couldn't be parsed into an integer"),
        (("maxclients", "0"),
         "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be "
         "between 1 and 1048576 inclusive"),
        (("maxclients", "5", "maxclients", "6"),
         "ERR CONFIG SET failed (possibly related to argument 'maxclients') - duplicate parameter"),
        (("timeout", "10"),
         "ERR CONFIG SET failed (possibly related to argument 'timeout') - prez supports only '0' "
         "here"),
    ]
    for args, expected in cases:
        got = error_of(admin, "CONFIG", "SET", *args)
        check(got == expected, f"CONFIG SET {args}: {got!r}, expected {expected!r}")
        check(admin.call("CONFIG", "GET", "maxclients") == ["maxclients", "100"],
              f"CONFIG SET {args} changed maxclients")
    print(f"{len(cases)} bad CONFIG SETs refused with Redis's errors, nothing changed")


def snapshot_entries_is_live(node, admin):
    def snapshot_index():
        text = admin.call("INFO", "persistence")
        fields = dict(l.split(":", 1) for l in text.splitlines() if ":" in l)
        return int(fields["snapshot_index"])

    first = snapshot_index()
    check(admin.call("CONFIG", "SET", "snapshot-entries", "5") == "OK", "snapshot-entries refused")
    for i in range(30):
        admin.call("SET", f"k{i}", "v")
    check(wait_until(lambda: snapshot_index() > first, 10),
          "no snapshot after CONFIG SET snapshot-entries 5 and 30 writes")
    print("snapshot-entries: a snapshot follows at once")


def resetstat(node, admin):
    for _ in range(3):
        with Client(node.port) as c:
            c.call("PING")

    def received():
        text = admin.call("INFO", "stats")
        return int(dict(l.split(":", 1) for l in text.splitlines() if ":" in l)[
            "total_connections_received"])

    check(received() >= 4, "INFO counted too few connections")
    check(admin.call("CONFIG", "RESETSTAT") == "OK", "CONFIG RESETSTAT failed")
    check(received() == 0, "total_connections_received not reset")
    with Client(node.port) as c:
        c.call("PING")
    check(received() == 1, "connections after RESETSTAT not counted")
    print("CONFIG RESETSTAT resets INFO's counters")


def multi_runs_config(admin):
    check(admin.call("MULTI") == "OK", "MULTI failed")
    check(admin.call("CONFIG", "GET", "maxclients") == "QUEUED", "CONFIG inside MULTI not queued")
    replies = admin.call("EXEC")
    check(len(replies) == 1 and replies[0][0] == "maxclients", f"EXEC replies {replies!r}")
    print("CONFIG inside MULTI is queued and run by the connection at EXEC (D30)")


def rewrite_and_restart(cluster, node):
    with Client(node.port) as admin:
        check(admin.call("CONFIG", "SET", "maxclients", "77", "loglevel", "warning",
                         "hash-max-ziplist-entries", "300") == "OK", "CONFIG SET refused")
        check(admin.call("CONFIG", "REWRITE") == "OK", "CONFIG REWRITE failed")
    with open(os.path.join(node.dir, "prez.conf")) as f:
        text = f.read()
    check(text.startswith("# written by prez_harness\n"), "the comment on line 1 was lost")
    check("maxclients 77\n" in text and "loglevel warning\n" in text and
          "hash-max-listpack-entries 300\n" in text, f"rewritten prez.conf lacks values:\n{text}")
    check(not any(n.startswith("prez.conf.tmp") for n in os.listdir(node.dir)),
          "a temporary file was left beside prez.conf")
    node.stop()
    node.start()
    check(wait_until(lambda: node.role() == "leader", 15), "the node did not lead after restart")
    with Client(node.port) as admin:
        got = as_dict(admin.call("CONFIG", "GET", "maxclients", "loglevel",
                                 "hash-max-listpack-entries"))
        check(got == {"maxclients": "77", "loglevel": "warning", "hash-max-listpack-entries": "300"},
              f"after the restart CONFIG GET reports {got}")
    print("CONFIG REWRITE: prez.conf rewritten atomically, comments kept; restart reads it")


def node_local_in_a_cluster(binary):
    """CONFIG SET on one node of three changes that node only, on a follower as on the leader."""
    with Cluster(binary, size=3) as c:
        c.start()
        leader = c.leader()
        follower = next(n for n in c.nodes if n is not leader)
        with Client(follower.port) as f:
            check(f.call("CONFIG", "SET", "maxclients", "33", "hash-max-listpack-entries",
                         "999") == "OK", "CONFIG SET on a follower refused")
        check(c.write(leader, "after", "config"), "a write after CONFIG SET was not acknowledged")
        for n in c.nodes:
            with Client(n.port) as other:
                got = as_dict(other.call("CONFIG", "GET", "maxclients",
                                         "hash-max-listpack-entries"))
                expected = ({"maxclients": "33", "hash-max-listpack-entries": "999"}
                            if n is follower else
                            {"maxclients": "10000", "hash-max-listpack-entries": "128"})
                check(got == expected, f"{n.name} reports {got}, expected {expected}")
    print("three nodes: CONFIG SET on a follower changed that node only")


def main(binary):
    with Cluster(binary, size=1) as c:
        node = c.nodes[0]
        c.start()
        check(wait_until(lambda: node.role() == "leader", 15), "the single node never led")
        with Client(node.port) as admin:
            loglevel_is_live(node, admin)
            requirepass_is_live(node, admin)
            maxclients_is_live(node, admin)
            encoding_knobs(admin)
            refusals_change_nothing(admin)
            snapshot_entries_is_live(node, admin)
            resetstat(node, admin)
            multi_runs_config(admin)
        rewrite_and_restart(c, node)
    node_local_in_a_cluster(binary)


if __name__ == "__main__":
    main(sys.argv[1])
