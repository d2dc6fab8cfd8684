#!/usr/bin/env python3
"""The node door (docs/decisions.md D15): the actor a node publishes on its cluster port handles sealed frames
and nothing else. An intruder that can reach the cluster port but knows no cluster secret sends the
raw CAF messages a node's actors use among themselves (prez-peer-probe in intrude mode: "who
leads?", "status?", a link window question, and "your leader is <another follower> in term
1000000" for every plausible role epoch). Against a 3-node cluster without and with a cluster
secret, each of them must be refused and counted (peer_frames_refused in INFO raft), get no useful
answer, and change neither term nor leader; the attacked nodes keep serving writes.
Usage: test_node_door.py PATH/TO/prez-server   (PREZ_PEER_PROBE names prez-peer-probe)"""
import os
import subprocess
import sys

from prez_harness import Cluster, call, check, info_raft, wait_until

SECRET = "node-door-secret-0123456789abcdef"
RAW_MESSAGES = 64 + 4  # the probe's leader_atom epochs 0..63, three questions, one more "who leads?"


def refused(node):
    return int(info_raft(node.port).get("peer_frames_refused", "-1"))


def intrude(probe, c, target, claimed_leader, label):
    before = info_raft(target.port)
    check(before.get("leader"), f"{label}: no leader before the intruder: {before}")
    out = subprocess.run([probe, "intrude", "127.0.0.1", str(target.cluster_port), claimed_leader],
                         capture_output=True, text=True, timeout=90)
    check(out.returncode == 0, f"{label}: probe failed: {out.stdout} {out.stderr}")
    lines = {line.split(" ", 1)[0]: line for line in out.stdout.splitlines()}
    for question in ("leader", "status", "ack", "leader-after"):
        line = lines.get(question, "")
        check(line.startswith(f"{question} refused"),
              f"{label}: the node answered a raw '{question}' question: {line!r}")
    want = int(before.get("peer_frames_refused", "0")) + RAW_MESSAGES
    check(wait_until(lambda: refused(target) >= want, 10),
          f"{label}: raw messages not counted as refused (want >= {want}): {info_raft(target.port)}")
    after = info_raft(target.port)
    check(after.get("term") == before.get("term"),
          f"{label}: term changed {before.get('term')} -> {after.get('term')}")
    check(after.get("leader") == before.get("leader"),
          f"{label}: leader changed {before.get('leader')} -> {after.get('leader')}")
    check(c.write(target, f"after-{label}", "v"), f"{label}: writes through the node fail")
    check(call(target.port, "GET", f"after-{label}") == "v", f"{label}: read back")
    print(f"{label}: {RAW_MESSAGES} raw CAF messages refused and counted; term, leader and "
          "writes unaffected")


def run(binary, probe, secret):
    mode = "with cluster-secret" if secret else "without cluster-secret"
    with Cluster(binary, size=3, node_timeout_ms=500) as c:
        if secret:
            for n in c.nodes:
                n.write_config(extra=f"cluster-secret {secret}\n")
        c.start()
        leader = c.leader()
        followers = [n for n in c.nodes if n is not leader]
        check(c.write(followers[0], "k", "v"), f"{mode}: first write")
        # A follower told that the other follower leads would forward its writes there.
        intrude(probe, c, followers[0], followers[1].name, f"{mode}, follower")
        intrude(probe, c, leader, followers[1].name, f"{mode}, leader")
        check(c.leader() is leader, f"{mode}: the leader changed")
        check(all(n.alive() for n in c.nodes), f"{mode}: a node died")


def main(binary):
    probe = os.environ.get("PREZ_PEER_PROBE")
    check(probe and os.path.exists(probe), "PREZ_PEER_PROBE is not set to prez-peer-probe")
    run(binary, probe, None)
    run(binary, probe, SECRET)


if __name__ == "__main__":
    main(sys.argv[1])
