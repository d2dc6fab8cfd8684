#!/usr/bin/env python3
"""A 5-node cluster: election, writes through followers, SIGKILL of the leader and then of a
second node (3 of 5 still a majority), every acknowledged write intact.
Usage: test_five_nodes.py PATH/TO/prez-server"""
import signal
import sys

from prez_harness import Cluster, call, check

def main(binary):
    acked = {}
    with Cluster(binary, size=5, node_timeout_ms=500) as c:
        c.start()
        leader = c.leader()
        followers = [n for n in c.nodes if n is not leader]
        for i in range(30):
            node = followers[i % 4]
            check(c.write(node, f"k{i}", f"v{i}"), f"write k{i}")
            acked[f"k{i}"] = f"v{i}"
        leader.signal(signal.SIGKILL)
        leader.kill()
        second = c.leader(among=followers)
        rest = [n for n in followers if n is not second]
        second.signal(signal.SIGKILL)
        second.kill()
        check(c.write(rest[0], "after", "two-kills", seconds=15), "write with 3 of 5 alive")
        acked["after"] = "two-kills"
        for k, v in acked.items():
            check(call(rest[1].port, "GET", k) == v, f"acknowledged write {k} lost")
        print(f"5 nodes: {len(acked)} acknowledged writes intact after killing two leaders")

if __name__ == "__main__":
    main(sys.argv[1])
