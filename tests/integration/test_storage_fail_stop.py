#!/usr/bin/env python3
"""Fail-stop on a storage failure, with a real process: a single node whose WAL cannot grow (the
file-size limit, RLIMIT_FSIZE, with SIGXFSZ ignored so write() fails with EFBIG as on a full
disk) stops with exit code 70 and one critical log line naming the file, and never acknowledges
a write it did not make durable: restarted without the limit, it has every key it answered OK.
Usage: test_storage_fail_stop.py PATH/TO/prez-server"""
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile

from prez_harness import call, check, free_port, wait_until

LIMIT_BYTES = 256 * 1024


def start(server, workdir, limited):
    def preexec():
        if limited:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT_BYTES, LIMIT_BYTES))
    log = open(os.path.join(workdir, "server.log"), "ab")
    proc = subprocess.Popen([server, "prez.conf"], cwd=workdir, stdout=log,
                            stderr=subprocess.STDOUT, preexec_fn=preexec, start_new_session=True)
    return proc, log


def log_text(workdir):
    with open(os.path.join(workdir, "server.log"), errors="replace") as f:
        return f.read()


def main(server):
    server = os.path.abspath(server)
    workdir = tempfile.mkdtemp(prefix="prez-failstop-")
    procs = []
    try:
        port = free_port()
        with open(os.path.join(workdir, "prez.conf"), "w") as f:
            f.write(f"port {port}\ndir data\nsnapshot-entries 0\nsnapshot-bytes 0\n")
        proc, log = start(server, workdir, limited=True)
        procs.append((proc, log))
        check(wait_until(lambda: call(port, "PING") == "PONG", 60),
              "the node never answered:\n" + log_text(workdir)[-2000:])

        # Writes of 1 KiB until the node stops: the WAL reaches the limit after about 250.
        acknowledged = []
        for i in range(5000):
            try:
                reply = call(port, "SET", f"k{i}", f"{i:08d}" * 128, timeout=10)
            except Exception:
                break
            check(reply == "OK", f"SET k{i}: {reply!r}")
            acknowledged.append(i)
        check(0 < len(acknowledged) < 5000, f"{len(acknowledged)} writes acknowledged")
        code = proc.wait(timeout=30)
        log.close()
        procs.clear()
        text = log_text(workdir)
        check(code == 70, f"exit code {code}, expected 70:\n{text[-2000:]}")
        check("storage failure: cannot write" in text and "File too large" in text,
              "no critical line naming the failed write:\n" + text[-2000:])

        # Restarted without the limit: every acknowledged write is there.
        proc, log = start(server, workdir, limited=False)
        procs.append((proc, log))
        check(wait_until(lambda: call(port, "PING") == "PONG", 60),
              "the node did not come back:\n" + log_text(workdir)[-2000:])
        check(wait_until(lambda: call(port, "GET", f"k{acknowledged[-1]}") is not None, 30),
              "the last acknowledged key is missing after the restart")
        for i in acknowledged:
            check(call(port, "GET", f"k{i}") == f"{i:08d}" * 128, f"k{i} lost or wrong")
        print(f"storage fail-stop: exit 70 after {len(acknowledged)} acknowledged writes, "
              "all present after a restart")
    finally:
        for proc, log in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            log.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1])
