#!/usr/bin/env python3
"""BullMQ, unchanged, runs a queue on a 3-node prez cluster across a leader SIGKILL (issue 12).

The client side is tests/integration/bullmq/bullmq_run.js, using the npm packages bullmq and
ioredis at the exact versions of tests/integration/bullmq/package.json; scripts/test.sh installs
them with `npm ci --prefix tests/integration/bullmq` (Node and npm from Debian,
scripts/install-deps.sh). Without that node_modules directory this test FAILS and names the
command: a missing client is never a pass nor a skip.

The scenario:
1. Three nodes; the leader is found with INFO raft. Two BullMQ Workers run as separate node
   processes, one connected to each follower (so both keep their node when the leader dies),
   concurrency 8 each, lockDuration 10 s, stalledInterval 5 s, maxStalledCount 3 (BullMQ's own
   stall rule: a job whose lock lapses goes back to wait, at most 3 times). Their processor is
   cheap: it prints (job id, attemptsMade, attemptsStarted, stalledCounter, worker) as a JSON line
   and returns 2*i.
2. A producer on a follower adds 10,000 jobs {i} with Queue.addBulk in chunks of 500, each with
   attempts 3 and exponential backoff 200 ms (so BullMQ may retry), kept after completion.
   The producer does not retry anything itself: an error fails the test.
3. Once the producer has finished and at least 30 % of the jobs are completed (ZCARD of the
   completed set), the leader is SIGKILLed and restarted 1.5 s later.
4. Bounded wait (150 s after the producer started) until completed + failed reaches 10,000; the
   workers are then stopped (SIGTERM, Worker.close()).
5. Checks, from the queue (Queue.getJobCounts and every job's hash, read on a follower) and the
   workers' output: completed == 10,000 and failed, waiting, active, delayed, prioritized,
   waiting-children, paused all 0; the completed set holds exactly the ids 1..10000 and the id
   counter is 10000 (no job added twice); every job's hash has finishedOn and returnvalue 2*i;
   every job was started by a processor at least once, and never more often than its
   attemptsStarted (ats) says BullMQ handed it out; a job started more than once carries BullMQ's
   retry evidence (attemptsMade > 1 or stalledCounter > 0), otherwise the test fails; no job's
   completion was reported twice. Errors the clients saw during the failover (e.g. -UNKNOWN for a
   write whose outcome is unknown, or a dropped connection) are printed, counted by message, but
   not hidden or retried by the test: BullMQ and ioredis handle them by their own rules.

Timings of each phase are printed. Usage: test_bullmq.py PATH/TO/prez-server"""
import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prez_harness import Cluster, call, check, wait_until  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT_DIR = os.path.join(HERE, "bullmq")
PROGRAM = os.path.join(CLIENT_DIR, "bullmq_run.js")
NPM_CI = "npm ci --prefix tests/integration/bullmq"

# 10,000 jobs (issue 12). The ASan+UBSan build's run sets PREZ_BULLMQ_JOBS (CMakeLists.txt):
# the same scenario with fewer jobs, so a sanitized server (several times slower) checks memory
# safety under this workload within the test's time, while the full 10,000 run in the normal build.
JOBS = int(os.environ.get("PREZ_BULLMQ_JOBS", "10000"))
CHUNK = 500
CONCURRENCY = 8
KILL_AT = 0.30          # fraction of jobs completed before the leader is killed
DEADLINE = 150          # seconds from the producer's start until every job must be finished
QUEUE = "prez-it"


def require_client():
    """Fails (never skips) when Node or the npm packages are missing, naming the fix."""
    node = shutil.which("node")
    check(node is not None, "node is not installed: run `bash scripts/install-deps.sh` "
          "(Debian packages nodejs npm), then `%s`" % NPM_CI)
    for pkg in ("bullmq", "ioredis"):
        check(os.path.isfile(os.path.join(CLIENT_DIR, "node_modules", pkg, "package.json")),
              "tests/integration/bullmq/node_modules/%s is missing: run `%s` "
              "(scripts/test.sh does) before this test" % (pkg, NPM_CI))
    return node


