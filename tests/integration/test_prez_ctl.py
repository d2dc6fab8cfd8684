#!/usr/bin/env python3
"""prez-ctl against a real 3-node cluster: `status` lists the 3 nodes with exactly one leader
(exit 0), `status --json` has the same facts, a killed node shows as down (exit 1), `transfer`
moves leadership to a follower (seen in INFO raft), `node list` prints the 3 members, a node
that never answers times out, and errors and usage mistakes exit 1 and 2.
Usage: test_prez_ctl.py PATH/TO/prez-server (prez-ctl is found next to it)"""
import json
import os
import socket
import subprocess
import sys
import time

from prez_harness import Cluster, check, info_raft, wait_until


def run_ctl(ctl, *args, timeout=30):
    proc = subprocess.run([ctl] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def table_rows(stdout):
    """The status table's rows (header dropped) as lists of columns."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    check(lines and lines[0].split()[:3] == ["NAME", "ADDRESS", "ROLE"], f"header: {stdout!r}")
    return [line.split() for line in lines[1:]]


def main(server):
    ctl = os.path.join(os.path.dirname(os.path.abspath(server)), "prez-ctl")
    check(os.access(ctl, os.X_OK), f"no prez-ctl next to {server}")

    rc, out, err = run_ctl(ctl)
    check(rc == 2 and "no command given" in err, f"no command: rc={rc} err={err!r}")
    rc, out, err = run_ctl(ctl, "status", "not-an-address")
    check(rc == 2 and "bad address" in err, f"bad address: rc={rc} err={err!r}")
    rc, out, err = run_ctl(ctl, "--help")
    check(rc == 0 and "usage: prez-ctl" in out, f"--help: rc={rc} out={out!r}")

    # A node that accepts but never answers is down after 2 s ("timeout"), not waited on forever.
    mute = socket.socket()
    mute.bind(("127.0.0.1", 0))
    mute.listen(4)
    started = time.monotonic()
    rc, out, err = run_ctl(ctl, "status", f"127.0.0.1:{mute.getsockname()[1]}")
    took = time.monotonic() - started
    mute.close()
    check(rc == 1 and "down: timeout" in out and took < 10, f"mute node: rc={rc} {out!r} {took}s")

    with Cluster(server, size=3) as c:
        c.start()
        leader = c.leader()
        addresses = [f"127.0.0.1:{n.port}" for n in c.nodes]
        names = {n.name for n in c.nodes}

        # Followers may still be applying the leader's first entry: wait for a clean status.
        def clean_status():
            rc, out, err = run_ctl(ctl, "status", *addresses)
            return (rc, out, err) if rc == 0 else None

        result = wait_until(clean_status, 15, interval=0.2)
        check(result is not None, "status never exited 0 with 3 healthy nodes: "
              f"{run_ctl(ctl, 'status', *addresses)}")
        rc, out, err = result
        rows = table_rows(out)
        check(len(rows) == 3, f"3 rows expected: {out!r}")
        check({r[0] for r in rows} == names, f"names: {out!r}")
        check([r[1] for r in rows] == addresses, f"addresses in order: {out!r}")
        check(sum(1 for r in rows if r[2] == "leader") == 1, f"one leader: {out!r}")
        check([r[0] for r in rows if r[2] == "leader"] == [leader.name],
              f"leader {leader.name}: {out!r}")
        check(all(r[9] == "voter" for r in rows), f"membership: {out!r}")

        rc, out, err = run_ctl(ctl, "status", "--json", *addresses)
        check(rc == 0, f"status --json rc={rc} err={err!r}")
        nodes = json.loads(out)
        check(isinstance(nodes, list) and len(nodes) == 3, f"json: {out!r}")
        check([n["address"] for n in nodes] == addresses, f"json addresses: {out!r}")
        check(all(n["up"] for n in nodes), f"json up: {out!r}")
        check({n["name"] for n in nodes} == names, f"json names: {out!r}")
        check([n["name"] for n in nodes if n["role"] == "leader"] == [leader.name],
              f"json leader: {out!r}")
        leader_json = next(n for n in nodes if n["role"] == "leader")
        for n in nodes:
            for key in ("term", "commit_index", "last_applied", "last_log_index",
                        "snapshot_index", "lag"):
                check(isinstance(n[key], int) and n[key] >= 0, f"json {key}: {n}")
            check(n["lag"] == max(0, leader_json["commit_index"] - n["last_applied"]),
                  f"lag of {n['name']}: {n} against {leader_json}")
            check(n["membership"] == "voter", f"json membership: {n}")

        rc, out, err = run_ctl(ctl, "--port", leader.port, "node", "list")
        check(rc == 0, f"node list rc={rc} err={err!r}")
        members = [line.split() for line in out.splitlines() if line.strip()]
        check(len(members) == 3 and {m[0] for m in members} == names, f"node list: {out!r}")
        check(all(m[2] == "voter" for m in members), f"node list roles: {out!r}")
        check({m[1] for m in members} == {f"127.0.0.1:{n.cluster_port}" for n in c.nodes},
              f"node list addresses: {out!r}")

        # An error reply goes to stderr with exit 1.
        rc, out, err = run_ctl(ctl, "--port", leader.port, "transfer", "no-such-node")
        check(rc == 1 and err.strip() and not out, f"transfer to nobody: rc={rc} {out!r} {err!r}")

        # Hand leadership to a follower, through a follower (it relays to the leader).
        target = next(n for n in c.nodes if n is not leader)
        via = next(n for n in c.nodes if n is not leader and n is not target)
        rc, out, err = run_ctl(ctl, "--host", "127.0.0.1", "--port", via.port, "transfer",
                               target.name)
        check(rc == 0, f"transfer rc={rc} out={out!r} err={err!r}")
        moved = wait_until(lambda: info_raft(target.port).get("role") == "leader", 15)
        check(moved, f"{target.name} did not become leader: {info_raft(target.port)}")
        check(wait_until(lambda: info_raft(leader.port).get("role") != "leader", 15),
              "old leader still leads")

        rc, out, err = run_ctl(ctl, "--port", target.port, "snapshot")
        check(rc == 0 and out.strip(), f"snapshot rc={rc} out={out!r} err={err!r}")

        # Kill a follower: status shows it down and exits 1; the others still answer.
        victim = next(n for n in c.nodes if n is not target)
        victim.kill()
        rc, out, err = run_ctl(ctl, "status", *addresses)
        check(rc == 1, f"status with a node down exited {rc}: {out!r}")
        rows = table_rows(out)
        check(len(rows) == 3, f"3 rows with one down: {out!r}")
        down = [r for r in rows if r[2] == "down:"]
        check(len(down) == 1 and down[0][1] == f"127.0.0.1:{victim.port}",
              f"the killed node is down: {out!r}")
        check("connection refused" in out, f"reason: {out!r}")
        rc, out, err = run_ctl(ctl, "status", "--json", *addresses)
        nodes = json.loads(out)
        check(rc == 1 and [n["up"] for n in nodes].count(False) == 1, f"json down: {out!r}")

        rc, out, err = run_ctl(ctl, "--port", victim.port, "node", "list")
        check(rc == 1 and "connection refused" in err, f"command to a dead node: {rc} {err!r}")

    # requirepass: without the password a node counts as down (its NOAUTH shown); --password and
    # PREZ_CTL_PASSWORD authenticate first.
    with Cluster(server, size=1) as c:
        node = c.nodes[0]
        node.write_config(extra="requirepass s3cret\n")
        c.start()
        address = f"127.0.0.1:{node.port}"

        def refused_without_password():
            rc, out, err = run_ctl(ctl, "status", address)
            return rc == 1 and "down: NOAUTH" in out

        check(wait_until(refused_without_password, 15, interval=0.2),
              f"status without password: {run_ctl(ctl, 'status', address)}")

        def authenticated():
            rc, out, err = run_ctl(ctl, "--password", "s3cret", "status", address)
            return rc == 0 and "leader" in out

        check(wait_until(authenticated, 15, interval=0.2), "status --password never saw a leader")
        env = dict(os.environ, PREZ_CTL_PASSWORD="s3cret")
        proc = subprocess.run([ctl, "--port", str(node.port), "node", "list"], env=env,
                              capture_output=True, text=True, timeout=30)
        check(proc.returncode == 0 and node.name in proc.stdout,
              f"PREZ_CTL_PASSWORD: {proc.returncode} {proc.stdout!r} {proc.stderr!r}")
        rc, out, err = run_ctl(ctl, "--password", "wrong", "--port", node.port, "node", "list")
        check(rc == 1 and "AUTH" in err, f"wrong password: rc={rc} {err!r}")
    print("prez-ctl: status (table and JSON), down and mute nodes, transfer, node list, snapshot, "
          "AUTH, errors ok")


if __name__ == "__main__":
    main(sys.argv[1])
