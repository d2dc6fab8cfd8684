#!/usr/bin/env python3
"""A single-node cluster (prez.conf without cluster-config-file, and the no-argument form when port
9000 is free) answering at once; RESP details: inline commands, pipelining in order, protocol
errors answered and the connection closed, QUIT, restart keeps data.
Usage: test_single_node_protocol.py PATH/TO/prez-server"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from prez_harness import (Client, RespError, call, check, encode, free_port, start_process,
                           stop_process, wait_until)






def port_free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def protocol_checks(port):
    with Client(port) as c:
        c.send_raw(b"PING\r\n")
        check(c.read_reply() == "PONG", "inline PING")
        c.send_raw(b"SET inline 'with space'\r\nGET inline\r\n")
        check(c.read_reply() == "OK" and c.read_reply() == "with space", "inline SET/GET with quotes")
        batch = b"".join(encode("SET", f"p{i}", str(i)) + encode("GET", f"p{i}") for i in range(500))
        c.send_raw(batch)
        for i in range(500):
            check(c.read_reply() == "OK", f"pipelined SET {i}")
            check(c.read_reply() == str(i), f"pipelined GET {i} in order")
        check(c.call("ECHO", "x\r\ny") == "x\r\ny", "ECHO is binary safe")
        err = None
        try:
            c.call("NOSUCHCOMMAND", "a")
        except RespError as e:
            err = str(e)
        check(err and err.startswith("ERR unknown command"), f"unknown command error: {err}")
        check(c.call("QUIT") == "OK", "QUIT answers OK")
    for bad in (b"*1\r\n$-5\r\n", b"*abc\r\n", b"*1\r\n$999999999999\r\n", b"*1\r\n+x\r\n"):
        with Client(port) as c:
            c.send_raw(bad)
            reply = c.read_reply()
            check(isinstance(reply, RespError) and "Protocol error" in str(reply),
                  f"{bad!r}: {reply!r}")
            closed = False
            try:
                c.read_reply()
            except (ConnectionError, OSError):
                closed = True
            check(closed, f"{bad!r}: connection not closed after protocol error")
    print("protocol checks: ok")


def main(binary):
    binary = os.path.abspath(binary)
    workdir = tempfile.mkdtemp(prefix="prez-single-")
    try:
        port = free_port()
        with open(os.path.join(workdir, "prez.conf"), "w") as f:
            f.write(f"port {port}\ndir ./data\nloglevel notice\n")
        proc, log = start_process(binary, workdir, ["prez.conf"])
        try:
            t0 = time.monotonic()
            check(wait_until(lambda: call(port, "SET", "k", "v", timeout=1) == "OK", 10),
                  "single node did not accept a write")
            print(f"single node accepted its first write {1000 * (time.monotonic() - t0):.0f} ms after start")
            protocol_checks(port)
        finally:
            stop_process(proc, log)
        proc, log = start_process(binary, workdir, ["prez.conf"])
        try:
            check(wait_until(lambda: call(port, "GET", "k", timeout=1) == "v", 10),
                  "single node lost its data over a restart")
            check(call(port, "GET", "p499") == "499", "pipelined writes survived the restart")
        finally:
            stop_process(proc, log)
        if port_free(9000):
            nodir = os.path.join(workdir, "noargs")
            os.makedirs(nodir)
            proc, log = start_process(binary, nodir, [])
            try:
                check(wait_until(lambda: call(9000, "SET", "a", "b", timeout=1) == "OK", 10),
                      "prez-server with no arguments did not answer on 9000")
                check(os.path.isdir(os.path.join(nodir, "prez-data")), "no ./prez-data")
                print("no-argument single node on port 9000: ok")
            finally:
                stop_process(proc, log)
        else:
            print("port 9000 busy: the no-argument form was not exercised in this run")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1])
