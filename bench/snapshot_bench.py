#!/usr/bin/env python3
"""Snapshot and compaction figures of issue 8, on a local 3-node cluster (cluster-node-timeout 1000).

    python3 bench/snapshot_bench.py build-release/prez-server [--small-sets 10000000] [--keys 1000000]

Part 1, a small key space: `redis-benchmark -c 50 -P 16 -d 100 -r 100 -n N -t set` through the
leader; then every node's resident memory and data dir size, then all three are SIGKILLed and
restarted and the time to the first answered GET is measured.

Part 2, a large key space: N keys of 100-byte values loaded through the leader (pipelined); a
snapshot on demand (RAFT.SNAPSHOT on the leader) while one client sends SET/GET one at a time and
records its slowest answer; the snapshot's size and time from INFO persistence; the time for all
three to serve again after a SIGKILL of every node (restart from the snapshot); and a follower
rebuilt from an empty data dir through InstallSnapshot (time, peak memory of leader and follower).

Everything shares this machine's cores: numbers are for comparison within one run.
"""
import argparse
import os
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from prez_harness import Client, Cluster, RespError, call, encode, wait_until  # noqa: E402


def status(node, field):
    """A field of /proc/<pid>/status in MB (VmRSS, VmHWM)."""
    with open("/proc/%d/status" % node.proc.pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def dir_mb(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total / 1e6


def info(node, section):
    try:
        text = call(node.port, "INFO", section, timeout=5) or ""
    except (OSError, RespError, ValueError):
        return {}
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def applied(node):
    return int(info(node, "raft").get("last_applied", "0") or 0)


def restart_all(c, probe_key):
    for n in c.nodes:
        n.kill()
    for n in c.nodes:
        n.start()
    t0 = time.monotonic()
    ok = wait_until(lambda: call(c.nodes[0].port, "GET", probe_key, timeout=1) is not None, 120,
                    interval=0.02)
    return (time.monotonic() - t0) if ok else float("inf")


def load_keys(node, count, batch=1000):
    value = "x" * 100
    with Client(node.port, timeout=120) as client:
        for start in range(0, count, batch):
            payload = b"".join(encode("SET", "key:%d" % i, value)
                               for i in range(start, min(count, start + batch)))
            client.send_raw(payload)
            for _ in range(min(count, start + batch) - start):
                client.read_reply()


def probe_latency(node, stop, worst):
    """One SET and one GET at a time until stopped; the slowest answer goes to worst[0]."""
    with Client(node.port, timeout=30) as client:
        i = 0
        while not stop.is_set():
            for args in (("SET", "probe", str(i)), ("GET", "probe")):
                t0 = time.monotonic()
                client.call(*args)
                worst[0] = max(worst[0], time.monotonic() - t0)
            i += 1


def part_small(binary, sets, extra):
    print("== part 1: %d SETs over 100 keys (redis-benchmark -c 50 -P 16 -d 100 -r 100)" % sets)
    with Cluster(binary, 3, node_timeout_ms=1000) as c:
        for n in c.nodes:
            n.write_config(extra)
        c.start()
        leader = c.leader()
        for n in c.nodes:
            print("  %s at start: %.1f MB resident" % (n.name, status(n, "VmRSS")))
        t0 = time.monotonic()
        subprocess.run(["redis-benchmark", "-p", str(leader.port), "-t", "set", "-n", str(sets),
                        "-c", "50", "-P", "16", "-d", "100", "-r", "100", "-q"],
                       check=True, capture_output=True, timeout=7200)
        took = time.monotonic() - t0
        print("  %d SETs in %.1f s (%.0f/s)" % (sets, took, sets / took))
        target = applied(leader)
        wait_until(lambda: all(applied(n) >= target for n in c.nodes), 60)
        for n in c.nodes:
            print("  %s right after: %.1f MB resident" % (n.name, status(n, "VmRSS")))
        time.sleep(6)  # one memory trim interval (limits::memory_trim_interval)
        for n in c.nodes:
            p = info(n, "persistence")
            print("  %s 6 s later: %.1f MB resident (peak %.1f MB), data dir %.1f MB, snapshots taken %s "
                  "installed %s, log %s entries from %s" %
                  (n.name, status(n, "VmRSS"), status(n, "VmHWM"), dir_mb(os.path.join(n.dir, "data")),
                   p.get("snapshots_taken"), p.get("snapshots_installed"), p.get("log_entries"),
                   p.get("log_first_index")))
        call(leader.port, "SET", "probe", "1")
        took = restart_all(c, "probe")
        print("  restart of all three: first GET answered after %.2f s" % took)
        wait_until(lambda: all(n.role() for n in c.nodes), 30)
        for n in c.nodes:
            print("  %s after restart: %.1f MB resident" % (n.name, status(n, "VmRSS")))


def part_large(binary, keys, extra):
    print("== part 2: %d keys of 100-byte values" % keys)
    with Cluster(binary, 3, node_timeout_ms=1000) as c:
        for n in c.nodes:
            # Snapshots only on demand here, so the one measured is the one asked for.
            n.write_config("snapshot-entries 0\nsnapshot-bytes 0\n" + extra)
        c.start()
        leader = c.leader()
        t0 = time.monotonic()
        load_keys(leader, keys)
        print("  loaded in %.1f s" % (time.monotonic() - t0))
        target = applied(leader)
        wait_until(lambda: all(applied(n) >= target for n in c.nodes), 120)
        stop, worst = threading.Event(), [0.0]
        prober = threading.Thread(target=probe_latency, args=(leader, stop, worst))
        prober.start()
        time.sleep(1.0)
        before = worst[0]
        t0 = time.monotonic()
        answer = call(leader.port, "RAFT.SNAPSHOT", timeout=600)
        took = time.monotonic() - t0
        time.sleep(0.5)
        stop.set()
        prober.join()
        p = info(leader, "persistence")
        print("  RAFT.SNAPSHOT: %s after %.2f s; snapshot %s bytes at index %s, %s ms by INFO" %
              (answer, took, p.get("snapshot_bytes"), p.get("snapshot_index"),
               p.get("snapshot_last_ms")))
        print("  slowest SET/GET answer: %.1f ms during the snapshot (%.1f ms in the second "
              "before it)" % (worst[0] * 1000, before * 1000))
        # Every node snapshots, so all restart from a snapshot.
        for n in c.nodes:
            if n is not leader:
                call(n.port, "RAFT.SNAPSHOT", timeout=600)
        took = restart_all(c, "key:0")
        print("  restart of all three from the snapshot: first GET after %.2f s" % took)
        leader = c.leader(seconds=60)
        follower = next(n for n in c.nodes if n is not leader)
        # The leader's log must no longer reach back to 1, or the follower would catch up from it.
        load_keys(leader, 2000)
        call(leader.port, "RAFT.SNAPSHOT", timeout=600)
        call(leader.port, "SET", "after", "1")
        call(leader.port, "RAFT.SNAPSHOT", timeout=600)
        print("  leader log now starts at %s" % info(leader, "persistence").get("log_first_index"))
        follower.kill()
        shutil.rmtree(os.path.join(follower.dir, "data"))
        follower.start()
        t0 = time.monotonic()
        target = applied(leader)
        ok = wait_until(lambda: applied(follower) >= target, 600, interval=0.05)
        took = time.monotonic() - t0
        p = info(follower, "persistence")
        print("  follower rebuilt from an empty data dir in %.2f s%s (snapshots installed %s); "
              "peak resident: leader %.1f MB, follower %.1f MB" %
              (took, "" if ok else " (NOT caught up)", p.get("snapshots_installed"),
               status(leader, "VmHWM"), status(follower, "VmHWM")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--small-sets", type=int, default=10_000_000)
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--skip-small", action="store_true")
    ap.add_argument("--skip-large", action="store_true")
    ap.add_argument("--conf", default="", help="extra prez.conf lines, e.g. 'snapshot-entries 5000'")
    args = ap.parse_args()
    print("snapshot bench: %s, load average %s" %
          (time.strftime("%Y-%m-%d %H:%M"), open("/proc/loadavg").read().split()[0]))
    if not args.skip_small:
        part_small(args.binary, args.small_sets, args.conf.replace("\\n", "\n") + "\n")
    if not args.skip_large:
        part_large(args.binary, args.keys, args.conf.replace("\\n", "\n") + "\n")


if __name__ == "__main__":
    main()
