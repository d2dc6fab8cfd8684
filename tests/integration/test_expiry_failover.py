#!/usr/bin/env python3
"""Expiry across a leader change: a key set with a TTL expires at the same log position everywhere.

1. SET k v PX 1500 (and klong PX 60000) through a follower, kill the leader, wait past k's
   deadline: GET k is nil, TTL/PTTL k are -2 and EXISTS k is 0 through every live node, and klong's
   deadline was kept (an absolute deadline stamped by the old leader, not restarted by the new one).
2. SET 20 keys PX 800 and 20 keys PX 60000, restart the killed node, check through INFO raft that
   all three nodes' last_applied converge, and once the short TTL has passed, that every node
   answers the same: short keys nil, long keys present, DBSIZE and KEYS the expected ones.
3. Per-node state. Every client read (GET, DBSIZE, KEYS, TTL...) is forwarded to the leader and
   served after a ReadIndex round, so reading through each node observes the LEADER's state, not
   the node's own: that checks linearizability, not replica agreement. The only per-node view the
   protocol offers is INFO, answered by the node itself from its own state machine: `db0:keys=N,
   expires=M` (keys physically present, including keys logically expired but not yet deleted)
   beside `last_applied`. Physical deletion of expired keys happens only when a log entry is
   applied (lazily on touch, actively at the start of each entry, at most 64 keys per entry, in
   (deadline, key) order; docs/expiry.md), so replicas that applied the same prefix of the log hold
   the same keys. After a write that follows the short deadline, every node must report the same
   keys/expires once their last_applied are equal, and keys must equal the linearizable DBSIZE
   (the short keys were physically removed by that write's entry on every node).

Usage: test_expiry_failover.py PATH/TO/prez-server
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prez_harness import Cluster, RespError, call, check, wait_until  # noqa: E402

RETRYABLE = ("CLUSTERDOWN", "TRYAGAIN")
SHORT_KEYS = 20  # <= 64, the active-expiry bound per applied entry


def rcall(node, *args, seconds=30):
    """A command through `node`, retried only on retryable errors and refused connections."""
    end = time.monotonic() + seconds
    last = None
    while time.monotonic() < end:
        try:
            return call(node.port, *args, timeout=5)
        except RespError as e:
            if not str(e).startswith(RETRYABLE):
                raise
            last = e
        except OSError as e:
            last = e
        time.sleep(0.1)
    raise AssertionError(f"{node.name}: {' '.join(map(str, args))} kept failing for {seconds}s: "
                         f"{last!r}")


def info(node):
    """The node's own INFO (all sections) as a dict; db0 parsed into keys/expires."""
    text = call(node.port, "INFO", timeout=3) or ""
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    fields = {k: v.strip() for k, v in fields.items()}
    db0 = dict(kv.split("=", 1) for kv in fields.get("db0", "keys=0,expires=0").split(","))
    fields["keys"], fields["expires"] = int(db0.get("keys", 0)), int(db0.get("expires", 0))
    fields["has_keyspace"] = "# Keyspace" in text
    return fields


def converged(nodes, min_applied=0, seconds=60):
    """Waits until every node reports the same last_applied (>= min_applied) and the same
    keys/expires; returns their INFO or raises with what each node reported."""
    seen = {}

    def probe():
        seen.clear()
        for n in nodes:
            seen[n.name] = info(n)
        applied = {int(i["last_applied"]) for i in seen.values()}
        spaces = {(i["keys"], i["expires"]) for i in seen.values()}
        return len(applied) == 1 and min(applied) >= min_applied and len(spaces) == 1

    if wait_until(probe, seconds, interval=0.2) is None:
        report = {name: (i.get("last_applied"), i.get("keys"), i.get("expires"))
                  for name, i in seen.items()}
        raise AssertionError(f"nodes did not converge in {seconds}s "
                             f"(last_applied, keys, expires): {report}")
    return dict(seen)


