#!/usr/bin/env python3
"""follower-mode redirect: a follower answers -MOVED 0 <leader client address>, and `redis-cli -c`
follows it by itself. A write that already left the node is never redirected: an INCR sent to the
leader right before it is paused (SIGSTOP) gets its result or -UNKNOWN when the leader resumes as
a follower, never -MOVED (a client following it would apply the INCR twice).
Usage: test_redirect_mode.py PATH/TO/prez-server"""
import signal
import shutil
import socket
import subprocess
import sys

from prez_harness import Client, Cluster, RespError, call, check, encode, wait_until

TRIALS = 4


def paused_leader_trials(c):
    """INCR on the leader, SIGSTOP it at once, let the others elect, SIGCONT, read the answer.
    Returns (answer, n before, n after) per trial. A -MOVED is right only for an INCR the leader
    had not taken from its socket before the pause: then n must not have moved."""
    trials = []
    for trial in range(TRIALS):
        leader = c.leader()
        others = [n for n in c.nodes if n is not leader]
        before = int(call(leader.port, "GET", "n") or 0)
        client = Client(leader.port, timeout=20)
        client.send_raw(encode("INCR", "n"))
        leader.signal(signal.SIGSTOP)
        try:
            c.leader(among=others, seconds=15)
        finally:
            leader.signal(signal.SIGCONT)
        try:
            answer = client.read_reply()
        except (socket.timeout, ConnectionError) as e:
            answer = e
        client.close()
        check(wait_until(lambda: leader.role() == "follower", 10), "the old leader steps down")
        after = int(call(c.leader().port, "GET", "n") or 0)
        trials.append((answer, before, after))
    return trials


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

        trials = paused_leader_trials(c)
        for answer, before, after in trials:
            if isinstance(answer, int):
                check(after >= answer, f"INCR answered {answer} but n = {after}: {trials}")
            elif isinstance(answer, RespError) and str(answer).startswith("MOVED"):
                # Following the redirect would apply it again if it was applied already.
                check(after == before, f"a redirected INCR was applied anyway: {trials}")
            else:
                check(isinstance(answer, RespError) and str(answer).startswith("UNKNOWN"),
                      f"unexpected answer: {trials}")
                check(after in (before, before + 1), f"n after an UNKNOWN INCR: {trials}")
        print("INCR sent to a leader paused at once: (answer, n before, n after) = "
              f"{[(str(a), b, n) for a, b, n in trials]}; no redirected write was applied")

if __name__ == "__main__":
    main(sys.argv[1])
