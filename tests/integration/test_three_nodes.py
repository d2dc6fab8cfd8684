#!/usr/bin/env python3
"""A 3-node cluster from config files: writes through a follower, linearizable reads on every node,
SIGKILL of the leader (failover time measured), restart and catch-up, SIGSTOP of the leader (it must
step down and never serve a stale read), and a full stop/start with every acknowledged write intact.
Usage: test_three_nodes.py PATH/TO/prez-server"""
import shutil
import signal
import subprocess
import sys
import time

from prez_harness import Cluster, RespError, call, check, info_raft, wait_until

NODE_TIMEOUT_MS = 500


def main(binary):
    acked = {}
    with Cluster(binary, size=3, node_timeout_ms=NODE_TIMEOUT_MS) as c:
        c.start()
        leader = c.leader()
        f1, f2 = [n for n in c.nodes if n is not leader]
        print(f"leader elected: {leader.name}")

        # A write sent to a follower is forwarded; a read on another follower sees it.
        check(c.write(f1, "greeting", "hello"), "SET through a follower failed")
        acked["greeting"] = "hello"
        check(call(f2.port, "GET", "greeting") == "hello", "GET on another follower")
        check(call(leader.port, "GET", "greeting") == "hello", "GET on the leader")
        check(call(f1.port, "GET", "missing") is None, "GET of a missing key is nil")
        check(call(f1.port, "EXISTS", "greeting", "missing") == 1, "EXISTS counts")
        check(call(f2.port, "DEL", "greeting", "missing") == 1, "DEL through a follower")
        check(call(leader.port, "GET", "greeting") is None, "DEL took effect")
        del acked["greeting"]
        info = info_raft(f1.port)
        for field in ("role", "term", "leader", "leader_addr", "commit_index", "last_applied",
                      "last_log_index", "snapshot_index"):
            check(field in info, f"INFO raft lacks {field}: {info}")
        check(info["leader"].strip() == leader.name, f"follower names the leader: {info}")
        check(info["leader_addr"].strip() == f"127.0.0.1:{leader.port}", f"leader_addr: {info}")

        # redis-cli against a follower, as a user would.
        if shutil.which("redis-cli"):
            out = subprocess.run(["redis-cli", "-p", str(f2.port), "set", "cli", "yes"],
                                 capture_output=True, text=True, timeout=10)
            check(out.stdout.strip() == "OK", f"redis-cli set: {out.stdout!r} {out.stderr!r}")
            out = subprocess.run(["redis-cli", "-p", str(f1.port), "get", "cli"],
                                 capture_output=True, text=True, timeout=10)
            check(out.stdout.strip() == "yes", f"redis-cli get: {out.stdout!r}")
            acked["cli"] = "yes"
            print("redis-cli SET/GET through followers: ok")

        for i in range(50):
            node = c.nodes[i % 3]
            check(c.write(node, f"k{i}", f"v{i}"), f"write k{i}")
            acked[f"k{i}"] = f"v{i}"

        # SIGKILL the leader: a survivor must take writes within 3x cluster-node-timeout.
        leader.signal(signal.SIGKILL)
        t0 = time.monotonic()
        ok = wait_until(lambda: call(f1.port, "SET", "after-kill", "1", timeout=1) == "OK", 10,
                        interval=0.01)
        failover_ms = (time.monotonic() - t0) * 1000
        check(ok, "no write succeeded within 10 s of killing the leader")
        acked["after-kill"] = "1"
        print(f"failover: kill of leader -> first successful write: {failover_ms:.0f} ms "
              f"(cluster-node-timeout {NODE_TIMEOUT_MS} ms, bound {3 * NODE_TIMEOUT_MS} ms)")
        check(failover_ms <= 3 * NODE_TIMEOUT_MS, f"failover took {failover_ms:.0f} ms")
        leader.kill()
        for k, v in acked.items():
            check(call(f2.port, "GET", k) == v, f"acknowledged write {k} lost after failover")
        print(f"all {len(acked)} acknowledged writes present after failover")

        # Restart the killed node: it catches up.
        leader.start()
        new_leader = c.leader(among=[f1, f2])
        target = int(info_raft(new_leader.port)["commit_index"])
        caught_up = wait_until(lambda: int(info_raft(leader.port).get("last_applied", "0")) >= target, 15)
        check(caught_up, f"restarted node did not catch up to {target}: {info_raft(leader.port)}")
        check(call(leader.port, "GET", "after-kill") == "1", "restarted node serves reads")
        print("restarted node caught up")

        # SIGSTOP the leader past the election timeout; the others elect a leader and take a
        # write; after SIGCONT the old leader must not serve the old value.
        old = c.leader()
        others = [n for n in c.nodes if n is not old]
        check(c.write(old, "stale", "old"), "write before pause")
        old.signal(signal.SIGSTOP)
        try:
            time.sleep(3 * NODE_TIMEOUT_MS / 1000)
            check(c.write(others[0], "stale", "new"), "write during the pause")
            acked["stale"] = "new"
        finally:
            old.signal(signal.SIGCONT)
        try:
            seen = call(old.port, "GET", "stale", timeout=5)
            check(seen == "new", f"old leader served a stale read: {seen!r}")
        except RespError as e:
            print(f"old leader refused the read right after SIGCONT ({e}): acceptable")
        stepped_down = wait_until(lambda: old.role() != "leader", 5)
        check(stepped_down, "paused leader did not step down")
        check(len([n for n in c.nodes if n.role() == "leader"]) == 1, "exactly one leader")
        print("paused leader stepped down and served no stale read")

        # Stop all, start all: every acknowledged write is still there.
        for n in c.nodes:
            n.stop()
        for n in c.nodes:
            n.start()
        c.leader()
        for k, v in acked.items():
            got = wait_until(lambda: call(c.nodes[0].port, "GET", k, timeout=2) == v, 10)
            check(got, f"acknowledged write {k} lost after a full restart")
        print(f"all {len(acked)} acknowledged writes present after stopping and starting all nodes")


if __name__ == "__main__":
    main(sys.argv[1])
