#!/usr/bin/env python3
"""The metrics port (prez.conf metrics-port) with real processes (issue 10).

1. A 3-node cluster, each node with a metrics port. GET /metrics on every node is Prometheus text
   format 0.0.4, read by a strict parser: only `# HELP` / `# TYPE` comments, each metric's HELP and
   TYPE before its first series, its series together, valid names, labels and float values, no
   series twice. Every required metric is there; exactly one role is 1 on each node.
2. Figures follow traffic: after SETs through the leader, its commit and applied indexes, keys and
   accepted clients grow, on the leader and (for the indexes) on the followers.
3. GET /health is 200 {"health":"true"} on all nodes. The leader's two peers are SIGSTOPped: the
   leader's /health turns 503 {"health":"false","reason":...} within a few seconds (check-quorum
   retires it, and a candidate knows no leader). After SIGCONT it is 200 again on all nodes.
4. Other paths 404, other methods 405 (with Allow: GET), a malformed request or a header over
   8 KiB gets 400 and the connection is closed; garbage, half requests and idle connections never
   hurt the server. curl, when installed, gets the same answers.
5. A metrics port already in use stops start-up with a message naming metrics-port.

Usage: test_metrics.py PATH/TO/prez-server"""
import http.client
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prez_harness import Cluster, call, check, free_port, raw_exchange, wait_until  # noqa: E402

REQUIRED = [
    "prez_raft_term", "prez_raft_role", "prez_raft_commit_index", "prez_raft_applied_index",
    "prez_raft_last_log_index", "prez_raft_persisted_index", "prez_snapshot_index",
    "prez_snapshot_bytes", "prez_snapshots_taken_total", "prez_snapshots_installed_total",
    "prez_raft_voters", "prez_raft_learners", "prez_peer_link_connected",
    "prez_peer_link_frames_sent_total", "prez_peer_link_frames_dropped_total",
    "prez_peer_frames_refused_total", "prez_keys", "prez_clients_connected",
    "prez_clients_accepted_total", "prez_leader_known", "prez_role_changes_total",
]

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def parse_labels(text, where):
    """`a="x",b="y\\"z"` -> {"a": "x", "b": 'y"z'}; raises on anything not in the format."""
    labels, i = {}, 0
    while i < len(text):
        eq = text.find("=", i)
        check(eq > i, f"{where}: label without a name in {text!r}")
        name = text[i:eq]
        check(LABEL_NAME.match(name), f"{where}: bad label name {name!r}")
        check(name not in labels, f"{where}: label {name!r} twice")
        check(eq + 1 < len(text) and text[eq + 1] == '"', f"{where}: unquoted label value")
        i, value = eq + 2, ""
        while True:
            check(i < len(text), f"{where}: unterminated label value")
            c = text[i]
            if c == "\\":
                check(i + 1 < len(text) and text[i + 1] in '\\"n', f"{where}: bad escape")
                value += {"\\": "\\", '"': '"', "n": "\n"}[text[i + 1]]
                i += 2
            elif c == '"':
                i += 1
                break
            else:
                check(c != "\n", f"{where}: raw newline in a label value")
                value += c
                i += 1
        labels[name] = value
        if i < len(text):
            check(text[i] == ",", f"{where}: expected ',' between labels in {text!r}")
            i += 1
            check(i < len(text), f"{where}: trailing ',' in labels")
    return labels


