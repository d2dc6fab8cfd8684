#!/usr/bin/env python3
"""requirepass and AUTH with Redis's semantics: unauthenticated clients get only AUTH, HELLO and
QUIT, with Redis's small pre-auth limits; wrong passwords are refused; redis-cli -a works; a node
without requirepass says so on AUTH. Usage: test_auth.py PATH/TO/prez-server"""
import os
import shutil
import subprocess
import sys
import tempfile

from prez_harness import (Client, RespError, call, check, encode, free_port, start_process,
                           wait_until)


def start(binary, workdir, conf):
    with open(os.path.join(workdir, "prez.conf"), "w") as f:
        f.write(conf)
    return start_process(binary, workdir, ["prez.conf"])


def error_of(client, *args):
    try:
        client.call(*args)
    except RespError as e:
        return str(e)
    return None


def main(binary):
    binary = os.path.abspath(binary)
    workdir = tempfile.mkdtemp(prefix="prez-auth-")
    proc = log = None
    try:
        port = free_port()
        proc, log = start(binary, workdir, f"port {port}\ndir ./data\nrequirepass s3cret-pw\n")
        check(wait_until(lambda: error_of(Client(port), "PING") is not None, 10), "server up")
        with Client(port) as c:
            check(error_of(c, "PING") == "NOAUTH Authentication required.", "PING before AUTH")
            check(error_of(c, "GET", "k") == "NOAUTH Authentication required.", "GET before AUTH")
            check(error_of(c, "AUTH", "wrong").startswith("WRONGPASS"), "wrong password")
            check(error_of(c, "AUTH", "nobody", "s3cret-pw").startswith("WRONGPASS"), "bad user")
            check(error_of(c, "HELLO", "2").startswith("NOAUTH HELLO must be called"), "HELLO")
            check(c.call("AUTH", "s3cret-pw") == "OK", "AUTH")
            check(wait_until(lambda: c.call("SET", "k", "v") == "OK", 10), "SET after AUTH")
            check(c.call("GET", "k") == "v", "GET after AUTH")
        with Client(port) as c:
            check(c.call("AUTH", "default", "s3cret-pw") == "OK", "AUTH default <pw>")
        with Client(port) as c:
            reply = c.call("HELLO", "2", "AUTH", "default", "s3cret-pw")
            check(isinstance(reply, list) and "proto" in reply, f"HELLO 2 AUTH: {reply!r}")
            check(c.call("GET", "k") == "v", "authenticated through HELLO")
            check(c.call("RESET") == "RESET", "RESET")
            check(error_of(c, "GET", "k") == "NOAUTH Authentication required.",
                  "RESET forgets the authentication, as in Redis")
        with Client(port) as c:
            reply = c.call("HELLO", "3", "SETNAME", "app", "AUTH", "default", "s3cret-pw")
            check(isinstance(reply, dict) and reply.get("proto") == 3, f"HELLO 3 AUTH: {reply!r}")
            check(c.call("GET", "nokey") is None and c.call("CLIENT", "GETNAME") == "app",
                  "RESP3 after HELLO 3 AUTH ... SETNAME")
        # Pre-auth limits: a stranger cannot make the server buffer much.
        with Client(port) as c:
            c.send_raw(b"*11\r\n")
            reply = c.read_reply()
            check(isinstance(reply, RespError) and "unauthenticated multibulk length" in str(reply),
                  f"pre-auth multibulk limit: {reply!r}")
        with Client(port) as c:
            c.send_raw(b"*2\r\n$4\r\nAUTH\r\n$100000\r\n")
            reply = c.read_reply()
            check(isinstance(reply, RespError) and "unauthenticated bulk length" in str(reply),
                  f"pre-auth bulk limit: {reply!r}")
        if shutil.which("redis-cli"):
            out = subprocess.run(["redis-cli", "-p", str(port), "-a", "s3cret-pw",
                                  "--no-auth-warning", "get", "k"],
                                 capture_output=True, text=True, timeout=10)
            check(out.stdout.strip() == "v", f"redis-cli -a: {out.stdout!r} {out.stderr!r}")
        print("requirepass: AUTH, HELLO AUTH (RESP2 and 3), RESET, NOAUTH gate, WRONGPASS, pre-auth "
              "limits: ok")
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
        proc, log = start(binary, workdir, f"port {port}\ndir ./data\n")
        check(wait_until(lambda: call(port, "GET", "k", timeout=1) == "v", 10), "restart open")
        with Client(port) as c:
            check(error_of(c, "AUTH", "x").startswith("ERR AUTH <password> called without"),
                  "AUTH without requirepass")
        print("without requirepass, AUTH says no password is configured: ok")
    finally:
        if proc is not None:
            proc.kill()
            proc.wait(timeout=10)
            log.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1])
