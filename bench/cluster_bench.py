#!/usr/bin/env python3
"""Throughput and latency of a local 3-node prez cluster, measured with redis-benchmark, plus the
failover time (SIGKILL of the leader -> first acknowledged write), repeated a few times.

    python3 bench/cluster_bench.py build-release/prez-server [-n 50000] [--failovers 5]

Prints one line per case. Everything shares this machine's cores: compare only within one run.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from prez_harness import Cluster, call, wait_until  # noqa: E402


def redis_benchmark(port, tests, n, clients, pipeline):
    cmd = ["redis-benchmark", "-p", str(port), "-t", tests, "-n", str(n), "-c", str(clients),
           "-P", str(pipeline), "-d", "100", "-r", "100000", "--csv"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600).stdout
    rows = {}
    for line in out.splitlines():
        cells = [c.strip('"') for c in line.split('","')]
        if len(cells) >= 6 and cells[0] not in ("test",):
            rows[cells[0]] = (float(cells[1]), cells[4], cells[6] if len(cells) > 6 else "?")
    return rows


def redis_benchmark_command(port, command, n, clients, pipeline):
    """One custom command (redis-benchmark's trailing arguments); returns (ops/s, p50, p99)."""
    cmd = ["redis-benchmark", "-p", str(port), "-n", str(n), "-c", str(clients),
           "-P", str(pipeline), "-r", "100000", "--csv"] + command
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600).stdout
    for line in out.splitlines():
        cells = [c.strip('"') for c in line.split('","')]
        if len(cells) >= 6 and cells[0] != "test":
            return float(cells[1]), cells[4], cells[6] if len(cells) > 6 else "?"
    return 0.0, "?", "?"


SCRIPTED_SET = ["EVAL", "return redis.call('SET', KEYS[1], ARGV[1])", "1", "key:__rand_int__", "v"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("-n", type=int, default=50000)
    ap.add_argument("--failovers", type=int, default=5)
    args = ap.parse_args()
    with Cluster(args.binary, size=3, node_timeout_ms=1000) as c:
        c.start()
        leader = c.leader()
        follower = next(n for n in c.nodes if n is not leader)
        for target, node in (("leader", leader), ("follower", follower)):
            for pipeline in (1, 16):
                rows = redis_benchmark(node.port, "set,get", args.n, 50, pipeline)
                for name, (rps, p50, p99) in rows.items():
                    print(f"{name:4s} via {target:8s} -c 50 -P {pipeline:2d}: {rps:9.0f} ops/s  "
                          f"p50 {p50} ms  p99 {p99} ms")
        # A Lua script per write (docs/scripting.md: a fresh Lua state per run) against the
        # plain SET it wraps, through a follower.
        for pipeline in (1, 16):
            for label, command in (("SET", ["SET", "key:__rand_int__", "v"]),
                                   ("EVAL set", SCRIPTED_SET)):
                rps, p50, p99 = redis_benchmark_command(follower.port, command, args.n, 50,
                                                        pipeline)
                print(f"{label:8s} via follower -c 50 -P {pipeline:2d}: {rps:9.0f} ops/s  "
                      f"p50 {p50} ms  p99 {p99} ms")
        times = []
        for _ in range(args.failovers):
            leader = c.leader()
            survivor = next(n for n in c.nodes if n is not leader)
            leader.signal(signal.SIGKILL)
            t0 = time.monotonic()
            ok = wait_until(lambda: call(survivor.port, "SET", "f", "1", timeout=1) == "OK", 15,
                            interval=0.01)
            times.append((time.monotonic() - t0) * 1000 if ok else float("inf"))
            leader.kill()
            leader.start()
            wait_until(lambda: call(leader.port, "GET", "f", timeout=1) == "1", 15)
        print("failover (kill -9 leader -> first acknowledged write), cluster-node-timeout 1000 ms: "
              + ", ".join(f"{t:.0f}" for t in times) + " ms")


if __name__ == "__main__":
    main()
