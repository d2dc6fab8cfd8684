#!/usr/bin/env python3
"""prez against etcd and Redis on this machine, as the ratios of issue 13 ("Speed").

    python3 bench/compare.py build-release/prez-server                      # one prez variant
    python3 bench/compare.py build-release/prez-server -n 50000 --repeat 2 \\
        --variant default \\
        --variant sharing PREZ_CAF_OPTIONS="--scheduler.policy=sharing --middleman.workers=0" \\
        --variant jemalloc LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 \
        --variant before PREZ_BINARY=/tmp/old/build-release/prez-server     # another build

It builds nothing. The peers (Redis 7 single and master + 2 replicas, etcd 3.4 x 3) run once, through
the shared /work/shared/bench-peers/run-all.sh (ONLY=redis, then ONLY=etcd). Then, for each round
and each variant (an environment for the prez-server processes), a fresh 3-node prez cluster
(tests/integration/prez_harness.py's Cluster, free 127.0.0.1 ports, fsync on as always) is
measured with the same run-all.sh (ONLY=target): at the leader, then at a follower (for GET).
After that: a `redis-cli --pipe` bulk load of --bulk-keys SETs of 100-byte values into the leader
(and into a single Redis with appendfsync always), the resident memory of every node once all
have applied it, and --failovers SIGKILLs of the leader timed to the first acknowledged write.

Every process it starts is stopped on exit (also on Ctrl-C or SIGTERM). Everything shares the
machine's cores: compare only inside one run, as ratios; the load average is printed at the start
and at the end of every cluster.
"""
import argparse
import csv
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from prez_harness import Cluster, call, free_port, info_raft, wait_until  # noqa: E402

RUN_ALL = "/work/shared/bench-peers/run-all.sh"
VALUE_BYTES = 100


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def log(message):
    print(message, flush=True)


def git_commit(repo):
    try:
        sha = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "?"


def run_all(only, n, etcd_n, out, extra_env=None):
    """Runs the shared run-all.sh with ONLY=only; returns its results.tsv rows (dicts)."""
    env = dict(os.environ, ONLY=only, N=str(n), ETCD_N=str(etcd_n), OUT=out)
    env.update(extra_env or {})
    # Its own process group, so a stop of ours reaches redis-benchmark and etcd's tool too.
    proc = subprocess.Popen(["bash", RUN_ALL], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        for line in proc.stdout:
            if line.startswith(("  ", "    ", "-- ", "== WARN", "== machine")):
                log("    | " + line.rstrip())
        proc.wait(timeout=3600)
    except BaseException:
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # run-all.sh's EXIT trap stops its servers
            proc.wait(timeout=30)
        except (OSError, subprocess.SubprocessError):
            os.killpg(proc.pid, signal.SIGKILL)
        raise
    path = os.path.join(out, "results.tsv")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def pick(rows, system, op, pipeline):
    for r in rows:
        if r["system"] == system and r["op"] == op and r["pipeline"] == pipeline:
            return r
    return None


def num(row, column):
    try:
        return float(row[column]) if row else float("nan")
    except (KeyError, ValueError):
        return float("nan")


def write_bulk_file(path, keys):
    """RESP SET commands for key:000000000000.. (16 bytes, as redis-benchmark's keys) with
    100-byte values, the input of `redis-cli --pipe`."""
    value = b"v" * VALUE_BYTES
    with open(path, "wb") as f:
        chunk = []
        for i in range(keys):
            key = b"key:%012d" % i
            chunk.append(b"*3\r\n$3\r\nSET\r\n$16\r\n%s\r\n$%d\r\n%s\r\n" % (key, VALUE_BYTES, value))
            if len(chunk) == 10000:
                f.write(b"".join(chunk))
                chunk = []
        f.write(b"".join(chunk))


def pipe_load(port, bulk_file, timeout_s=1800):
    """`redis-cli --pipe` of the file into 127.0.0.1:port; returns (seconds, its last line)."""
    t0 = time.monotonic()
    with open(bulk_file, "rb") as f:
        p = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), "--pipe"], stdin=f,
                           capture_output=True, text=True, timeout=timeout_s)
    seconds = time.monotonic() - t0
    lines = [x for x in (p.stdout + p.stderr).splitlines() if x.strip()]
    return seconds, (lines[-1] if lines else "") + ("" if p.returncode == 0 else f" rc={p.returncode}")


