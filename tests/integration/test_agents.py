#!/usr/bin/env python3
"""Agents and CAF remote spawning, with real processes: three `prez-server --agent` processes,
`prez-ctl up cluster.conf` spawns a node on each and exits with a leader in its status table;
writes and reads work after prez-ctl is gone; an agent that is SIGKILLed and restarted brings its
node back from its data dir (it rejoins and has every write); a launcher without the secret is
refused by every agent and starts nothing; `prez-ctl add` spawns a fourth node on a fourth agent
and adds it; an agent without a secret refuses to start.
Usage: test_agents.py PATH/TO/prez-server (prez-ctl is found next to it)"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile

from prez_harness import call, check, free_port, info_raft, stop_process, wait_until

SECRET = "agents-test-secret-0123456789"


def run_ctl(ctl, *args, timeout=120):
    proc = subprocess.run([ctl] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


class Agent:
    def __init__(self, server, root, index):
        self.server = server
        self.dir = os.path.join(root, f"agent{index}")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.client_port = free_port()
        self.cluster_port = free_port()
        self.proc = None
        self.log = None

    def start(self, secret=SECRET):
        env = dict(os.environ)
        env.pop("PREZ_CLUSTER_SECRET", None)
        if secret is not None:
            env["PREZ_CLUSTER_SECRET"] = secret
        log = open(os.path.join(self.dir, "agent.log"), "ab")
        self.proc = subprocess.Popen(
            [self.server, "--agent", "--cluster-port", str(self.port), "--dir", self.dir],
            cwd=self.dir, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.log = log
        check(wait_until(lambda: self.listening(), 30), f"agent {self.port} never listened:\n"
              + self.tail())

    def listening(self):
        import socket
        with socket.socket() as s:
            s.settimeout(0.2)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def kill(self):
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.log.close()
        self.proc = None

    def stop(self):
        if self.proc is not None:
            stop_process(self.proc, self.log)
            self.proc = None

    def tail(self):
        try:
            with open(os.path.join(self.dir, "agent.log"), errors="replace") as f:
                return "".join(f.readlines()[-30:])
        except OSError:
            return ""

    def node_line(self, name):
        return f"node {name} 127.0.0.1:{self.port} {self.client_port} {self.cluster_port}\n"


def main(server):
    server = os.path.abspath(server)
    ctl = os.path.join(os.path.dirname(os.path.abspath(server)), "prez-ctl")
    root = tempfile.mkdtemp(prefix="prez-agents-")
    agents = [Agent(server, root, i) for i in range(4)]
    try:
        # No secret: the agent refuses to start, saying why.
        lonely = Agent(server, root, 9)
        env = dict(os.environ)
        env.pop("PREZ_CLUSTER_SECRET", None)
        proc = subprocess.run([server, "--agent", "--cluster-port", str(lonely.port), "--dir",
                               lonely.dir], capture_output=True, text=True, env=env, timeout=30)
        check(proc.returncode == 1 and "no cluster secret" in proc.stderr,
              f"agent without secret: rc={proc.returncode} {proc.stderr!r}")

        for a in agents:
            a.start()
        conf = os.path.join(root, "cluster.conf")
        body = "".join(a.node_line(f"n{i + 1}") for i, a in enumerate(agents[:3]))
        with open(conf, "w") as f:
            f.write(f'cluster-secret "{SECRET}"\n' + body + "set cluster-node-timeout 500\n")

        # A launcher that does not know the secret starts nothing.
        bad = os.path.join(root, "bad.conf")
        with open(bad, "w") as f:
            f.write('cluster-secret "not-the-secret-of-this-cluster"\n' + body)
        rc, out, err = run_ctl(ctl, "up", bad)
        check(rc == 1 and err.count("not sealed with this agent's cluster secret") == 3,
              f"up without the secret: rc={rc} out={out!r} err={err!r}")
        for a in agents[:3]:
            check(not os.path.exists(os.path.join(a.dir, "hosted.conf")),
                  "an agent hosts a node after a refused spawn")
            check("refused" in a.tail(), "the agent did not log the refusal")

        # prez-ctl up: spawns, waits for a leader, prints the table, exits.
        rc, out, err = run_ctl(ctl, "up", conf)
        check(rc == 0, f"prez-ctl up: rc={rc} out={out!r} err={err!r}")
        rows = [line.split() for line in out.splitlines() if line.startswith("n")]
        table = [r for r in rows if len(r) >= 3 and r[1].startswith("127.0.0.1:")]
        check(len(table) == 3 and sum(r[2] == "leader" for r in table) == 1,
              f"status table after up: {out!r}")

        # The cluster lives on without prez-ctl.
        for i in range(20):
            check(call(agents[i % 3].client_port, "SET", f"k{i}", f"v{i}") == "OK", "SET")
        for a in agents[:3]:
            check(call(a.client_port, "GET", "k19") == "v19", f"GET on {a.client_port}")

        # Running up again is harmless: every agent already hosts its node.
        rc, out, err = run_ctl(ctl, "up", conf)
        check(rc == 0, f"second up: rc={rc} err={err!r}")

        # SIGKILL an agent (with its node) and restart it: the node comes back from its data dir.
        victim = agents[0]
        victim.kill()
        for i in range(20, 30):
            check(call(agents[1].client_port, "SET", f"k{i}", f"v{i}") == "OK", "SET, n1 down")
        victim.start()
        check(wait_until(lambda: call(victim.client_port, "GET", "k29") == "v29", 30),
              "the restarted agent's node never caught up:\n" + victim.tail())
        check(info_raft(victim.client_port).get("membership") == "voter", "n1 is not a voter")

        # prez-ctl add: a fourth node on the fourth agent, added with RAFT.NODE ADD.
        with open(conf, "a") as f:
            f.write(agents[3].node_line("n4"))
        rc, out, err = run_ctl(ctl, "add", conf, "n4")
        check(rc == 0, f"prez-ctl add: rc={rc} out={out!r} err={err!r}")
        check(wait_until(lambda: call(agents[3].client_port, "GET", "k29") == "v29", 30),
              "n4 does not have the data")
        members = call(agents[1].client_port, "RAFT.NODE", "LIST")
        check("n4" in str(members), f"RAFT.NODE LIST: {members!r}")
        print("agents: up, refused spawn, kill and restart, add: ok")
    finally:
        for a in agents:
            try:
                a.stop()
            except Exception:
                pass
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1])
