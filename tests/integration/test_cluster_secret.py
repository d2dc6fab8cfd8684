#!/usr/bin/env python3
"""cluster-secret: nodes sharing it form a cluster; a process that claims a member's name but does
not know the secret is not heard (its frames are refused and counted), so it cannot disturb the
leader, the term or the data. Usage: test_cluster_secret.py PATH/TO/prez-server"""
import os
import sys
import time

from prez_harness import Cluster, Node, call, check, free_port, info_raft, wait_until

SECRET = "cluster-secret-for-tests-0123456789"


def main(binary):
    with Cluster(binary, size=3, node_timeout_ms=500) as c:
        for n in c.nodes:
            n.write_config(extra=f"cluster-secret {SECRET}\n")
        c.start()
        leader = c.leader()
        follower = next(n for n in c.nodes if n is not leader)
        check(c.write(follower, "k", "v"), "write through a follower with a cluster secret")
        check(call(leader.port, "GET", "k") == "v", "read")
        term = info_raft(leader.port)["term"]

        # An intruder: claims to be node-1 (and lists the real node-0 and node-2 as its peers),
        # with a wrong secret. It campaigns at once, since no leader talks to it.
        intruder = Node(c, "intruder", free_port(), free_port())
        intruder.name = "node-1"
        members = "".join(f"{n.name} 127.0.0.1:{n.cluster_port}\n" for n in c.nodes
                          if n.name != "node-1")
        members += f"node-1 127.0.0.1:{intruder.cluster_port}\n"
        with open(os.path.join(intruder.dir, "prez.conf"), "w") as f:
            f.write(f"name node-1\nport {intruder.port}\ncluster-port {intruder.cluster_port}\n"
                    "cluster-config-file nodes.conf\ncluster-node-timeout 100\n"
                    "cluster-secret wrong-secret-wrong-secret\ndir ./data\n")
        with open(os.path.join(intruder.dir, "nodes.conf"), "w") as f:
            f.write(members)
        intruder.start()
        c.nodes.append(intruder)  # cleaned up with the cluster
        try:
            refused = wait_until(
                lambda: any(int(info_raft(n.port).get("peer_frames_refused", "0")) > 0
                            for n in c.nodes[:3]), 10)
            check(refused, "no node reports refusing the intruder's frames")
            time.sleep(1.0)  # the intruder keeps campaigning with ever higher terms
            now = info_raft(leader.port)
            check(now.get("role") == "leader" and now.get("term") == term,
                  f"the intruder disturbed the cluster: {now}")
            check(call(follower.port, "GET", "k") == "v", "data intact")
            check(c.write(follower, "k2", "v2"), "the cluster still takes writes")
        finally:
            intruder.kill()
        print("an intruder without the cluster secret is refused; leader, term and data intact")


if __name__ == "__main__":
    main(sys.argv[1])
