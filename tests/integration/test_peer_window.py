#!/usr/bin/env python3
"""A peer link bounds what it has in flight (docs/decisions.md D4).

A 3-node cluster whose third member is a fake node (prez-peer-probe in sink mode) that counts
the frames it receives. The two real nodes run with `cluster-link-window 65536`.

1. The sink never answers the links' window questions: however much the leader writes, the
   sink receives at most the window plus one frame, the leader logs that it drops frames, and
   the two real nodes keep serving writes.
2. The sink answers: the same writes now reach it in full (many times the window), so the
   window reopens on acknowledgements and phase 1's bound came from the window alone.

Usage: test_peer_window.py PATH/TO/prez-server   (PREZ_PEER_PROBE names prez-peer-probe)
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prez_harness import Cluster, call, check, info_raft  # noqa: E402

WINDOW = 65536
VALUE = "v" * 1000
KEYS = 300
SINK_SECONDS = 8  # under the links' 10 s acknowledgement timeout, so phase 1 sees one window


def start_sink(probe, port, mode):
    sink = subprocess.Popen([probe, "sink", str(port), str(SINK_SECONDS), mode],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = sink.stdout.readline()
    if line.strip() != "listening":
        sink.kill()
        _, err = sink.communicate(timeout=10)
        check(False, f"sink did not start: {line!r} {err!r}")
    return sink


def sink_totals(sink):
    out, err = sink.communicate(timeout=SINK_SECONDS + 30)
    check(sink.returncode == 0, f"sink exited {sink.returncode}: {out!r} {err!r}")
    words = out.split()
    totals = dict(zip(words[0::2], (int(w) for w in words[1::2])))
    check({"frames", "bytes", "questions"} <= totals.keys(), f"sink printed {out!r}")
    return totals


def write_keys(node, prefix):
    for i in range(KEYS):
        check(call(node.port, "SET", f"{prefix}{i}", VALUE, timeout=5) == "OK",
              f"SET {prefix}{i} through {node.name}")


def main(binary):
    probe = os.environ.get("PREZ_PEER_PROBE")
    check(probe and os.path.exists(probe), "PREZ_PEER_PROBE is not set to prez-peer-probe")
    sink = None
    with Cluster(binary, size=3, node_timeout_ms=500) as c:
        try:
            real, fake = c.nodes[:2], c.nodes[2]
            for n in real:
                n.write_config(f"cluster-link-window {WINDOW}\n")

            # 1. A peer that never acknowledges.
            sink = start_sink(probe, fake.cluster_port, "silent")
            for n in real:
                n.start()
            leader = c.leader(among=real, seconds=30)
            write_keys(leader, "a")
            # While the sink is still there: INFO shows the link connected and dropping.
            link = info_raft(leader.port).get(f"link_{fake.name}", "")
            stats = dict(kv.split("=") for kv in link.strip().split(",") if "=" in kv)
            check(stats.get("connected") == "1" and int(stats.get("window_drops", "0")) > 0,
                  f"INFO raft does not show the full window: link_{fake.name}:{link!r}")
            silent = sink_totals(sink)
            print(f"silent sink: {silent}")
            check(silent["frames"] > 0, "the sink received nothing: the link never connected")
            check(silent["questions"] > 0, "the link never asked for an acknowledgement")
            # At most the window plus one frame (a probe carries every entry: ~KEYS * 1 KB).
            check(silent["bytes"] <= WINDOW + KEYS * len(VALUE) + 65536,
                  f"{silent['bytes']} bytes reached a peer that acknowledged nothing")
            check("dropping frames until it catches up" in leader.tail_log(200),
                  "the leader did not log a full window")
            check(call(real[0].port, "GET", "a0") == VALUE and call(real[1].port, "GET",
                                                                    f"a{KEYS - 1}") == VALUE,
                  "writes were lost while a peer's window was full")
            print(f"window {WINDOW}: {silent['bytes']} bytes in flight to a silent peer at most, "
                  "writes still served")

            # 2. The same peer, answering.
            sink = start_sink(probe, fake.cluster_port, "ack")
            write_keys(leader, "b")
            acked = sink_totals(sink)
            print(f"acknowledging sink: {acked}")
            check(acked["bytes"] > 8 * WINDOW,
                  f"only {acked['bytes']} bytes reached a peer that acknowledged: the window "
                  "did not reopen")
            print(f"the window reopens on acknowledgements: {acked['bytes']} bytes delivered")
        finally:
            if sink is not None and sink.poll() is None:
                sink.kill()
                sink.communicate(timeout=10)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