def parse_value(text, where):
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    check(re.match(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\Z", text), f"{where}: bad value {text!r}")
    return float(text)


def parse_exposition(text):
    """Strict Prometheus text format 0.0.4 -> {(name, frozenset(labels.items())): value}."""
    check(text.endswith("\n"), "the exposition must end with a newline")
    series, helped, typed, done = {}, set(), {}, set()
    current = None
    for number, line in enumerate(text[:-1].split("\n"), 1):
        where = f"line {number} {line!r}"
        check(line != "", f"{where}: empty line")
        if line.startswith("#"):
            parts = line.split(" ", 3)
            check(len(parts) >= 3 and parts[0] == "#" and parts[1] in ("HELP", "TYPE"),
                  f"{where}: only # HELP and # TYPE comments are expected")
            name = parts[2]
            check(METRIC_NAME.match(name), f"{where}: bad metric name")
            check(name not in done and name != current, f"{where}: {name} described after its series")
            if parts[1] == "HELP":
                check(name not in helped, f"{where}: HELP twice")
                check(len(parts) == 4 and parts[3].strip(), f"{where}: empty HELP")
                helped.add(name)
            else:
                check(name not in typed, f"{where}: TYPE twice")
                check(len(parts) == 4 and parts[3] in TYPES, f"{where}: bad TYPE")
                typed[name] = parts[3]
            continue
        m = re.match(r"([^{ ]+)(\{(.*)\})? (\S+)\Z", line)
        check(m, f"{where}: not 'name{{labels}} value'")
        name, labels_text, value_text = m.group(1), m.group(3), m.group(4)
        check(METRIC_NAME.match(name), f"{where}: bad metric name")
        check(name in helped and name in typed, f"{where}: {name} has no HELP and TYPE before it")
        if name != current:
            check(name not in done, f"{where}: series of {name} are not together")
            if current is not None:
                done.add(current)
            current = name
        labels = parse_labels(labels_text, where) if labels_text else {}
        value = parse_value(value_text, where)
        if typed[name] == "counter":
            check(name.endswith("_total"), f"{where}: a counter's name ends in _total")
            check(value >= 0 and not math.isnan(value), f"{where}: negative counter")
        key = (name, frozenset(labels.items()))
        check(key not in series, f"{where}: duplicate series")
        series[key] = value
    return series


def http_get(port, path, method="GET", timeout=5):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        conn.close()


def metrics(port):
    status, headers, body = http_get(port, "/metrics")
    check(status == 200, f"/metrics: status {status}")
    check(headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
          f"/metrics content type {headers.get('Content-Type')!r}")
    return parse_exposition(body)


def value(series, name, **labels):
    return series[(name, frozenset(labels.items()))]


def health(port):
    status, headers, body = http_get(port, "/health", timeout=3)
    check(headers.get("Content-Type") == "application/json", "health content type")
    doc = json.loads(body)
    check(doc["health"] == ("true" if status == 200 else "false"), f"/health {status} {body!r}")
    check(status in (200, 503), f"/health status {status}")
    if status == 503:
        check(doc.get("reason"), f"/health 503 without a reason: {body!r}")
    return status, doc



def check_metrics_shape(node, series, peers):
    names = {name for name, _ in series}
    for name in REQUIRED:
        check(name in names, f"{node.name}: {name} missing")
    roles = {r: value(series, "prez_raft_role", role=r) for r in ("leader", "follower", "candidate")}
    check(sorted(roles.values()) == [0, 0, 1], f"{node.name}: roles {roles}")
    for peer in peers:
        check(("prez_peer_link_connected", frozenset({("peer", peer)})) in series,
              f"{node.name}: no link series for {peer}")
    check(value(series, "prez_raft_voters") == 3, f"{node.name}: voters")


def check_traffic(cluster, leader):
    before = metrics(leader.metrics_port)
    for i in range(50):
        check(cluster.write(leader, "metrics-key-%d" % i, "v%d" % i), "SET failed")
    after = metrics(leader.metrics_port)
    grown = value(after, "prez_raft_commit_index") - value(before, "prez_raft_commit_index")
    check(grown >= 50, f"commit index grew by {grown} after 50 SETs")
    check(value(after, "prez_raft_applied_index") >= value(before, "prez_raft_applied_index") + 50,
          "applied index did not follow")
    check(value(after, "prez_keys") >= value(before, "prez_keys") + 50, "prez_keys did not grow")
    check(value(after, "prez_clients_accepted_total") >
          value(before, "prez_clients_accepted_total"), "accepted clients did not grow")
    check(value(after, "prez_leader_known") == 1, "leader does not know a leader")
    check(value(after, "prez_raft_role", role="leader") == 1, "leader is not leader")
    sent = sum(v for (name, _), v in after.items() if name == "prez_peer_link_frames_sent_total")
    sent_before = sum(v for (name, _), v in before.items()
                      if name == "prez_peer_link_frames_sent_total")
    check(sent > sent_before, "no peer frames counted")
    sets = value(after, "prez_commands_applied_total", command="set") - \
        before.get(("prez_commands_applied_total", frozenset({("command", "set")})), 0)
    check(sets >= 50, f"prez_commands_applied_total{{command=\"set\"}} grew by {sets}")
    target = value(after, "prez_raft_commit_index")
    for node in cluster.nodes:
        check(wait_until(lambda n=node: value(metrics(n.metrics_port), "prez_raft_applied_index")
                         >= target, 10), f"{node.name} never applied up to {target}")
    print(f"traffic: commit index +{grown:.0f}, applied everywhere up to {target:.0f}")


def check_health_flip(cluster, leader):
    for node in cluster.nodes:
        check(wait_until(lambda n=node: health(n.metrics_port)[0] == 200, 15),
              f"{node.name}: /health never 200")
    followers = [n for n in cluster.nodes if n is not leader]
    for n in followers:
        n.signal(signal.SIGSTOP)
    try:
        start = time.monotonic()
        flipped = wait_until(lambda: health(leader.metrics_port)[0] == 503, 10)
        check(flipped, "leader's /health stayed 200 with both peers stopped")
        status, doc = health(leader.metrics_port)
        print(f"/health on the isolated leader: 503 after {time.monotonic() - start:.1f}s "
              f"({doc.get('reason')})")
        # /metrics still answers, and parses, without a leader.
        metrics(leader.metrics_port)
    finally:
        for n in followers:
            n.signal(signal.SIGCONT)
    for node in cluster.nodes:
        check(wait_until(lambda n=node: health(n.metrics_port)[0] == 200, 20),
              f"{node.name}: /health not 200 again after the peers returned")
    print("/health back to 200 on all nodes")


def check_bad_requests(node):
    port = node.metrics_port
    status, _, body = http_get(port, "/nothing")
    check(status == 404, f"/nothing: {status}")
    status, headers, _ = http_get(port, "/metrics", method="POST")
    check(status == 405 and headers.get("Allow") == "GET", f"POST /metrics: {status} {headers}")
    status, _, _ = http_get(port, "/health", method="DELETE")
    check(status == 405, f"DELETE /health: {status}")
    cases = [
        (b"NONSENSE\r\n\r\n", "no target"),
        (b"GET /metrics HTTP/9.9\r\n\r\n", "bad version"),
        (b"GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n", "bad header"),
        (b"GET /metrics HTTP/1.1\r\nX-Pad: " + b"a" * 9000 + b"\r\n\r\n", "header over 8 KiB"),
        (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(range(256)) + b"\n", "TLS hello"),
        (b"x" * 9000, "no line end at all"),
    ]
    for payload, label in cases:
        data, closed = raw_exchange(port, payload)
        check(data.startswith(b"HTTP/1.1 400 Bad Request\r\n"), f"{label}: got {data[:80]!r}")
        check(closed, f"{label}: connection not closed after 400")
    # Half a request, then the client goes away; and a request split into single bytes.
    raw_exchange(port, b"GET /metr", seconds=0.3)
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    for byte in b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n":
        sock.sendall(bytes([byte]))
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    sock.close()
    check(data.startswith(b"HTTP/1.1 200 OK\r\n"), f"byte-by-byte request: {data[:80]!r}")
    # Many idle connections do not stop a real request from being served.
    idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(20)]
    try:
        check(http_get(port, "/health")[0] == 200, "/health with idle connections open")
    finally:
        for s in idle:
            s.close()
    check(call(node.port, "PING") == "PONG", "client port after bad HTTP input")
    print("404, 405, 400 and closes as expected; the server is unharmed")


def check_curl(node):
    curl = shutil.which("curl")
    if curl is None:
        print("curl not installed: skipped")
        return
    url = f"http://127.0.0.1:{node.metrics_port}"
    out = subprocess.run([curl, "-s", "-w", "\n%{http_code}", url + "/metrics"], capture_output=True,
                         text=True, timeout=10).stdout
    body, code = out.rsplit("\n", 1)
    check(code == "200", f"curl /metrics: {code}")
    parse_exposition(body + "\n" if not body.endswith("\n") else body)
    out = subprocess.run([curl, "-s", "-o", "/dev/null", "-w", "%{http_code}", url + "/nope"],
                         capture_output=True, text=True, timeout=10).stdout
    check(out == "404", f"curl /nope: {out}")
    print("curl agrees")


def check_port_in_use(binary):
    workdir = tempfile.mkdtemp(prefix="prez-metrics-busy-")
    busy = socket.socket()
    busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    busy_port = busy.getsockname()[1]
    try:
        with open(os.path.join(workdir, "prez.conf"), "w") as f:
            f.write(f"port {free_port()}\nmetrics-port {busy_port}\ndir ./data\n")
        try:
            p = subprocess.run([binary, "prez.conf"], cwd=workdir, capture_output=True, text=True,
                               timeout=15)
        except subprocess.TimeoutExpired:
            raise AssertionError("a busy metrics port did not stop start-up")
        out = p.stdout + p.stderr
        check(p.returncode != 0, f"exit code 0 with a busy metrics port: {out!r}")
        check(f"metrics-port {busy_port}" in out, f"no clear error: {out!r}")
        print(f"busy metrics port refused: {out.strip().splitlines()[-1]!r}")
    finally:
        busy.close()
        shutil.rmtree(workdir, ignore_errors=True)


def main(binary):
    binary = os.path.abspath(binary)
    check_port_in_use(binary)
    with Cluster(binary, 3) as cluster:
        for node in cluster.nodes:
            node.metrics_port = free_port()
            node.write_config(f"metrics-port {node.metrics_port}\n")
        cluster.start()
        leader = cluster.leader()
        for node in cluster.nodes:
            peers = [n.name for n in cluster.nodes if n is not node]
            check(wait_until(lambda n=node: metrics(n.metrics_port), 10), f"{node.name}: /metrics")
            check_metrics_shape(node, metrics(node.metrics_port), peers)
        print("metrics parse strictly on all nodes")
        check_traffic(cluster, leader)
        check_bad_requests(leader)
        check_curl(leader)
        check_health_flip(cluster, leader)
        check(all(n.alive() for n in cluster.nodes), "a node died")
    print("OK")


if __name__ == "__main__":
    main(sys.argv[1])