def main(binary):
    with Cluster(binary, size=3, node_timeout_ms=500) as c:
        c.start()
        leader = c.leader(seconds=30)
        follower = next(n for n in c.nodes if n is not leader)
        check(c.write(follower, "warm", "up", seconds=30), "first write through a follower")
        check(info(follower)["has_keyspace"], "INFO has a Keyspace section")

        # --- 1. a TTL running out across a leader change -------------------------------------
        check(rcall(follower, "SET", "k", "v", "PX", 1500) == "OK", "SET k PX 1500")
        acked = time.monotonic()
        check(rcall(follower, "SET", "klong", "v", "PX", 60000) == "OK", "SET klong PX 60000")
        pttl = rcall(follower, "PTTL", "k")
        check(0 < pttl <= 1500, f"PTTL k right after SET: {pttl}")
        killed = leader
        killed.kill()
        print(f"killed leader {killed.name} {(time.monotonic() - acked) * 1000:.0f} ms after SET k")
        live = c.live()
        new_leader = c.leader(among=live, seconds=30)
        print(f"new leader {new_leader.name} after "
              f"{(time.monotonic() - acked) * 1000:.0f} ms")
        time.sleep(max(0.0, acked + 2.0 - time.monotonic()))
        for n in live:
            check(rcall(n, "GET", "k") is None, f"GET k through {n.name} after its deadline")
            check(rcall(n, "TTL", "k") == -2, f"TTL k through {n.name}")
            check(rcall(n, "PTTL", "k") == -2, f"PTTL k through {n.name}")
            check(rcall(n, "EXISTS", "k") == 0, f"EXISTS k through {n.name}")
            left = rcall(n, "PTTL", "klong")
            bound = 60000 - (time.monotonic() - acked) * 1000 + 250
            check(0 < left <= bound, f"PTTL klong through {n.name}: {left} (at most {bound:.0f}: "
                                     "the deadline must not restart at the new leader)")
        # A write after the deadline: its entry deletes k physically on every replica.
        check(rcall(live[0], "SET", "tick", "1") == "OK", "a write after k's deadline")
        dbsize = rcall(new_leader, "DBSIZE")
        infos = converged(live)
        keys = {i["keys"] for i in infos.values()}
        check(keys == {dbsize} and dbsize == 3, f"live nodes' keys {keys}, DBSIZE {dbsize} "
                                                f"(warm, klong, tick)")
        print(f"k expired across the leader change: nil and TTL -2 on every live node; "
              f"{len(live)} live nodes agree at last_applied "
              f"{next(iter(infos.values()))['last_applied']}")

        # --- 2. short and long TTLs while the killed node comes back --------------------------
        writer = next(n for n in live if n is not new_leader)
        for i in range(SHORT_KEYS):
            check(rcall(writer, "SET", f"short:{i}", "v", "PX", 800) == "OK", f"SET short:{i}")
        short_acked = time.monotonic()
        for i in range(SHORT_KEYS):
            check(rcall(writer, "SET", f"long:{i}", "v", "PX", 60000) == "OK", f"SET long:{i}")
        applied_target = int(info(new_leader)["last_applied"])
        killed.start()
        infos = converged(c.nodes, min_applied=applied_target)
        print(f"{killed.name} restarted; all 3 nodes at last_applied "
              f"{next(iter(infos.values()))['last_applied']} (>= {applied_target})")
        time.sleep(max(0.0, short_acked + 0.8 + 0.7 - time.monotonic()))
        for n in c.nodes:
            # Through each node (each read is forwarded to the leader: linearizable answers).
            got = [rcall(n, "GET", f"short:{i}") for i in range(SHORT_KEYS)]
            check(got == [None] * SHORT_KEYS, f"short keys through {n.name}: {got}")
            got = [rcall(n, "GET", f"long:{i}") for i in range(SHORT_KEYS)]
            check(got == ["v"] * SHORT_KEYS, f"long keys through {n.name}: {got}")
            ttl = rcall(n, "TTL", f"long:{SHORT_KEYS - 1}")
            check(55 <= ttl <= 60, f"TTL long:{SHORT_KEYS - 1} through {n.name}: {ttl}")
            check(rcall(n, "TTL", "short:0") == -2, f"TTL short:0 through {n.name}")
            expected = ["klong", "tick", "warm"] + [f"long:{i}" for i in range(SHORT_KEYS)]
            check(rcall(n, "DBSIZE") == len(expected), f"DBSIZE through {n.name}")
            check(sorted(rcall(n, "KEYS", "*")) == sorted(expected), f"KEYS through {n.name}")
        # One entry after the short deadline: active expiry removes the 20 short keys there.
        check(rcall(writer, "SET", "tick", "2") == "OK", "a write after the short deadline")
        applied_target = int(info(new_leader)["last_applied"])
        infos = converged(c.nodes, min_applied=applied_target)
        want = (3 + SHORT_KEYS, 1 + SHORT_KEYS)
        for name, i in infos.items():
            check((i["keys"], i["expires"]) == want,
                  f"{name}: keys={i['keys']} expires={i['expires']}, expected {want}")
        print(f"after the short TTL: every node answers nil for the {SHORT_KEYS} short keys, and "
              f"all 3 nodes hold keys={want[0]} expires={want[1]} at last_applied "
              f"{next(iter(infos.values()))['last_applied']}")
        for n in c.nodes:
            check(n.alive(), f"{n.name} died during the test")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
