#!/usr/bin/env python3
"""Fault run against a real prez cluster: concurrent clients do random SET / SET NX / SET GET /
GET / DEL (and INCR, MULTI/EXEC when the server supports them) on a small key set while a seeded
nemesis kills, pauses and restarts nodes. Every operation is recorded and, at the end:
  (a) the history is checked for linearizability (tests/fault/linearizability.py), and
  (b) every acknowledged write survives a full restart: all nodes are SIGKILLed and started
      again, every key is read, and these final reads are checked as part of the history
      (each must return the last linearized write, or a value an unknown write could have left).

Usage: run_fault.py PATH/TO/prez-server [--nodes 3|5] [--seconds S] [--seed N] [--seeds M]
                    [--clients C] [--keys K] [--incr auto|on|off] [--multi auto|on|off]
Exit status: 0 all runs passed, 1 a violation / lost write / crash / no recovery, 2 a check was
inconclusive (search bound hit), 3 usage or setup error.
"""
import argparse
import os
import random
import signal
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

from prez_harness import Client, Cluster, RespError, encode, info_raft, wait_until  # noqa: E402
from linearizability import INF, Op, check_history, describe, report  # noqa: E402
from nemesis import KINDS, Nemesis  # noqa: E402

NODE_TIMEOUT_MS = 500


class Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise Stop("signal %d" % signum)


# ---------------------------------------------------------------------------------------------
# Clients.

class Recorder:
    def __init__(self):
        self.ops = []
        self.lock = threading.Lock()
        self.unexpected = {}   # error text prefix -> count

    def add(self, op):
        with self.lock:
            op.id = len(self.ops)
            self.ops.append(op)


def classify_error(text):
    """Maps an error reply to a status: fail (not applied), unknown, or unknown+unexpected."""
    code = text.split(" ", 1)[0]
    if code in ("CLUSTERDOWN", "TRYAGAIN"):
        return "fail", False
    if text.startswith("ERR this node was removed from the cluster"):
        return "fail", False  # a removed node refuses everything before doing anything
    if code == "UNKNOWN":
        return "unknown", False
    return "unknown", True


