#!/usr/bin/env python3
"""TLS for node links (docs/decisions.md D24): nodes given tls-cert-file, tls-key-file and
tls-ca-cert-file form a cluster over TLS; a node without TLS, or with a certificate the CA did not
sign, is not heard and hears nobody; the same node with a certificate from the CA joins and reads
what was written. A node whose TLS files are missing, or whose certificate does not verify under
its CA file, refuses to start with the reason.

The certificates are made here with the openssl command-line tool (EC P-256 keys, so it is fast).
Without `openssl` the test exits 77 (skipped, never passed).
Usage: test_tls.py PATH/TO/prez-server"""
import os
import shutil
import subprocess
import sys
import time

from prez_harness import Cluster, RespError, call, check, info_raft, wait_until

SKIPPED = 77


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE, timeout=60)


def make_ca(d, name):
    """A self-signed CA: d/name.key, d/name.crt."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "2", "-subj",
            f"/CN={name}", cwd=d)


def make_node_cert(d, name, ca):
    """d/name.key and d/name.crt signed by the CA `ca` (made by make_ca). No extended key usage:
    a node's certificate serves both as server (accepting) and as client (connecting)."""
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", cwd=d)


def tls_lines(d, cert, ca="ca"):
    return (f"tls-cert-file {os.path.join(d, cert)}.crt\n"
            f"tls-key-file {os.path.join(d, cert)}.key\n"
            f"tls-ca-cert-file {os.path.join(d, ca)}.crt\n")


def connected_lines(node):
    """Log lines of `node` saying one of its peer links connected."""
    try:
        with open(os.path.join(node.dir, "server.log"), errors="replace") as f:
            return [l for l in f if "peer link to" in l and l.rstrip().endswith("connected")]
    except OSError:
        return []


def refuses_to_start(binary, node, extra, expected):
    """Starts `node` with `extra` config lines; it must exit non-zero naming `expected`."""
    node.write_config(extra=extra)
    proc = subprocess.run([binary, "prez.conf"], cwd=node.dir, capture_output=True, text=True,
                          timeout=20)
    output = proc.stdout + proc.stderr
    check(proc.returncode != 0, f"started with {extra!r}: {output}")
    check(expected in output, f"expected {expected!r} in the error, got: {output}")
    return output.strip()


def isolated(outsider, members, seconds):
    """For `seconds`: `outsider` never learns a leader and no link between it and `members`
    connects (in either direction)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        state = info_raft(outsider.port)
        check(state.get("leader", "") in ("", "none", "?"),
              f"{outsider.name} learned a leader: {state}")
        time.sleep(0.2)
    check(connected_lines(outsider) == [],
          f"{outsider.name}'s links connected: {connected_lines(outsider)}")
    for m in members:
        lines = [l for l in connected_lines(m) if f"peer link to {outsider.name} " in l]
        check(lines == [], f"{m.name} connected to {outsider.name}: {lines}")


def main(binary):
    if shutil.which("openssl") is None:
        print("SKIPPED: the openssl command-line tool is not installed: TLS was NOT tested")
        sys.exit(SKIPPED)
    with Cluster(binary, size=3, node_timeout_ms=500) as c:
        certs = os.path.join(c.root, "certs")
        os.makedirs(certs)
        make_ca(certs, "ca")
        for n in c.nodes:
            make_node_cert(certs, n.name, "ca")
        make_ca(certs, "rogue")  # self-signed, not from our CA

        # Start-up checks first (each node's process must not even start).
        outsider = c.nodes[2]
        print(refuses_to_start(binary, outsider, tls_lines(certs, "missing"),
                               "tls-cert-file"))
        print(refuses_to_start(binary, outsider, tls_lines(certs, "rogue"), "does not verify"))
        print(refuses_to_start(binary, outsider,
                               f"tls-cert-file {certs}/{outsider.name}.crt\n", "tls-key-file"))

        # node-0 and node-1 over TLS form a majority; node-2 runs without TLS.
        members = c.nodes[:2]
        for n in members:
            n.write_config(extra=tls_lines(certs, n.name))
        outsider.write_config()
        c.start()
        leader = c.leader(among=members)
        check(c.write(members[0], "k", "v"), "write over TLS")
        check(call(leader.port, "GET", "k") == "v", "read over TLS")
        check(all(connected_lines(n) for n in members), "the TLS nodes never connected")
        isolated(outsider, members, 3)
        print("a node without TLS is not heard and hears nobody")
        outsider.kill()

        # node-2 with TLS, but a self-signed certificate (and that as its CA file).
        outsider.write_config(extra=tls_lines(certs, "rogue", ca="rogue"))
        outsider.start()
        isolated(outsider, members, 3)
        try:
            call(outsider.port, "SET", "rogue", "x", timeout=10)
            check(False, "a write through the rogue node succeeded")
        except RespError as e:
            check(str(e).startswith(("CLUSTERDOWN", "UNKNOWN")), f"rogue write: {e}")
        print("a node whose certificate the CA did not sign is not heard and hears nobody")
        outsider.kill()

        # The same node with a certificate from the CA joins: the refusals above were the TLS
        # checks, not a broken node.
        os.rename(os.path.join(outsider.dir, "server.log"),
                  os.path.join(outsider.dir, "server.log.before"))
        outsider.write_config(extra=tls_lines(certs, outsider.name))
        outsider.start()
        check(wait_until(lambda: call(outsider.port, "GET", "k") == "v", 15),
              "node-2 with a certificate from the CA did not join")
        check(c.write(outsider, "k3", "v3"), "write through node-2 over TLS")
        check(call(leader.port, "GET", "k3") == "v3", "read node-2's write at the leader")
        check(c.leader().name in [n.name for n in c.nodes], "one leader")
        print("3-node cluster over TLS: writes and reads through every node")


if __name__ == "__main__":
    main(sys.argv[1])