def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def wait_port(port, seconds):
    def up():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            return False
    return wait_until(up, seconds)


def redis_bulk(bulk_file, keys, workdir):
    """A single Redis (appendonly, appendfsync always) loaded with the bulk file: (seconds, RSS MiB)."""
    port = free_port()
    d = tempfile.mkdtemp(prefix="redis-bulk-", dir=workdir)
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", d,
                             "--save", "", "--appendonly", "yes", "--appendfsync", "always",
                             "--daemonize", "no", "--logfile", os.path.join(d, "redis.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        if not wait_port(port, 10):
            return float("nan"), float("nan"), "redis did not start"
        seconds, last = pipe_load(port, bulk_file)
        size = subprocess.run(["redis-cli", "-p", str(port), "dbsize"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
        time.sleep(1)
        return seconds, rss_mib(proc.pid), f"{last}; dbsize {size} of {keys}"
    finally:
        proc.kill()
        proc.wait(timeout=10)
        shutil.rmtree(d, ignore_errors=True)


def applied(node):
    try:
        return int(info_raft(node.port).get("last_applied", "0").strip() or 0)
    except Exception:
        return -1


def measure_variant(args, name, env, round_no, bulk_file, out):
    """One fresh 3-node cluster with `env`: run-all at leader and follower, bulk load, RSS,
    failovers. Returns a dict of figures."""
    r = {"variant": name, "round": round_no, "load_start": loadavg()}
    env = dict(env)
    binary = env.pop("PREZ_BINARY", args.binary)  # a variant may run another build
    with Cluster(binary, size=3, node_timeout_ms=args.node_timeout_ms) as c:
        for n in c.nodes:
            n.env = dict(env)
        c.start()
        leader = c.leader()
        follower = next(n for n in c.nodes if n is not leader)
        for n in (leader, follower):
            if not c.write(n, "warm-up", "1", seconds=15):
                raise RuntimeError(f"{n.name} does not take writes")
        pids = " ".join(str(n.proc.pid) for n in c.nodes)
        log(f"  [{name} round {round_no}] leader {leader.name}:{leader.port}, follower "
            f"{follower.name}:{follower.port}, pids {pids}, load {r['load_start']}")
        for target, node in (("leader", leader), ("follower", follower)):
            if target == "follower" and args.skip_follower:
                continue
            label = f"prez-{name}-{target}"
            rows = run_all("target", args.n, args.n, os.path.join(out, f"{label}-r{round_no}"),
                           {"RESP_TARGET": f"{label}={node.port}", "RESP_PIDS": pids})
            for op in ("SET", "GET"):
                for p in ("1", "16"):
                    row = pick(rows, label, op, p)
                    r[f"{target}_{op}_P{p}"] = num(row, "ops_s")
                    r[f"{target}_{op}_P{p}_p99"] = num(row, "p99_ms")
            if c.leader() is not leader:
                r["note"] = "leader changed during the run"
                leader = c.leader()
        if bulk_file:
            seconds, last = pipe_load(leader.port, bulk_file)
            r["bulk_s"] = seconds
            r["bulk_note"] = last
            target_index = applied(leader)
            wait_until(lambda: all(applied(n) >= target_index for n in c.nodes), 120, interval=0.2)
            r["rss_after_load"] = {n.name: rss_mib(n.proc.pid) for n in c.nodes}
            time.sleep(args.settle_s)  # D20: freed memory goes back to the OS every 5 s
            r["rss_settled"] = {n.name: rss_mib(n.proc.pid) for n in c.nodes}
            r["rss_leader"] = r["rss_settled"][leader.name]
            r["rss_max"] = max(r["rss_settled"].values())
            try:
                r["dbsize"] = call(leader.port, "DBSIZE", timeout=10)
            except Exception as e:  # noqa: BLE001 - a figure, not a test
                r["dbsize"] = f"? ({e})"
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
            wait_until(lambda: call(leader.port, "GET", "f", timeout=1) == "1", 30)
        r["failover_ms"] = times
    r["load_end"] = loadavg()
    return r


def fmt(x, d=0):
    return "-" if x != x else f"{x:,.{d}f}"


def ratio_line(label, value, reference, target, higher_is_better=True):
    if value != value or reference != reference or reference == 0:
        return f"    {label:44s} {'-':>8s}"
    q = value / reference
    ok = q >= target if higher_is_better else q <= target
    sign = ">=" if higher_is_better else "<="
    return f"    {label:44s} {q:8.2f}   (target {sign} {target:g}: {'met' if ok else 'NOT met'})"


def report(peers, redis_bulk_result, results, header):
    log("\n== summary " + header)
    etcd_put = pick(peers, "etcd(3 members)", "put", "1 (1 conn)")
    etcd_put_50 = pick(peers, "etcd(3 members)", "put", "1 (50 conns)")
    etcd_put_800 = pick(peers, "etcd(3 members)", "put", "1 (800 in flight)")
    etcd_get = pick(peers, "etcd(3 members)", "get(lin)", "1 (1 conn)")
    rr = "redis(1m-always+2r)"
    redis_set1 = pick(peers, rr, "SET", "1")
    redis_set16 = pick(peers, rr, "SET", "16")
    redis_single1 = pick(peers, "redis(aof-always)", "SET", "1")
    log("  peers (ops/s, p99 ms):")
    for label, row in (("etcd put c50 (1 conn)", etcd_put), ("etcd put c50 (50 conns)", etcd_put_50),
                       ("etcd put 800 in flight", etcd_put_800),
                       ("etcd get(lin) c50 (1 conn)", etcd_get),
                       ("redis 1m(always)+2r SET P=1", redis_set1),
                       ("redis 1m(always)+2r SET P=16", redis_set16),
                       ("redis single aof-always SET P=1", redis_single1)):
        log(f"    {label:34s} {fmt(num(row, 'ops_s')):>10s}  p99 {fmt(num(row, 'p99_ms'), 3)}")
    if redis_bulk_result:
        rb_s, rb_rss, rb_note = redis_bulk_result
        log(f"    redis single (aof always) --pipe bulk: {fmt(rb_s, 2)} s, RSS {fmt(rb_rss, 1)} MiB"
            f"  [{rb_note}]")
    else:
        rb_s = rb_rss = float("nan")
    for r in results:
        log(f"  prez {r['variant']} (round {r['round']}; load {r['load_start']} -> {r['load_end']})"
            + (f"  NOTE: {r['note']}" if r.get("note") else ""))
        g = r.get
        log(f"    leader   SET P=1 {fmt(g('leader_SET_P1', float('nan'))):>9s}  "
            f"GET P=1 {fmt(g('leader_GET_P1', float('nan'))):>9s}  "
            f"SET P=16 {fmt(g('leader_SET_P16', float('nan'))):>9s}  "
            f"GET P=16 {fmt(g('leader_GET_P16', float('nan'))):>9s}  "
            f"SET P=1 p99 {fmt(g('leader_SET_P1_p99', float('nan')), 3)} ms")
        if "follower_GET_P1" in r:
            log(f"    follower SET P=1 {fmt(r['follower_SET_P1']):>9s}  "
                f"GET P=1 {fmt(r['follower_GET_P1']):>9s}  "
                f"SET P=16 {fmt(r['follower_SET_P16']):>9s}  "
                f"GET P=16 {fmt(r['follower_GET_P16']):>9s}")
        if "bulk_s" in r:
            log(f"    bulk --pipe {fmt(r['bulk_s'], 2)} s [{r['bulk_note']}; DBSIZE {r['dbsize']}]; "
                "RSS MiB after load " + ", ".join(f"{k} {fmt(v, 1)}" for k, v in r["rss_after_load"].items())
                + "; after settling " + ", ".join(f"{k} {fmt(v, 1)}" for k, v in r["rss_settled"].items()))
        if r.get("failover_ms"):
            log("    failover (SIGKILL leader -> first acknowledged write) ms: "
                + ", ".join(fmt(t) for t in r["failover_ms"]))
        nan = float("nan")
        log(ratio_line("SET P=1 / etcd put (c50, 1 conn)", g("leader_SET_P1", nan),
                       num(etcd_put, "ops_s"), 3))
        log(ratio_line("SET P=1 / redis 1m(always)+2r", g("leader_SET_P1", nan),
                       num(redis_set1, "ops_s"), 0.5))
        log(ratio_line("GET P=1 leader / etcd get(lin)", g("leader_GET_P1", nan),
                       num(etcd_get, "ops_s"), 5))
        log(ratio_line("GET P=1 follower / etcd get(lin)", g("follower_GET_P1", nan),
                       num(etcd_get, "ops_s"), 5))
        log(ratio_line("SET P=16 / redis 1m(always)+2r", g("leader_SET_P16", nan),
                       num(redis_set16, "ops_s"), 0.5))
        log(ratio_line("SET P=1 p99 / etcd put p99", g("leader_SET_P1_p99", nan),
                       num(etcd_put, "p99_ms"), 1 / 3, higher_is_better=False))
        log(ratio_line("RSS (largest node) / redis RSS", g("rss_max", nan), rb_rss, 1.5,
                       higher_is_better=False))
        log(ratio_line("bulk --pipe time / redis single", g("bulk_s", nan), rb_s, 5,
                       higher_is_better=False))
        fo = r.get("failover_ms") or []
        if fo:
            worst = max(fo)
            log(f"    {'failover worst (ms)':44s} {worst:8.0f}   (target <= 1500: "
                f"{'met' if worst <= 1500 else 'NOT met'})")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary", help="a built prez-server")
    ap.add_argument("-n", type=int, default=50000, help="requests per redis-benchmark/etcd case")
    ap.add_argument("--bulk-keys", type=int, default=1000000, help="0 skips the bulk load and RSS")
    ap.add_argument("--failovers", type=int, default=3)
    ap.add_argument("--node-timeout-ms", type=int, default=1000)
    ap.add_argument("--settle-s", type=float, default=6.0)
    ap.add_argument("--repeat", type=int, default=1, help="rounds over all variants, interleaved")
    ap.add_argument("--variant", nargs="+", action="append", metavar=("NAME", "VAR=VALUE"),
                    help="a name and the environment of its prez-server processes")
    ap.add_argument("--no-peers", action="store_true", help="skip Redis and etcd")
    ap.add_argument("--skip-follower", action="store_true")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    if not os.access(args.binary, os.X_OK):
        ap.error(f"{args.binary} is not an executable")
    variants = []
    for v in args.variant or [["default"]]:
        env = {}
        for kv in v[1:]:
            k, _, val = kv.partition("=")
            env[k] = val
        variants.append((v[0], env))
    out = args.out or os.path.join("/tmp/prez-compare", time.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(out, exist_ok=True)

    def stop(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, stop)

    repo = os.path.join(HERE, "..")
    header = (f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}, commit {git_commit(repo)}, "
              f"binary {os.path.abspath(args.binary)} (built "
              f"{time.strftime('%H:%M:%S UTC', time.gmtime(os.path.getmtime(args.binary)))}), "
              f"{os.cpu_count()} cpus, load {loadavg()}, -n {args.n}, bulk {args.bulk_keys} keys")
    log("== compare " + header)
    log("== variants: " + "; ".join(f"{n} {e or '(no extra environment)'}" for n, e in variants))
    log(f"== raw outputs in {out}")
    bulk_file = None
    peers, redis_bulk_result, results = [], None, []
    try:
        if args.bulk_keys > 0:
            bulk_file = os.path.join(out, f"bulk-{args.bulk_keys}.resp")
            write_bulk_file(bulk_file, args.bulk_keys)
        if not args.no_peers:
            log(f"-- peers (load {loadavg()})")
            peers += run_all("redis", args.n, args.n, os.path.join(out, "redis"))
            peers += run_all("etcd", args.n, args.n, os.path.join(out, "etcd"))
            if bulk_file:
                redis_bulk_result = redis_bulk(bulk_file, args.bulk_keys, out)
                log(f"    | redis single --pipe: {fmt(redis_bulk_result[0], 2)} s, RSS "
                    f"{fmt(redis_bulk_result[1], 1)} MiB [{redis_bulk_result[2]}]")
        for round_no in range(1, args.repeat + 1):
            for name, env in variants:
                log(f"-- prez {name} round {round_no} (load {loadavg()})")
                results.append(measure_variant(args, name, env, round_no, bulk_file, out))
    finally:
        if bulk_file and os.path.exists(bulk_file):
            os.remove(bulk_file)
        report(peers, redis_bulk_result, results, header + f"; load at end {loadavg()}")


if __name__ == "__main__":
    main()