class Worker(threading.Thread):
    def __init__(self, index, cluster, keys, counters, rec, until, op_timeout, seed, use_incr,
                 use_multi):
        super().__init__(name="client-%d" % index, daemon=True)
        self.index, self.cluster, self.keys, self.counters = index, cluster, keys, counters
        self.rec, self.until, self.op_timeout = rec, until, op_timeout
        self.rng = random.Random(seed * 1000 + index)
        self.use_incr, self.use_multi = use_incr, use_multi
        self.conn = None
        self.n = 0
        self.stop_event = threading.Event()
        self.name_ = "c%d" % index
        self.error = None

    def value(self):
        self.n += 1
        return "c%d-%d" % (self.index, self.n)

    def number(self):
        # Unique-ish integers so INCR results stay informative.
        self.n += 1
        return str(self.index * 1_000_000_000 + self.n * 1000)

    def choose(self):
        key = self.rng.choice(self.keys + self.counters)
        x = self.rng.random()
        if key in self.counters:
            if self.use_multi and x < 0.10:
                micro = self.rng.choice([[("incr", None), ("incr", None)],
                                         [("get", None), ("incr", None)],
                                         [("set", self.number()), ("incr", None)]])
                return key, "txn", micro
            if x < 0.50:
                return key, "incr", None
            if x < 0.80:
                return key, "get", None
            if x < 0.90:
                return key, "set", self.number()
            return key, "del", None
        if self.use_multi and x < 0.10:
            micro = self.rng.choice([[("get", None), ("set", self.value())],
                                     [("set", self.value()), ("get", None)],
                                     [("get", None), ("del", None)]])
            return key, "txn", micro
        if x < 0.45:
            return key, "get", None
        if x < 0.75:
            return key, "set", self.value()
        if x < 0.85:
            return key, "getset", self.value()
        if x < 0.90:
            return key, "setnx", self.value()
        return key, "del", None

    @staticmethod
    def command(key, f, arg):
        if f == "get":
            return ["GET", key]
        if f == "set":
            return ["SET", key, arg]
        if f == "setnx":
            return ["SET", key, arg, "NX"]
        if f == "getset":
            return ["SET", key, arg, "GET"]
        if f == "del":
            return ["DEL", key]
        if f == "incr":
            return ["INCR", key]
        raise ValueError(f)

    @staticmethod
    def decode(f, reply):
        """Reply -> model result; raises ValueError when the reply has the wrong shape."""
        if isinstance(reply, RespError):
            if f == "incr" and "not an integer" in str(reply):
                return "ERR"
            raise reply
        if f == "set":
            if reply != "OK":
                raise ValueError("SET replied %r" % (reply,))
            return "OK"
        if f == "setnx":
            if reply not in ("OK", None):
                raise ValueError("SET NX replied %r" % (reply,))
            return reply == "OK"
        if f in ("get", "getset"):
            if reply is not None and not isinstance(reply, str):
                raise ValueError("%s replied %r" % (f, reply))
            return reply
        if f in ("del", "incr"):
            if not isinstance(reply, int):
                raise ValueError("%s replied %r" % (f, reply))
            return reply
        raise ValueError(f)

    def _drop(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def one(self):
        key, f, arg = self.choose()
        op = Op(self.name_, key, f, arg, time.monotonic(), None, "unknown")
        sent = False
        try:
            if self.conn is None:
                node = self.rng.choice(self.cluster.nodes)
                self.conn = Client(node.port, timeout=self.op_timeout)
            if f == "txn":
                payload = encode("MULTI") + b"".join(
                    encode(*self.command(key, mf, ma)) for mf, ma in arg) + encode("EXEC")
            else:
                payload = encode(*self.command(key, f, arg))
            sent = True   # from here on, bytes may have reached the server
            self.conn.send_raw(payload)
            if f == "txn":
                replies = [self.conn.read_reply() for _ in range(len(arg) + 2)]
                head, queued, exec_reply = replies[0], replies[1:-1], replies[-1]
                for r in [head] + queued:
                    if isinstance(r, RespError):
                        raise r
                if isinstance(exec_reply, RespError):
                    raise exec_reply
                if not isinstance(exec_reply, list) or len(exec_reply) != len(arg):
                    raise ValueError("EXEC replied %r" % (exec_reply,))
                result = [self.decode(mf, r) for (mf, _), r in zip(arg, exec_reply)]
            else:
                result = self.decode(f, self.conn.read_reply())
            op.status, op.result = "ok", result
        except RespError as e:
            text = str(e)
            if text.startswith("EXECABORT"):
                status, unexpected = "fail", True
            else:
                status, unexpected = classify_error(text)
            op.status, op.note = status, text[:60]
            if unexpected:
                with self.rec.lock:
                    k = text[:50]
                    self.rec.unexpected[k] = self.rec.unexpected.get(k, 0) + 1
            if f == "txn" or unexpected:
                self._drop()  # the connection may be mid-transaction
        except (socket.timeout, TimeoutError):
            op.status = "unknown" if sent else "fail"
            op.note = "client timeout" if sent else "connect timeout"
            self._drop()
        except (OSError, ConnectionError) as e:
            op.status = "unknown" if sent else "fail"
            op.note = ("connection lost: " if sent else "connect: ") + type(e).__name__
            self._drop()
        except ValueError as e:
            op.status, op.note = "unknown", "bad reply: %s" % (e,)
            with self.rec.lock:
                self.rec.unexpected["bad reply"] = self.rec.unexpected.get("bad reply", 0) + 1
            self._drop()
        op.complete = time.monotonic() if op.status == "ok" or op.status == "fail" else INF
        op.note = op.note or ""
        if op.status == "unknown":
            op.note = "%s; gave up at +%.3f" % (op.note, time.monotonic() - op.invoke)
        self.rec.add(op)
        if op.status == "fail":
            time.sleep(self.rng.uniform(0.01, 0.05))  # no leader yet: do not spin

    def run(self):
        try:
            while time.monotonic() < self.until and not self.stop_event.is_set():
                self.one()
        except Exception as e:
            self.error = e
        finally:
            self._drop()


# ---------------------------------------------------------------------------------------------
# Setup and the end-of-run checks.

def probe(cluster, what, seconds=10):
    """True if the server supports INCR / MULTI (probed on a key outside the workload)."""
    def attempt():
        leader = cluster.leader(seconds=5)
        with Client(leader.port, timeout=3) as c:
            if what == "incr":
                try:
                    return ("yes", c.call("INCR", "__probe:incr"))
                except RespError as e:
                    if "unknown command" in str(e).lower():
                        return ("no", str(e))
                    raise
            c.send_raw(encode("MULTI") + encode("GET", "__probe:multi") + encode("EXEC"))
            replies = [c.read_reply() for _ in range(3)]
            if isinstance(replies[0], RespError):
                if "unknown command" in str(replies[0]).lower():
                    return ("no", str(replies[0]))
                raise replies[0]
            if replies[0] == "OK" and isinstance(replies[2], list):
                return ("yes", replies)
            raise RuntimeError("MULTI probe: %r" % (replies,))
    got = wait_until(attempt, seconds, interval=0.2)
    return bool(got) and got[0] == "yes"


def wait_writable(cluster, seconds):
    """Waits until a SET through some node is acknowledged (a leader exists and commits)."""
    def attempt():
        leader = cluster.leader(seconds=2)
        with Client(leader.port, timeout=2) as c:
            return c.call("SET", "__probe:alive", "1") == "OK"
    return wait_until(attempt, seconds, interval=0.2)


def final_reads(cluster, keys, rec, seconds=30):
    """Reads every key (retrying not-applied errors), recording each attempt as a GET op."""
    missing = []
    end = time.monotonic() + seconds
    for key in keys:
        done = False
        while not done and time.monotonic() < end:
            node = random.choice(cluster.nodes)
            op = Op("final", key, "get", None, time.monotonic(), None, "unknown")
            try:
                with Client(node.port, timeout=3) as c:
                    op.result = c.call("GET", key)
                    op.status = "ok"
                    done = True
            except RespError as e:
                op.status, op.note = classify_error(str(e))[0], str(e)[:60]
            except OSError as e:
                op.status, op.note = "fail", type(e).__name__
            op.complete = time.monotonic()
            rec.add(op)
            if not done:
                time.sleep(0.1)
        if not done:
            missing.append(key)
    return missing


def corrupt(ops):
    """Self-test of the pipeline: turns one ok GET into a stale read (a value overwritten by a
    write that completed before the GET started). The run must then report a violation."""
    sets = [op for op in ops if op.f == "set" and op.status == "ok"]
    reads = [op for op in ops if op.f == "get" and op.status == "ok" and op.client != "final"]
    for read in reversed(reads[: len(reads) // 2]):
        for w2 in sets:
            if w2.key != read.key or w2.complete >= read.invoke:
                continue
            for w1 in sets:
                if w1.key == read.key and w1.complete < w2.invoke:
                    print("corrupt-history: GET %s at op %d now returns %s (overwritten by %s)"
                          % (read.key, read.id, w1.arg, w2.arg))
                    read.result = w1.arg
                    return
    print("corrupt-history: found nothing to corrupt")


def counts_table(ops, t_client_ops):
    kinds = {}
    for op in ops:
        k = kinds.setdefault(op.f, {"ok": 0, "fail": 0, "unknown": 0})
        k[op.status] += 1
    lines = ["  %-7s %7s %7s %8s" % ("op", "ok", "fail", "unknown")]
    tot = {"ok": 0, "fail": 0, "unknown": 0}
    for f in sorted(kinds):
        c = kinds[f]
        lines.append("  %-7s %7d %7d %8d" % (f, c["ok"], c["fail"], c["unknown"]))
        for s in tot:
            tot[s] += c[s]
    lines.append("  %-7s %7d %7d %8d   (%.0f ops/s)" % ("total", tot["ok"], tot["fail"],
                                                      tot["unknown"],
                                                      sum(tot.values()) / max(t_client_ops, 1e-9)))
    return "\n".join(lines), tot


def run_one(args, seed):
    """One seeded run. Returns (verdict, totals dict)."""
    rng = random.Random(seed)
    print("=== fault run: seed=%d nodes=%d seconds=%s clients=%d keys=%d binary=%s"
          % (seed, args.nodes, args.seconds, args.clients, args.keys, args.binary), flush=True)
    totals = {"ops": 0, "ok": 0, "fail": 0, "unknown": 0, "faults": 0, "violations": 0}
    rec = Recorder()
    problems = []
    with Cluster(args.binary, size=args.nodes, node_timeout_ms=NODE_TIMEOUT_MS) as cluster:
        if args.snapshot_entries:
            # Snapshots every few hundred writes: compaction and InstallSnapshot under the faults.
            for n in cluster.nodes:
                n.write_config("snapshot-entries %d\nsnapshot-trailing-entries %d\n"
                               % (args.snapshot_entries, args.snapshot_entries // 10))
        print("node dirs: %s%s" % (cluster.root, "" if os.environ.get("PREZ_KEEP_TEST_DIRS")
                                    else " (removed at exit; PREZ_KEEP_TEST_DIRS=1 keeps them)"))
        cluster.start()
        if not wait_writable(cluster, 30):
            print("SETUP FAILED: no leader accepted a write within 30 s")
            for n in cluster.nodes:
                print("--- %s ---\n%s" % (n.name, n.tail_log()))
            return "error", totals
        use_incr = {"on": True, "off": False}.get(args.incr) if args.incr != "auto" else \
            probe(cluster, "incr")
        use_multi = {"on": True, "off": False}.get(args.multi) if args.multi != "auto" else \
            probe(cluster, "multi")
        print("workload: SET, SET NX, SET GET, GET, DEL; INCR %s; MULTI/EXEC %s"
              % ("used" if use_incr else "not used (%s)" % (
                  "unsupported" if args.incr == "auto" else "off"),
                 "used" if use_multi else "not used (%s)" % (
                     "unsupported" if args.multi == "auto" else "off")), flush=True)
        keys = ["k%d" % i for i in range(args.keys)]
        counters = ["n%d" % i for i in range(max(1, args.keys // 2))] if use_incr else []

        t0 = time.monotonic()
        until = t0 + args.seconds
        nemesis = Nemesis(cluster, rng.randrange(2**32), t0, until - 1.0, NODE_TIMEOUT_MS,
                          log=lambda s: print(s, flush=True) if args.verbose else None,
                          partitions=args.partitions)
        workers = [Worker(i, cluster, keys, counters, rec, until, args.op_timeout, seed,
                          use_incr, use_multi) for i in range(args.clients)]
        try:
            for w in workers:
                w.start()
            nemesis.start()
            for w in workers:
                w.join(args.seconds + args.op_timeout + 30)
            nemesis.stop(60)
        finally:
            # Stop the nemesis before anything else: it must not start a node after the
            # Cluster context manager has killed them all.
            for w in workers:
                w.stop_event.set()
            nemesis.stop(60)
        t_ops = time.monotonic() - t0
        hung = [w.name for w in workers if w.is_alive()] + (["nemesis"] if nemesis.is_alive()
                                                            else [])
        if hung:
            problems.append("threads did not finish in time: %s" % hung)
        for w in workers:
            if w.error is not None:
                problems.append("client %s crashed: %r" % (w.name, w.error))
        if nemesis.error is not None:
            problems.append("nemesis error: %r" % (nemesis.error,))

        # Heal, then a full crash-restart, then read every key.
        nemesis.heal()
        if not wait_writable(cluster, 30):
            problems.append("no leader accepted a write within 30 s after healing")
        nemesis.check_crashes()
        for n in cluster.nodes:
            n.kill()
        restart_at = time.monotonic() - t0
        for n in cluster.nodes:
            n.start()
        if not wait_writable(cluster, 30):
            problems.append("no leader accepted a write within 30 s after the full restart")
        missing = final_reads(cluster, keys + counters, rec)
        if missing:
            problems.append("final reads of %s did not succeed within 30 s" % missing)
        nemesis.check_crashes()
        for when, name, code, tail in nemesis.crashes:
            problems.append("%s exited by itself at t=%.3f with code %s; last log lines:\n%s"
                            % (name, when, code, tail))

        # Report.
        client_ops = [op for op in rec.ops if op.client != "final"]
        table, tot = counts_table(client_ops, t_ops)
        totals.update(ops=len(client_ops), **tot)
        totals["faults"] = sum(nemesis.counts.values())
        for k in KINDS:
            totals["fault:" + k] = nemesis.counts[k]
        print("seed=%d: %d client ops in %.1f s" % (seed, len(client_ops), t_ops))
        print(table)
        print("faults: " + ", ".join("%s %d" % (k, nemesis.counts[k]) for k in KINDS
                                     if k in nemesis.weights)
              + "; full restart before final reads at t=%.3f" % restart_at)
        if rec.unexpected:
            print("unexpected replies: %s" % rec.unexpected)

        if args.corrupt_history:
            corrupt(rec.ops)

        t_check = time.monotonic()
        results = check_history(rec.ops, max_states=args.max_states,
                                max_seconds=args.max_check_seconds)
        bad = {k: r for k, r in results.items() if r.verdict == "violation"}
        unsure = {k: r for k, r in results.items() if r.verdict == "inconclusive"}
        print("linearizability: %d keys checked in %.1f s, %d states visited: %s"
              % (len(results), time.monotonic() - t_check,
                 sum(r.states for r in results.values()),
                 "OK" if not bad and not unsure else
                 "%d violation(s), %d inconclusive" % (len(bad), len(unsure))))
        for k, r in unsure.items():
            print(report(r, t0))
        if bad:
            totals["violations"] = len(bad)
            # Which property broke: without the final reads, is the history fine?
            without_final = check_history([op for op in rec.ops if op.client != "final"],
                                          max_states=args.max_states,
                                          max_seconds=args.max_check_seconds,
                                          minimize_violations=False)
            for k, r in bad.items():
                before = without_final.get(k)
                if before is not None and before.verdict == "ok":
                    print("key %r: the history was linearizable until the final reads after the "
                          "full restart: an acknowledged write did not survive the restart, or "
                          "a value appeared that no write could have left" % k)
                print(report(r, t0))
            # Is the violation explained by a "not applied" error that was applied after all?
            relaxed = []
            for op in rec.ops:
                if op.status == "fail" and op.f != "get" and op.note and "connect" not in op.note:
                    op2 = Op(op.client, op.key, op.f, op.arg, op.invoke, None, "unknown",
                             None, op.note, op.id)
                    relaxed.append(op2)
                else:
                    relaxed.append(op)
            again = check_history([op for op in relaxed if op.key in bad],
                                  max_states=args.max_states,
                                  max_seconds=args.max_check_seconds, minimize_violations=False)
            fixed = [k for k, r in again.items() if r.verdict == "ok"]
            if fixed:
                print("NOTE: keys %s become linearizable if writes answered -CLUSTERDOWN/-TRYAGAIN "
                      "are treated as unknown: a write reported 'not applied' was applied." % fixed)
        verdict = "ok"
        if bad or problems:
            verdict = "fail"
        elif unsure:
            verdict = "inconclusive"
        for p in problems:
            print("PROBLEM: " + p)
        if verdict != "ok":
            print("fault schedule (seed=%d):\n%s" % (seed, nemesis.describe_schedule() or
                                                     "  (none)"))
            print("reproduce: PREZ_KEEP_TEST_DIRS=1 python3 %s %s --nodes %d --seconds %g "
                  "--clients %d --keys %d --incr %s --multi %s --seed %d%s -v"
                  % (os.path.abspath(__file__), args.binary, args.nodes, args.seconds,
                     args.clients, args.keys, "on" if use_incr else "off",
                     "on" if use_multi else "off", seed,
                     " --partitions" if args.partitions else ""))
            for n in cluster.nodes:
                print("--- last log lines of %s ---\n%s" % (n.name, n.tail_log(15)))
        print("seed=%d verdict: %s" % (seed, verdict.upper()), flush=True)
        return verdict, totals


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("binary")
    p.add_argument("--nodes", type=int, default=3, choices=(3, 5))
    p.add_argument("--seconds", type=float, default=15.0, help="workload+nemesis time per run")
    p.add_argument("--seed", type=int, default=None, help="first seed (default: random)")
    p.add_argument("--seeds", type=int, default=1, help="number of runs, seeds seed..seed+M-1")
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--keys", type=int, default=4)
    p.add_argument("--op-timeout", type=float, default=3.5, help="client timeout per call (s)")
    p.add_argument("--incr", choices=("auto", "on", "off"), default="auto")
    p.add_argument("--multi", choices=("auto", "on", "off"), default="auto")
    p.add_argument("--max-states", type=int, default=3_000_000,
                   help="checker bound per key (states) before 'inconclusive'")
    p.add_argument("--max-check-seconds", type=float, default=120.0,
                   help="checker bound per key (seconds) before 'inconclusive'")
    p.add_argument("--corrupt-history", action="store_true",
                   help="self-test: make one recorded GET stale; the run must then fail")
    p.add_argument("--verbose", "-v", action="store_true", help="log each fault as it happens")
    p.add_argument("--partitions", action="store_true",
                   help="also cut nodes off the network (needs a -DPREZ_FAULT_INJECTION=ON build)")
    p.add_argument("--snapshot-entries", type=int, default=0,
                   help="snapshot-entries for every node (default: prez's own); small values make "
                        "followers catch up by InstallSnapshot after kills and partitions")
    args = p.parse_args()
    if not os.access(args.binary, os.X_OK):
        print("not an executable: %s" % args.binary)
        return 3
    signal.signal(signal.SIGTERM, _raise_stop)
    first = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10**6)
    grand = {}
    verdicts = {}
    try:
        for seed in range(first, first + args.seeds):
            verdict, totals = run_one(args, seed)
            verdicts[seed] = verdict
            for k, v in totals.items():
                grand[k] = grand.get(k, 0) + v
    except (KeyboardInterrupt, Stop) as e:
        print("interrupted (%s); every node was killed" % (type(e).__name__,))
        return 1
    if args.seeds > 1:
        print("=== %d runs: %s" % (len(verdicts), ", ".join("%d:%s" % kv for kv in verdicts.items())))
        print("totals: " + ", ".join("%s %d" % kv for kv in sorted(grand.items())))
    if any(v in ("fail", "error") for v in verdicts.values()):
        return 1
    if any(v == "inconclusive" for v in verdicts.values()):
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
