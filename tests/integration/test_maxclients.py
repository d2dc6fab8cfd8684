#!/usr/bin/env python3
"""maxclients caps client connections as Redis does: with `maxclients 3` in prez.conf, three
clients are served, a fourth gets `-ERR max number of clients reached` and is closed, and once one
of the three leaves a new client is served again. CONFIG GET maxclients reports the configured
value. Usage: test_maxclients.py PATH/TO/prez-server"""
import socket
import sys
import time

from prez_harness import Client, Cluster, check, wait_until

MAXCLIENTS = 3
REFUSAL = b"-ERR max number of clients reached\r\n"


def read_all(sock, seconds=5):
    """Everything the server sends until it closes the connection (bounded in time)."""
    sock.settimeout(seconds)
    data = b""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            chunk = sock.recv(4096)
        except socket.timeout:
            return data, False
        except ConnectionResetError:
            return data, True
        if not chunk:
            return data, True
        data += chunk
    return data, False


def served(port):
    """A new connection that answers PING; None when refused."""
    client = Client(port, timeout=5)
    try:
        if client.call("PING") == "PONG":
            return client
    except (ConnectionError, OSError, ValueError):
        pass
    client.close()
    return None


def main(binary):
    with Cluster(binary, size=1) as c:
        node = c.nodes[0]
        node.write_config(extra=f"maxclients {MAXCLIENTS}\n")
        c.start()
        check(wait_until(lambda: node.role() == "leader", 15), "the single node never led")
        clients = []
        try:
            for _ in range(MAXCLIENTS):
                client = wait_until(lambda: served(node.port), 10)
                check(client is not None, "a client under the limit was not served")
                clients.append(client)
            check(clients[0].call("CONFIG", "GET", "maxclients") == ["maxclients", str(MAXCLIENTS)],
                  "CONFIG GET maxclients does not report the configured value")

            extra = socket.create_connection(("127.0.0.1", node.port), timeout=5)
            try:
                extra.sendall(b"PING\r\n")
                data, closed = read_all(extra)
            finally:
                extra.close()
            check(data == REFUSAL, f"client {MAXCLIENTS + 1} got {data!r}, not Redis's refusal")
            check(closed, f"client {MAXCLIENTS + 1} was not disconnected")
            for client in clients:  # the refusal did not disturb the others
                check(client.call("PING") == "PONG", "a connected client stopped being served")
            print(f"{MAXCLIENTS} clients served; client {MAXCLIENTS + 1} refused and closed")

            clients.pop().close()
            again = wait_until(lambda: served(node.port), 10)
            check(again is not None, "no new client served after one of the others left")
            clients.append(again)
            print("after one client left, a new one is served")
        finally:
            for client in clients:
                client.close()


if __name__ == "__main__":
    main(sys.argv[1])
