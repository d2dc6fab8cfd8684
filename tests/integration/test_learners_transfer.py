#!/usr/bin/env python3
"""Learners and leadership transfer with real processes.
1. RAFT.TRANSFER hands leadership to the named voter (TimeoutNow, thesis §3.10) and writes go on;
   SIGTERM on a leader hands leadership over before the process exits.
2. A cluster of 1 voter + 2 learners (nodes.conf tags them `learner`): learners serve
   linearizable reads, never campaign; the voter keeps committing with both learners down and
   nothing commits with the voter down. One learner keeps an audit log: it lists exactly the
   committed writes, in commit order.
Usage: test_learners_transfer.py PATH/TO/prez-server"""
import os
import re
import sys
import time

from prez_harness import Cluster, RespError, call, check, info_raft, wait_until


def transfer(binary):
    with Cluster(binary, size=3, node_timeout_ms=500) as c:
        c.start()
        leader = c.leader()
        check(wait_until(lambda: all(info_raft(n.port) for n in c.nodes), 15), "all nodes answer")
        check(c.write(leader, "t0", "before"), "write before the transfer")
        target = next(n for n in c.nodes if n is not leader)
        via = next(n for n in c.nodes if n is not leader and n is not target)
        term = int(info_raft(leader.port)["term"])
        reply = call(via.port, "RAFT.TRANSFER", target.name, timeout=10)
        check(reply == "OK", f"RAFT.TRANSFER {target.name}: {reply!r}")
        # (The old leader may still say "leader" for a moment: wait for the target itself.)
        check(wait_until(lambda: target.role() == "leader", 5), f"{target.name} did not lead")
        check(c.leader(seconds=5) is target, f"{target.name} is not the only leader")
        check(int(info_raft(target.port)["term"]) == term + 1, "a transfer takes one election")
        check(c.write(via, "t1", "after"), "write after the transfer")
        check(call(leader.port, "GET", "t1") == "after", "old leader reads the new write")
        try:
            call(via.port, "RAFT.TRANSFER", "nobody", timeout=10)
            check(False, "transfer to a non-member accepted")
        except RespError as e:
            check("not a voter" in str(e), f"transfer to a non-member: {e}")
        check(call(via.port, "RAFT.TRANSFER", target.name, timeout=10) == "OK",
              "transfer to the leader itself")

        # A graceful stop of the leader hands over first: a new leader within well under an
        # election timeout of the stop, without the old one's term running out.
        old = c.leader()
        started = time.monotonic()
        old.stop()
        rest = [n for n in c.nodes if n is not old]
        new = c.leader(among=rest, seconds=10)
        took = time.monotonic() - started
        with open(f"{old.dir}/server.log", "rb") as f:
            log = f.read().decode(errors="replace")
        check("leadership handed over before stopping" in log,
              f"SIGTERM did not hand leadership over:\n{old.tail_log()}")
        check(c.write(new, "t2", "after-stop"), "write after the leader stopped")
        print(f"transfer: RAFT.TRANSFER and SIGTERM handed leadership over ({took:.2f}s to a new "
              f"leader after SIGTERM)")


def learners(binary):
    c = Cluster(binary, size=3, node_timeout_ms=500)
    voter, l1, l2 = c.nodes
    c.nodes_conf = lambda: (f"{voter.name} 127.0.0.1:{voter.cluster_port}\n"
                            f"{l1.name} 127.0.0.1:{l1.cluster_port} learner\n"
                            f"{l2.name} 127.0.0.1:{l2.cluster_port} learner\n")
    for n in c.nodes:
        n.write_config("" if n is voter else
                       "role learner\n" + ("audit-log audit.log\n" if n is l1 else ""))
    sent = []
    with c:
        c.start()
        check(c.leader(seconds=10) is voter, "the single voter leads")
        # (A learner may still be starting, slowly under a sanitizer: ask until it answers.)
        roles = wait_until(lambda: {name: role for name, _, role in
                                    call(l1.port, "RAFT.NODE", "LIST")}, 15) or {}
        check(roles == {voter.name: "voter", l1.name: "learner", l2.name: "learner"},
              f"members: {roles}")
        for i in range(20):
            check(c.write(l1 if i % 2 else l2, f"k{i}", f"v{i}"), f"write k{i} through a learner")
            sent.append(("k%d" % i, "v%d" % i))
        # Linearizable reads on a learner: it sees the write just acknowledged elsewhere.
        for i in range(20):
            check(c.write(voter, "latest", str(i)), "write latest")
            sent.append(("latest", str(i)))
            check(call(l2.port, "GET", "latest") == str(i), "a learner read missed a write")
        # Learners down: the voter alone still commits.
        l1.kill()
        l2.kill()
        check(c.write(voter, "alone", "yes", seconds=5), "the voter commits with learners down")
        sent.append(("alone", "yes"))
        l1.start()
        l2.start()
        check(wait_until(lambda: call(l1.port, "GET", "alone") == "yes", 10),
              "a restarted learner catches up")
        # The learner's audit log: exactly the committed writes, in order, none twice (it was
        # restarted in between and re-applied its log). Its lines are written by their own actor
        # after the state machine applied them: wait for them to land.
        def audited():
            with open(os.path.join(l1.dir, "audit.log")) as f:
                lines = [line for line in f.read().splitlines()
                         if line and not line.startswith("#")]
            out = []
            for line in lines:
                args = re.findall(r'"((?:[^"\\]|\\.)*)"', line)
                check(args and args[0] == "SET", f"unexpected audit line: {line}")
                out.append((args[1], args[2]))
            return out
        wait_until(lambda: len(audited()) >= len(sent), 10)
        got = audited()
        check(got == sent, f"audit log ({len(got)} lines) differs from the {len(sent)} writes: "
              f"first difference at {next((i for i, (a, b) in enumerate(zip(got, sent)) if a != b), min(len(got), len(sent)))}")
        # Voter down: nothing commits, and no learner takes over.
        voter.kill()
        time.sleep(2.0)
        for n in (l1, l2):
            check(info_raft(n.port).get("role") == "follower", f"{n.name} campaigned")
        try:
            reply = call(l1.port, "SET", "lost", "x", timeout=10)
            check(False, f"a write committed without the voter: {reply!r}")
        except RespError as e:
            check(str(e).startswith(("CLUSTERDOWN", "UNKNOWN")), f"write without the voter: {e}")
        voter.start()
        check(c.write(l1, "back", "yes", seconds=15), "writes resume with the voter back")
        print("learners: 1 voter + 2 learners commit with learners down, stop with the voter down")


def main(binary):
    transfer(binary)
    learners(binary)


if __name__ == "__main__":
    main(sys.argv[1])
