#!/usr/bin/env python3
"""follower-mode redirect: a follower answers -MOVED 0 <leader client address>, and `redis-cli -c`
follows it by itself. Usage: test_redirect_mode.py PATH/TO/prez-server"""
import shutil
import subprocess
import sys

from prez_harness import Cluster, RespError, call, check, wait_until


def main(binary):
    with Cluster(binary, size=3, node_timeout_ms=500) as c:
        for n in c.nodes:
            n.write_config(extra="follower-mode redirect\n")
        c.start()
        leader = c.leader()
        follower = next(n for n in c.nodes if n is not leader)

        def moved():
            try:
                call(follower.port, "SET", "k", "v")
            except RespError as e:
                return str(e)
            return None

        err = wait_until(moved, 5)
        check(err == f"MOVED 0 127.0.0.1:{leader.port}", f"follower reply: {err!r}")
        check(call(leader.port, "SET", "k", "v") == "OK", "the leader takes the write")
        print(f"follower redirects: {err}")
        if shutil.which("redis-cli"):
            out = subprocess.run(["redis-cli", "-c", "-p", str(follower.port), "set", "c", "1"],
                                 capture_output=True, text=True, timeout=10)
            check(out.stdout.strip() == "OK", f"redis-cli -c set: {out.stdout!r} {out.stderr!r}")
            out = subprocess.run(["redis-cli", "-c", "-p", str(follower.port), "get", "c"],
                                 capture_output=True, text=True, timeout=10)
            check(out.stdout.strip() == "1", f"redis-cli -c get: {out.stdout!r}")
            print("redis-cli -c follows the redirect")


if __name__ == "__main__":
    main(sys.argv[1])