class NodeProc:
    """One bullmq_run.js process; its stdout (JSON lines) and stderr go to files."""

    def __init__(self, node, workdir, name, args):
        self.name = name
        self.out_path = os.path.join(workdir, name + ".out")
        self.err_path = os.path.join(workdir, name + ".err")
        self.out = open(self.out_path, "wb")
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen([node, PROGRAM] + [str(a) for a in args], cwd=CLIENT_DIR,
                                     stdout=self.out, stderr=self.err, start_new_session=True)

    def events(self):
        result = []
        with open(self.out_path, "rb") as f:
            for line in f.read().splitlines():
                try:
                    result.append(json.loads(line))
                except ValueError:
                    result.append({"ev": "garbage", "line": line[:200].decode(errors="replace")})
        return result

    def stderr(self, limit=2000):
        with open(self.err_path, "rb") as f:
            return f.read()[-limit:].decode(errors="replace")

    def stop(self, seconds=10):
        """SIGTERM (a Worker closes itself), then SIGKILL; always waits for the process."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.out.close()
        self.err.close()


def zcard(port, key):
    return call(port, "ZCARD", key, timeout=3)


def finished_count(port):
    return zcard(port, "bull:%s:completed" % QUEUE) + zcard(port, "bull:%s:failed" % QUEUE)


def progress(samples, every=2.0):
    """One sample per `every` seconds, for the log."""
    shown, next_t = [], 0.0
    for t, done in samples:
        if t >= next_t:
            shown.append((round(t, 1), done))
            next_t = t + every
    return shown


def longest_pause(samples, since):
    """The longest time after `since` during which the finished count did not grow."""
    longest, last_t, last_done = 0.0, since, None
    for t, done in samples:
        if t < since:
            continue
        if last_done is None or done > last_done:
            longest = max(longest, t - last_t)
            last_t, last_done = t, done
    return longest


def run_scenario(node, workdir, worker_ports, producer_port, kill_leader):
    """Runs workers, producer, the kill (kill_leader(), when given) and the final checks.
    Returns a dict of timings and counts. Every process started here is stopped before return."""
    t0 = time.monotonic()
    timings = {}
    procs = []
    try:
        workers = []
        for i, port in enumerate(worker_ports):
            w = NodeProc(node, workdir, "worker%d" % (i + 1),
                         ["work", port, QUEUE, "w%d" % (i + 1), CONCURRENCY])
            procs.append(w)
            workers.append(w)
        ready = wait_until(lambda: all(any(e.get("ev") == "ready" for e in w.events())
                                       for w in workers), 30, 0.1)
        check(ready, "workers ready within 30 s: %s" % [(w.events()[-3:], w.stderr())
                                                         for w in workers])
        timings["workers_ready"] = time.monotonic() - t0

        t_prod = time.monotonic()
        producer = NodeProc(node, workdir, "producer", ["produce", producer_port, QUEUE, JOBS, CHUNK])
        procs.append(producer)
        deadline = t_prod + DEADLINE
        killed = None
        samples = []  # (seconds since the producer started, jobs finished), every 0.2 s
        while time.monotonic() < deadline:
            code = producer.proc.poll()
            if code not in (None, 0):
                raise AssertionError("the producer failed (exit %s): %s\n%s"
                                     % (code, producer.events()[-5:], producer.stderr()))
            if code == 0 and "produced" not in timings:
                timings["produced"] = time.monotonic() - t_prod
            try:
                done = finished_count(producer_port)
            except Exception:  # noqa: BLE001 -- the node may be electing; poll again
                done = -1
            samples.append((time.monotonic() - t_prod, done))
            if kill_leader and killed is None and code == 0 and done >= KILL_AT * JOBS:
                timings["kill_at_completed"] = done
                timings["kill_after"] = time.monotonic() - t_prod
                kill_leader()
                killed = time.monotonic()
            if done >= JOBS and code == 0 and (killed or not kill_leader):
                break
            time.sleep(0.2)
        timings["processed"] = time.monotonic() - t_prod
        print("progress (s, jobs finished): %s" % progress(samples))
        if killed:
            timings["longest_pause_after_kill"] = longest_pause(samples, killed - t_prod)
        check(producer.proc.poll() == 0, "the producer finished within %d s: %s\n%s"
              % (DEADLINE, producer.events()[-3:], producer.stderr()))
        check(not kill_leader or (killed and timings["kill_at_completed"] < JOBS),
              "the leader was killed mid-run: %s" % timings)
        for w in workers:
            w.stop()
        timings["workers_stopped"] = time.monotonic() - t_prod

        checker = NodeProc(node, workdir, "checker", ["check", producer_port, QUEUE, JOBS])
        procs.append(checker)
        try:
            checker.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise AssertionError("the checker did not finish within 60 s")
        check(checker.proc.returncode == 0, "the checker failed: %s\n%s"
              % (checker.events()[-3:], checker.stderr()))
        timings["checked"] = time.monotonic() - t_prod
        return verify(producer, workers, checker, timings)
    finally:
        for p in procs:
            try:
                p.stop()
            except Exception:  # noqa: BLE001 -- cleanup goes on with the others
                pass


def verify(producer, workers, checker, timings):
    produced = [e for e in producer.events() if e.get("ev") == "produced"]
    check(produced and produced[0]["total"] == JOBS, "the producer added %d jobs: %s"
          % (JOBS, produced))

    starts = collections.defaultdict(list)
    dones = collections.Counter()
    errors = collections.Counter()
    other = collections.Counter()
    for w in workers:
        for e in w.events():
            ev = e.get("ev")
            if ev == "start":
                starts[e["id"]].append(e)
            elif ev == "done":
                dones[e["id"]] += 1
            elif ev == "error":
                errors["%s: %s" % (e.get("who"), e.get("msg"))] += 1
            elif ev in ("failed", "stalled"):
                other["%s: %s" % (ev, e.get("msg", ""))] += 1
    for e in producer.events():
        if e.get("ev") == "error":
            errors["producer: %s" % e.get("msg")] += 1

    events = checker.events()
    counts = [e for e in events if e.get("ev") == "counts"][0]["counts"]
    completed_ids = [e for e in events if e.get("ev") == "completed_ids"][0]["ids"]
    jobs = [j for e in events if e.get("ev") == "jobs" for j in e["jobs"]]
    max_id = [e for e in events if e.get("ev") == "max_id"][0]["id"]

    print("counts: %s" % counts)
    print("client errors seen (by message): %s" % dict(errors.most_common(20)))
    print("worker failed/stalled events: %s" % dict(other.most_common(20)))
    per_worker = collections.Counter(s["w"] for ss in starts.values() for s in ss)
    print("processor starts per worker: %s" % dict(per_worker))

    check(counts.get("completed") == JOBS, "completed == %d: %s" % (JOBS, counts))
    for state in ("failed", "waiting", "active", "delayed", "prioritized", "waiting-children",
                  "paused"):
        check(counts.get(state, 0) == 0, "%s == 0: %s" % (state, counts))
    expected = {str(i) for i in range(1, JOBS + 1)}
    check(len(completed_ids) == JOBS and set(completed_ids) == expected,
          "the completed set is exactly the ids 1..%d (%d ids, missing %s, extra %s)"
          % (JOBS, len(completed_ids), sorted(expected - set(completed_ids), key=int)[:10],
             sorted(set(completed_ids) - expected)[:10]))
    check(str(max_id) == str(JOBS), "no job was added twice: the id counter is %s" % max_id)

    multi, problems = [], []
    for j in jobs:
        jid = j["id"]
        i = int(jid)
        n = len(starts.get(jid, []))
        ats, atm, stc = (int(j.get(f) or 0) for f in ("ats", "atm", "stc"))
        if j.get("err"):
            problems.append("job %s: %s" % (jid, j["err"]))
        elif not j.get("finishedOn") or j.get("returnvalue") != str(2 * i):
            problems.append("job %s not finished with its return value: %s" % (jid, j))
        elif n == 0:
            problems.append("job %s completed but no processor started it" % jid)
        elif n > ats:
            problems.append("job %s started %d times, BullMQ handed it out %d times (ats)"
                            % (jid, n, ats))
        elif n > 1 and atm <= 1 and stc == 0:
            problems.append("job %s processed %d times without retry evidence: %s"
                            % (jid, n, j))
        elif dones[jid] > 1:
            problems.append("job %s reported completed %d times" % (jid, dones[jid]))
        if n > 1:
            multi.append((jid, n, atm, ats, stc))
    check(len(jobs) == JOBS, "the checker read %d job hashes" % len(jobs))
    check(not problems, "%d job problems, first ones: %s" % (len(problems), problems[:10]))
    retried = sum(1 for j in jobs if int(j.get("atm") or 0) > 1 or int(j.get("stc") or 0) > 0)
    print("jobs started more than once: %d %s; jobs with retry/stall evidence: %d; "
          "completions not reported to a worker (reply lost): %d"
          % (len(multi), multi[:10], retried, sum(1 for j in expected if dones[j] == 0)))
    timings["multi_started"] = len(multi)
    return timings


def main(binary):
    node = require_client()
    with Cluster(binary, 3, node_timeout_ms=500) as c:
        c.start()
        leader = c.leader()
        f1, f2 = [n for n in c.nodes if n is not leader]
        print("leader %s (port %d), workers on %s (%d) and %s (%d)"
              % (leader.name, leader.port, f1.name, f1.port, f2.name, f2.port))

        def kill_leader():
            print("SIGKILL %s (the leader)" % leader.name)
            leader.kill()
            time.sleep(1.5)
            leader.start()

        timings = run_scenario(node, c.root, [f1.port, f2.port], f2.port, kill_leader)
        check(wait_until(lambda: call(leader.port, "PING") == "PONG", 15),
              "the restarted node answers")
        print("timings (s from the producer's start): %s"
              % {k: (round(v, 2) if isinstance(v, float) else v) for k, v in timings.items()})
    print("test_bullmq: ok")


if __name__ == "__main__":
    main(sys.argv[1])
