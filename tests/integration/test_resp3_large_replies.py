#!/usr/bin/env python3
"""Large RESP3 replies are converted off the I/O thread (config/limits.hpp resp3_inline_bytes_max)
and still arrive complete and in command order: after HELLO 3, a pipeline of big HGETALL and
SMEMBERS replies interleaved with PINGs and small replies comes back in order, each with its RESP3
type, and the server log shows the big ones went to a worker.
Usage: test_resp3_large_replies.py PATH/TO/prez-server"""
import os
import sys

from prez_harness import Client, Cluster, check, encode

FIELDS = 20000  # HGETALL's RESP2 reply is ~600 KiB, far over the 64 KiB inline limit
MEMBERS = 10000
BATCH = 1000


def load(port):
    with Client(port, timeout=30) as c:
        for start in range(0, FIELDS, BATCH):
            args = ["HSET", "big"]
            for i in range(start, start + BATCH):
                args += [f"field:{i:06d}", f"value:{i:06d}"]
            check(c.call(*args) == BATCH, "HSET added its batch")
        for start in range(0, MEMBERS, BATCH):
            c.call("SADD", "bigset", *[f"member:{i:06d}" for i in range(start, start + BATCH)])
        c.call("HSET", "small", "a", "1", "b", "2")


def main(binary):
    with Cluster(binary, size=1, loglevel="debug") as c:
        c.start()
        node = c.leader()
        load(node.port)
        big = {f"field:{i:06d}": f"value:{i:06d}" for i in range(FIELDS)}
        members = sorted(f"member:{i:06d}" for i in range(MEMBERS))

        with Client(node.port, timeout=30) as client:
            hello = client.call("HELLO", "3")
            check(isinstance(hello, dict) and hello.get("proto") == 3, f"HELLO 3: {hello!r}")
            commands = [("HGETALL", "big"), ("PING",), ("HGETALL", "small"), ("SMEMBERS", "bigset"),
                        ("GET", "missing"), ("HGETALL", "big"), ("PING",)]
            for round_number in range(3):
                client.send_raw(b"".join(encode(*cmd) for cmd in commands))
                replies = [client.read_reply() for _ in commands]
                check(isinstance(replies[0], dict) and replies[0] == big,
                      f"round {round_number}: first HGETALL is the whole map")
                check(replies[1] == "PONG", f"round {round_number}: PING after it: {replies[1]!r}")
                check(replies[2] == {"a": "1", "b": "2"}, f"small HGETALL: {replies[2]!r}")
                check(isinstance(replies[3], list) and sorted(replies[3]) == members,
                      f"round {round_number}: SMEMBERS is the whole set")
                check(replies[4] is None, f"GET of a missing key is a null: {replies[4]!r}")
                check(replies[5] == big, f"round {round_number}: second HGETALL is the whole map")
                check(replies[6] == "PONG", f"round {round_number}: last PING: {replies[6]!r}")
        # The raw bytes: a map header with the field count (RESP3), not an array of twice as many.
        with Client(node.port, timeout=30) as raw:
            raw.call("HELLO", "3")
            raw.send_raw(encode("HGETALL", "big") + encode("PING"))
            first = raw._line()
            check(first == b"%" + str(FIELDS).encode(), f"RESP3 map header: {first!r}")
            for _ in range(2 * FIELDS):
                raw.read_reply()
            check(raw.read_reply() == "PONG", "PING after the raw map")
        with Client(node.port, timeout=30) as resp2:
            replies = [resp2.call("HGETALL", "big"), resp2.call("PING")]
            check(isinstance(replies[0], list) and len(replies[0]) == 2 * FIELDS,
                  "RESP2 HGETALL is still a flat array")
            check(replies[1] == "PONG", "RESP2 PING")
        print("RESP3: big HGETALL/SMEMBERS in a pipeline with PINGs, in order and complete")

        with open(os.path.join(node.dir, "server.log"), "rb") as f:
            log = f.read().decode(errors="replace")
        offloaded = log.count("reply goes to a worker for RESP3")
        # 3 rounds x 3 big replies + the raw HGETALL; RESP2 replies and small ones never go.
        check(offloaded == 10, f"{offloaded} large replies went to a worker; expected 10")
        print(f"server log: {offloaded} large RESP3 conversions ran off the I/O thread")


if __name__ == "__main__":
    main(sys.argv[1])
