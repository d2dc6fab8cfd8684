#!/usr/bin/env python3
"""Bad input never crashes a node and never loses data: garbage and half-sent commands, huge
declared lengths, thousands of connections at once, a client that never reads its replies (output
buffer limit, then disconnect), and malformed frames from a connected CAF peer (needs the
prez-peer-probe tool, path in PREZ_PEER_PROBE). Usage: test_bad_input.py PATH/TO/prez-server"""
import os
import random
import resource
import socket
import subprocess
import sys
import time

from prez_harness import Client, Cluster, RespError, call, check, encode, info_raft, wait_until

CONNECTIONS = 10000
BIG_VALUE = 4 * 1024 * 1024
REPLY_LIMIT = 64 * 1024 * 1024  # limits::reply_buffer_bytes_max


def alive(c):
    return all(n.alive() for n in c.nodes)


def many_connections(port):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, CONNECTIONS + 1000)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    count = min(CONNECTIONS, want - 500)
    socks = []
    try:
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            socks.append(s)
        for s in socks[:: max(1, count // 200)]:  # a sample of them is served
            s.sendall(b"PING\r\n")
            check(s.recv(64) == b"+PONG\r\n", "PING on one of many connections")
        return count
    finally:
        for s in socks:
            s.close()


def slow_reader(port):
    """Pipelines far more reply bytes than the limit and never reads: the node must hang up."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    gets = REPLY_LIMIT // BIG_VALUE + 8
    sock.sendall(encode("GET", "big") * gets)
    time.sleep(3)
    received, closed = 0, False
    end = time.monotonic() + 60
    while time.monotonic() < end:
        try:
            chunk = sock.recv(1 << 20)
        except ConnectionResetError:
            closed = True
            break
        except socket.timeout:
            break
        if not chunk:
            closed = True
            break
        received += len(chunk)
    sock.close()
    check(closed, "the node kept a client that never reads")
    check(received < gets * BIG_VALUE, f"all {received} reply bytes were delivered anyway")
    return received


def main(binary):
    rng = random.Random(7)
    with Cluster(binary, size=3, node_timeout_ms=500) as c:
        for n in c.nodes:  # room above the default 10000 for CONNECTIONS plus the test's own
            n.write_config(extra=f"maxclients {CONNECTIONS + 1000}\n")
        c.start()
        leader = c.leader()
        follower = next(n for n in c.nodes if n is not leader)
        check(c.write(follower, "keep", "me"), "first write")

        for i in range(200):  # garbage, then the connection is closed by the node
            with Client(follower.port, timeout=5) as cl:
                cl.send_raw(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))))
                cl.sock.shutdown(socket.SHUT_WR)  # an unfinished command must not keep us waiting
                try:
                    while cl.read_reply() is not None:
                        pass
                except (ConnectionError, OSError, ValueError):
                    pass
        for i in range(50):  # half-sent commands, then the client goes away
            s = socket.create_connection(("127.0.0.1", follower.port), timeout=5)
            s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nabc"[: rng.randrange(1, 30)])
            s.close()
        for declared in (b"*1048577\r\n", b"*2\r\n$4\r\nECHO\r\n$17000000\r\n", b"*1\r\n$99999999999\r\n"):
            with Client(follower.port) as cl:
                cl.send_raw(declared)
                reply = cl.read_reply()
                check(isinstance(reply, RespError) and "Protocol error" in str(reply),
                      f"{declared!r}: {reply!r}")
        check(alive(c) and call(follower.port, "GET", "keep") == "me", "alive after garbage")
        print("garbage, half-sent commands and huge declared lengths: refused, node alive")

        n = many_connections(follower.port)
        check(alive(c) and call(follower.port, "GET", "keep") == "me", "alive after connections")
        print(f"{n} simultaneous connections: served, node alive")

        check(call(leader.port, "SET", "big", "x" * BIG_VALUE) == "OK", "big value")
        got = slow_reader(leader.port)
        check(alive(c) and call(leader.port, "GET", "keep") == "me", "alive after slow reader")
        print(f"a client that never reads was disconnected after {got} bytes")

        probe = os.environ.get("PREZ_PEER_PROBE")
        check(probe and os.path.exists(probe), "PREZ_PEER_PROBE is not set to prez-peer-probe")
        before = int(info_raft(follower.port).get("peer_frames_refused", "0"))
        out = subprocess.run([probe, "127.0.0.1", str(follower.cluster_port), "400", "11"],
                             capture_output=True, text=True, timeout=60)
        check(out.returncode == 0, f"peer_probe failed: {out.stdout} {out.stderr}")
        refused = wait_until(
            lambda: int(info_raft(follower.port).get("peer_frames_refused", "0")) >= before + 300,
            10)
        check(refused, f"malformed peer frames not counted: {info_raft(follower.port)}")
        check(alive(c), "a node died of malformed peer frames")
        check(c.write(follower, "after", "probe"), "cluster works after malformed peer frames")
        check(call(leader.port, "GET", "keep") == "me", "data intact")
        print("400 malformed frames from a connected peer: dropped and counted, cluster healthy")


if __name__ == "__main__":
    main(sys.argv[1])
