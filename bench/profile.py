#!/usr/bin/env python3
"""Where a 3-node prez cluster spends its CPU under one redis-benchmark load (default: SET, -c 50,
-P 1, 100-byte values), sampled with `perf record` on the leader and one follower at once, plus
context switches and CPU time per request from /proc.

    python3 bench/profile.py build-release/prez-server [-n 60000] [--seconds 10] \\
        [--env PREZ_CAF_OPTIONS="--scheduler.policy=sharing"] [--call-graph]

perf needs linux-perf (Debian) and perf_event_paranoid <= 1 or root. Prints, per node, the top
symbols (kernel and user), the shares by shared object, and the context switches per request.
Every process it starts is stopped on exit. It builds nothing.
"""
import argparse
import glob
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from prez_harness import Cluster  # noqa: E402


def switches(pid):
    """(voluntary, involuntary) context switches summed over the process's threads."""
    v = nv = 0
    for status in glob.glob(f"/proc/{pid}/task/*/status"):
        try:
            with open(status) as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        v += int(line.split()[1])
                    elif line.startswith("nonvoluntary_ctxt_switches:"):
                        nv += int(line.split()[1])
        except OSError:
            pass
    return v, nv


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def threads(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def perf_report(data, sort, limit):
    out = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", sort,
                          "--percent-limit", str(limit)],
                         capture_output=True, text=True, timeout=600).stdout
    return [line for line in out.splitlines() if line.strip() and not line.startswith("#")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("-n", type=int, default=60000)
    ap.add_argument("-P", type=int, default=1, dest="pipeline")
    ap.add_argument("-t", default="set", dest="test")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--env", action="append", default=[], metavar="VAR=VALUE")
    ap.add_argument("--call-graph", action="store_true", help="perf record -g (frame pointers)")
    ap.add_argument("--out", default="/tmp/prez-profile")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    env = dict(kv.partition("=")[::2] for kv in args.env)

    def stop(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, stop)

    with Cluster(args.binary, size=3, node_timeout_ms=1000) as c:
        for n in c.nodes:
            n.env = env
        c.start()
        leader = c.leader()
        follower = next(n for n in c.nodes if n is not leader)
        for n in (leader, follower):
            c.write(n, "warm-up", "1", seconds=15)
        print(f"load {open('/proc/loadavg').read().split()[:3]}, env {env or '{}'}; leader "
              f"{leader.name} pid {leader.proc.pid} ({threads(leader.proc.pid)} threads), "
              f"follower {follower.name} pid {follower.proc.pid}", flush=True)
        bench = subprocess.Popen(["redis-benchmark", "-p", str(leader.port), "-c", "50", "-n",
                                  str(args.n), "-d", "100", "-r", "100000", "-P",
                                  str(args.pipeline), "-t", args.test, "--csv"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                 start_new_session=True)
        perfs = []
        try:
            time.sleep(1.0)  # past the connection burst
            nodes = {"leader": leader, "follower": follower}
            before = {k: (switches(n.proc.pid), cpu_s(n.proc.pid)) for k, n in nodes.items()}
            t0 = time.monotonic()
            for role, n in nodes.items():
                cmd = ["perf", "record", "-q", "-F", "997", "-p", str(n.proc.pid), "-o",
                       os.path.join(args.out, f"{role}.data")]
                if args.call_graph:
                    cmd.insert(2, "-g")
                perfs.append(subprocess.Popen(cmd + ["--", "sleep", str(args.seconds)],
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                              start_new_session=True))
            for p in perfs:
                p.wait(timeout=args.seconds + 60)
            elapsed = time.monotonic() - t0
            after = {k: (switches(n.proc.pid), cpu_s(n.proc.pid)) for k, n in nodes.items()}
            # the request count over the window, from the leader's own applied index
            out, _ = bench.communicate(timeout=600)
        finally:
            for p in perfs + [bench]:
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
        rate = next((float(line.split('","')[1]) for line in out.splitlines()
                     if line.startswith('"SET"') or line.startswith('"GET"')), float("nan"))
        print(f"redis-benchmark -t {args.test} -P {args.pipeline} -c 50: {rate:,.0f} req/s", flush=True)
        for role in ("leader", "follower"):
            (v0, nv0), c0 = before[role]
            (v1, nv1), c1 = after[role]
            requests = rate * elapsed
            print(f"\n== {role}: {elapsed:.1f} s window, ~{requests:,.0f} requests; context switches "
                  f"voluntary {v1 - v0:,} ({(v1 - v0) / requests:.2f}/request), involuntary "
                  f"{nv1 - nv0:,}; CPU {c1 - c0:.2f} s ({(c1 - c0) / elapsed * 100:.0f}% of one core, "
                  f"{(c1 - c0) / requests * 1e6:.0f} us/request)")
            data = os.path.join(args.out, f"{role}.data")
            print("-- by shared object (>= 1%)")
            for line in perf_report(data, "dso", 1):
                print("   " + line.strip())
            print("-- top symbols (>= 0.7%)")
            for line in perf_report(data, "dso,sym", 0.7)[:40]:
                print("   " + line.strip())


if __name__ == "__main__":
    main()
