#!/usr/bin/env python3
"""QUIT as Redis 7 handles it: +OK, then the connection closes, and commands pipelined after QUIT
in the same write are never run; QUIT inside MULTI is answered at once (not queued) and the
transaction is dropped. Usage: test_quit.py PATH/TO/prez-server"""
import sys

from prez_harness import Cluster, call, check, raw_exchange, wait_until



def main(binary):
    with Cluster(binary, size=1) as c:
        c.start()
        node = c.nodes[0]
        check(wait_until(lambda: node.role() == "leader", 15), "the single node never led")
        port = node.port

        data, closed = raw_exchange(port, b"SET c 1\r\nQUIT\r\nSET d 2\r\nINCR n\r\n")
        check(data == b"+OK\r\n+OK\r\n", f"SET; QUIT; ... answered {data!r}")
        check(closed, "the connection stayed open after QUIT")

        big = b"x" * 200_000  # more than one read of the connection
        data, closed = raw_exchange(port, b"QUIT\r\n*3\r\n$3\r\nSET\r\n$1\r\ne\r\n$%d\r\n%s\r\n"
                                % (len(big), big))
        check(data == b"+OK\r\n", f"QUIT; SET e <200 kB> answered {data!r}")
        check(closed, "the connection stayed open after QUIT with a large command behind it")

        data, closed = raw_exchange(port, b"MULTI\r\nSET a 1\r\nQUIT\r\nSET b 2\r\nEXEC\r\n")
        check(data == b"+OK\r\n+QUEUED\r\n+OK\r\n", f"MULTI; SET; QUIT; ... answered {data!r}")
        check(closed, "the connection stayed open after QUIT in MULTI")

        # Nothing after QUIT ran, and the dropped transaction did not either.
        values = call(port, "MGET", "a", "b", "c", "d", "e", "n")
        check(values == [None, None, "1", None, None, None],
              f"a command pipelined after QUIT was run: MGET a b c d e n = {values!r}")
        print("QUIT: answered +OK, closed, nothing after it ran (also in MULTI)")


if __name__ == "__main__":
    main(sys.argv[1])
