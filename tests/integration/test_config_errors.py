#!/usr/bin/env python3
"""Bad configuration stops start-up with `file:line: reason` and a non-zero exit: unknown key, bad
value, duplicate node, this node missing from nodes.conf, port in use, unwritable dir.
Usage: test_config_errors.py PATH/TO/prez-server"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

from prez_harness import check, free_port


def run(binary, workdir, conf_text, nodes_text=None, timeout=10):
    with open(os.path.join(workdir, "prez.conf"), "w") as f:
        f.write(conf_text)
    if nodes_text is not None:
        with open(os.path.join(workdir, "nodes.conf"), "w") as f:
            f.write(nodes_text)
    try:
        p = subprocess.run([binary, "prez.conf"], cwd=workdir, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"server did not refuse the config; output: {e.stdout!r} {e.stderr!r}")
    return p.returncode, p.stdout + p.stderr


def expect_refusal(binary, label, conf_text, nodes_text, pattern):
    workdir = tempfile.mkdtemp(prefix="prez-conf-")
    try:
        code, out = run(binary, workdir, conf_text, nodes_text)
        check(code != 0, f"{label}: exit code 0; output {out!r}")
        check(re.search(pattern, out), f"{label}: output {out!r} does not match {pattern!r}")
        print(f"{label}: refused with {out.strip().splitlines()[-1]!r}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main(binary):
    binary = os.path.abspath(binary)
    port, cport = free_port(), free_port()
    base = (f"name a\nport {port}\ncluster-port {cport}\ncluster-config-file nodes.conf\n"
            "cluster-node-timeout 500\ndir ./data\n")
    nodes = f"a 127.0.0.1:{cport}\nb 127.0.0.1:{free_port()}\nc 127.0.0.1:{free_port()}\n"
    expect_refusal(binary, "unknown key", base + "no-such-key 1\n", nodes,
                   r"prez\.conf:7: .*unknown")
    expect_refusal(binary, "bad value", base.replace("cluster-node-timeout 500",
                                                     "cluster-node-timeout soon"), nodes,
                   r"prez\.conf:5: ")
    expect_refusal(binary, "duplicate node", base, nodes + "b 127.0.0.1:1\n",
                   r"nodes\.conf:4: .*duplicate")
    expect_refusal(binary, "this node missing", base, nodes.replace("a 127", "z 127"),
                   r"nodes\.conf.*'a'")
    expect_refusal(binary, "non-loopback cluster without a secret", base,
                   nodes.replace("b 127.0.0.1", "b 10.0.0.2"), r"cluster-secret")
    # A port already in use.
    busy = socket.socket()
    busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    busy_port = busy.getsockname()[1]
    try:
        expect_refusal(binary, "client port in use", base.replace(f"port {port}\n", f"port {busy_port}\n", 1),
                       nodes, rf"port {busy_port}")
    finally:
        busy.close()
    # An unwritable data directory: a path below a regular file can never be created.
    blocker = tempfile.NamedTemporaryFile(prefix="prez-notadir-", delete=False)
    blocker.close()
    try:
        expect_refusal(binary, "unwritable dir", base.replace("dir ./data", f"dir {blocker.name}/data"),
                       nodes, r"dir ")
    finally:
        os.unlink(blocker.name)


if __name__ == "__main__":
    main(sys.argv[1])
