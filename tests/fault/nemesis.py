"""A seeded nemesis for real prez-server clusters (tests/integration/prez_harness.py).

Faults, one at a time, separated by seeded random quiet periods:
  kill         SIGKILL one node (the leader with probability 2/3), restart it after a while
  kill-two     (5 nodes only) SIGKILL two nodes (a minority), restart them after a while
  pause        SIGSTOP one node (the leader with probability 2/3) for 2-5x cluster-node-timeout,
               then SIGCONT
  restart-all  stop every node at once (SIGKILL or SIGTERM), then start them all
  partition    (test builds, --partitions) cut peer links through their fault switch: isolate
               a node, split 2|3, bridge two groups through one node, or lose one node's
               outgoing frames only (see _partition)

Every fault is recorded in `schedule` with its start time (relative to the run's t0) so a failing
run can print what happened. heal() undoes everything (SIGCONT, start dead nodes).
"""
import os
import random
import signal
import threading
import time

from prez_harness import info_raft

KINDS = ("kill", "kill-two", "pause", "restart-all", "partition")


class Nemesis(threading.Thread):
    def __init__(self, cluster, seed, t0, until, node_timeout_ms, log=print,
                 weights=None, quiet=(0.5, 2.0), partitions=False):
        super().__init__(name="nemesis", daemon=True)
        self.cluster = cluster
        self.rng = random.Random(seed)
        self.t0, self.until = t0, until
        self.node_timeout = node_timeout_ms / 1000.0
        self.log = log
        self.weights = dict(weights or {"kill": 4, "kill-two": 1, "pause": 3, "restart-all": 1})
        if len(cluster.nodes) < 5:
            self.weights.pop("kill-two", None)
        # Network partitions need a test build (-DPREZ_FAULT_INJECTION=ON): its peer links obey
        # `partition-<peer>` files in each node's data dir.
        if partitions:
            self.weights.setdefault("partition", 3)
        self.quiet = quiet
        self.schedule = []          # (t, kind, [node names], detail)
        self.counts = {k: 0 for k in KINDS}
        self.paused = set()
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.error = None
        self.crashes = []           # (t, node name, exit code, last log lines): exits we did not cause

    # -- helpers ----------------------------------------------------------------------------
    def now(self):
        return time.monotonic() - self.t0

    def _sleep(self, seconds):
        """Sleeps, but wakes early when asked to stop. Returns False if stopping."""
        return not self.stop_event.wait(max(0.0, seconds))

    def _record(self, kind, nodes, detail=""):
        entry = (self.now(), kind, [n.name for n in nodes], detail)
        self.schedule.append(entry)
        self.counts[kind] += 1
        self.log("nemesis %7.3f %-11s %s %s" % (entry[0], kind, ",".join(entry[2]), detail))

    def _leader(self):
        """The node that says it is leader (among live, unpaused nodes), or None. Bounded."""
        with self.lock:
            candidates = [n for n in self.cluster.nodes if n.alive() and n not in self.paused]
        for n in candidates:
            if info_raft(n.port, timeout=0.3).get("role", "").strip() == "leader":
                return n
        return None

    def _pick(self, prefer_leader=True):
        live = [n for n in self.cluster.nodes if n.alive() and n not in self.paused]
        if not live:
            return None
        if prefer_leader and self.rng.random() < 2 / 3:
            leader = self._leader()
            if leader is not None:
                return leader
        return self.rng.choice(live)

    def check_crashes(self):
        """Records nodes whose process exited although nobody stopped it (a server bug)."""
        for n in self.cluster.nodes:
            if n.proc is not None and n.proc.poll() is not None:
                code = n.proc.returncode
                self.crashes.append((self.now(), n.name, code, n.tail_log(40)))
                self.log("nemesis %7.3f CRASH: %s exited by itself with code %s"
                         % (self.now(), n.name, code))
                try:
                    n.log.close()
                except Exception:
                    pass
                n.proc = None

    # -- faults -----------------------------------------------------------------------------
    def _kill(self, count):
        victims = []
        for _ in range(count):
            n = self._pick(prefer_leader=not victims)
            if n is None or n in victims:
                n = self.rng.choice([m for m in self.cluster.nodes if m not in victims])
            victims.append(n)
        down = self.rng.uniform(0.5, 3.0)
        self._record("kill-two" if count == 2 else "kill", victims, "down %.1fs" % down)
        for n in victims:
            n.kill()
        self._sleep(down)  # restart even when stopping: heal() would do it anyway
        for n in victims:
            if not n.alive():
                n.start()

    def _pause(self):
        n = self._pick()
        if n is None:
            return
        length = self.rng.uniform(2.0, 5.0) * self.node_timeout
        self._record("pause", [n], "SIGSTOP %.1fs" % length)
        with self.lock:
            self.paused.add(n)
        n.signal(signal.SIGSTOP)
        self._sleep(length)
        n.signal(signal.SIGCONT)
        with self.lock:
            self.paused.discard(n)

    @staticmethod
    def _switch(node, peer):
        return os.path.join(node.dir, "data", "partition-" + peer.name)

    def _cut(self, a, b):
        """a's link to b drops every frame from now on (one direction only)."""
        os.makedirs(os.path.dirname(self._switch(a, b)), exist_ok=True)
        open(self._switch(a, b), "w").close()

    def _partition(self):
        """Cuts the network in one of four shapes (seeded), holds it, then heals:
          isolate   one node (the leader more often) from every other, both ways
          split     (5 nodes) a random minority of two from the majority, both ways
          bridge    two groups that cannot reach each other, and one node that reaches both
          one-way   one node's frames to every other are lost, while theirs still reach it
        """
        nodes = list(self.cluster.nodes)
        shapes = ["isolate", "bridge", "one-way"] + (["split"] if len(nodes) >= 5 else [])
        shape = self.rng.choice(shapes)
        length = self.rng.uniform(2.0, 5.0) * self.node_timeout
        if shape in ("isolate", "one-way"):
            n = self._pick()
            if n is None:
                return
            others = [o for o in nodes if o is not n]
            self._record("partition", [n], "%s %.1fs" % (shape, length))
            for o in others:
                self._cut(n, o)
                if shape == "isolate":
                    self._cut(o, n)
        else:
            self.rng.shuffle(nodes)
            if shape == "split":
                left, right, bridge = nodes[:2], nodes[2:], []
            else:
                bridge, rest = nodes[:1], nodes[1:]
                left, right = rest[:len(rest) // 2], rest[len(rest) // 2:]
            self._record("partition", nodes, "%s %s | %s%s %.1fs" % (
                shape, ",".join(n.name for n in left), ",".join(n.name for n in right),
                " bridged by " + bridge[0].name if bridge else "", length))
            for a in left:
                for b in right:
                    self._cut(a, b)
                    self._cut(b, a)
        self._sleep(length)
        self._heal_partitions()

    def _heal_partitions(self):
        for a in self.cluster.nodes:
            for b in self.cluster.nodes:
                try:
                    os.unlink(self._switch(a, b))
                except FileNotFoundError:
                    pass

    def _restart_all(self):
        how = self.rng.choice(["SIGKILL", "SIGTERM"])
        down = self.rng.uniform(0.2, 1.5)
        self._record("restart-all", list(self.cluster.nodes), "%s, down %.1fs" % (how, down))
        for n in self.cluster.nodes:
            if how == "SIGKILL":
                n.kill()
            else:
                n.signal(signal.SIGCONT)
                n.stop()
        self._sleep(down)
        for n in self.cluster.nodes:
            if not n.alive():
                n.start()

    def run(self):
        try:
            kinds = sorted(self.weights)
            weights = [self.weights[k] for k in kinds]
            # Let the cluster settle and the clients warm up before the first fault.
            if not self._sleep(self.rng.uniform(*self.quiet)):
                return
            while time.monotonic() < self.until and not self.stop_event.is_set():
                self.check_crashes()
                kind = self.rng.choices(kinds, weights)[0]
                if kind == "kill":
                    self._kill(1)
                elif kind == "kill-two":
                    self._kill(2)
                elif kind == "pause":
                    self._pause()
                elif kind == "partition":
                    self._partition()
                else:
                    self._restart_all()
                if not self._sleep(self.rng.uniform(*self.quiet)):
                    break
        except Exception as e:  # reported by the runner; heal() still runs
            self.error = e
            self.log("nemesis error: %r" % (e,))

    def stop(self, timeout=30):
        self.stop_event.set()
        self.join(timeout)

    def heal(self):
        """SIGCONT every node, heal every partition and start every dead one."""
        self.check_crashes()
        self._heal_partitions()
        for n in self.cluster.nodes:
            if n.alive():
                n.signal(signal.SIGCONT)
        with self.lock:
            self.paused.clear()
        for n in self.cluster.nodes:
            if not n.alive():
                n.start()

    def describe_schedule(self):
        return "\n".join("  %7.3f %-11s %-30s %s" % (t, k, ",".join(names), d)
                         for t, k, names, d in self.schedule)
