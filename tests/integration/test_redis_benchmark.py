#!/usr/bin/env python3
"""Real Redis tools against a FOLLOWER of a 3-node prez cluster:

1. `redis-benchmark -t ping,set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,lrange,mset -n 2000
   -c 10 --csv`, then the same with `-P 8` (pipelining): it must exit 0, print nothing suspicious
   on stderr (errors, "ERR", warnings such as "WARNING: Could not fetch server CONFIG"), and give a
   row for every test. The rps table is printed.
2. `redis-cli -p P` with a script of commands (incl. a MULTI block and error replies) piped on
   stdin: the output lines are checked one by one.
3. `redis-cli -p P` interactively through a pseudo-terminal (TERM=dumb, so linenoise prints no
   escape sequences): prompt, replies in the interactive format ("(integer) 2", "(nil)",
   "(error) ...", "1) ..."), and the "(TX)" prompt inside MULTI.
4. `redis-cli -p P` on a real terminal (TERM=xterm): typing "SET " shows Redis's argument hint,
   which redis-cli builds from COMMAND DOCS; `redis-cli help lmove` prints the syntax. Every
   command in COMMAND LIST has docs.

Usage: test_redis_benchmark.py PATH/TO/prez-server
"""
import csv
import fcntl
import io
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prez_harness import Client, Cluster, call, check  # noqa: E402

TESTS = "ping,set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,lrange,mset"
# The rows redis-benchmark 7 prints for TESTS (lrange runs LPUSH then four LRANGE sizes).
EXPECTED_ROWS = ["PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "LPUSH", "RPUSH", "LPOP",
                 "RPOP", "SADD", "HSET", "SPOP", "LPUSH (needed to benchmark LRANGE)",
                 "LRANGE_100 (first 100 elements)", "LRANGE_300 (first 300 elements)",
                 "LRANGE_500 (first 500 elements)", "LRANGE_600 (first 600 elements)",
                 "MSET (10 keys)"]


def benchmark(port, extra):
    cmd = ["redis-benchmark", "-p", str(port), "-t", TESTS, "-n", "2000", "-c", "10", "--csv"] + extra
    started = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    took = time.monotonic() - started
    label = " ".join(cmd[3:])
    check(out.returncode == 0,
          f"redis-benchmark {label} exited {out.returncode}\nstdout:{out.stdout}\nstderr:{out.stderr}")
    err = out.stderr.strip()
    check(not re.search(r"error|ERR|warning", err, re.IGNORECASE) and not err,
          f"redis-benchmark {label} printed on stderr:\n{err}")
    check("ERR" not in out.stdout and "error" not in out.stdout.lower(),
          f"redis-benchmark {label} printed errors:\n{out.stdout}")
    rows = list(csv.reader(io.StringIO(out.stdout)))
    check(rows and rows[0][:2] == ["test", "rps"], f"no CSV header: {out.stdout[:200]!r}")
    table = {r[0]: r for r in rows[1:] if r}
    missing = [name for name in EXPECTED_ROWS if name not in table]
    check(not missing, f"redis-benchmark {label}: rows missing {missing}\n{out.stdout}")
    for name in EXPECTED_ROWS:
        check(float(table[name][1]) > 0, f"{name}: rps {table[name][1]}")
    print(f"redis-benchmark -n 2000 -c 10 {' '.join(extra)} ({took:.1f}s):")
    print(f"  {'test':40} {'rps':>10} {'p50 ms':>8} {'p99 ms':>8}")
    for name in EXPECTED_ROWS:
        r = table[name]
        print(f"  {name:40} {r[1]:>10} {r[4]:>8} {r[6]:>8}")


# Commands piped to redis-cli and the lines it must print (stdout not a terminal: raw replies,
# one line per element, nil as an empty line, errors as their text and an empty line).
PIPED = [
    ("PING", ["PONG"]),
    ("SET cli:a 1", ["OK"]),
    ("INCR cli:a", ["2"]),
    ("GET cli:a", ["2"]),
    ("MULTI", ["OK"]),
    ("RPUSH cli:l x y", ["QUEUED"]),
    ("INCRBY cli:a 10", ["QUEUED"]),
    ("EXEC", ["2", "12"]),
    ("LRANGE cli:l 0 -1", ["x", "y"]),
    ("GET cli:nokey", [""]),
    # redis-cli (raw mode) prints an empty line after an error, against Redis too
    ("INCR cli:l", ["WRONGTYPE Operation against a key holding the wrong kind of value", ""]),
    ("DEL cli:a cli:l", ["2"]),
]


def piped_cli(port):
    script = "".join(cmd + "\n" for cmd, _ in PIPED)
    out = subprocess.run(["redis-cli", "-p", str(port)], input=script, capture_output=True,
                         text=True, timeout=60)
    check(out.returncode == 0, f"redis-cli exited {out.returncode}: {out.stderr}")
    expected = [line for _, lines in PIPED for line in lines]
    got = out.stdout.split("\n")
    if got and got[-1] == "":
        got.pop()
    check(got == expected, f"redis-cli piped output:\n{got}\nexpected:\n{expected}")
    check(out.stderr.strip() == "", f"redis-cli stderr: {out.stderr!r}")
    print(f"redis-cli with {len(PIPED)} piped commands (MULTI block included): ok")


def read_pty(master, done, seconds, what):
    """Reads redis-cli's terminal until `done(output so far)`; answers linenoise's cursor
    position queries (a real terminal would). Raises after `seconds`."""
    buf, end = b"", time.monotonic() + seconds
    while time.monotonic() < end:
        ready, _, _ = select.select([master], [], [], 0.1)
        if not ready:
            continue
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
        if b"\x1b[6n" in chunk:
            os.write(master, b"\x1b[1;1R")
        if done(buf):
            return buf
    raise AssertionError(f"redis-cli did not show {what} within {seconds}s: {buf[-400:]!r}")


# Interactive: each command and what redis-cli prints before the next prompt.
INTERACTIVE = [
    ("PING", ["PONG"], ""),
    ("SET cli:b 5", ["OK"], ""),
    ("MULTI", ["OK"], "(TX)"),
    ("INCR cli:b", ["QUEUED"], "(TX)"),
    ("SADD cli:s m", ["QUEUED"], "(TX)"),
    ("EXEC", ["1) (integer) 6", "2) (integer) 1"], ""),
    ("GET cli:nokey", ["(nil)"], ""),
    ("HSET cli:h", ["(error) ERR wrong number of arguments for 'hset' command"], ""),
    ("SMEMBERS cli:s", ['1) "m"'], ""),
    ("DEL cli:b cli:s", ["(integer) 2"], ""),
]


def interactive_cli(port):
    master, slave = pty.openpty()
    proc = subprocess.Popen(["redis-cli", "-p", str(port)], stdin=slave, stdout=slave,
                            stderr=slave, start_new_session=True,
                            env=dict(os.environ, TERM="dumb"))
    os.close(slave)
    prompt = f"127.0.0.1:{port}"

    def read_prompt(seconds=20):
        return read_pty(master, lambda buf: re.search(rb"> $", buf), seconds,
                        "a prompt").decode(errors="replace")

    try:
        first = read_prompt()
        check(first.strip() == prompt + ">", f"first prompt {first!r}")
        for cmd, lines, tx in INTERACTIVE:
            os.write(master, cmd.encode() + b"\r")
            text = read_prompt()
            got = [l for l in text.replace("\r", "").split("\n")]
            # The terminal echoes the command; the last line is the next prompt.
            check(got[0] == cmd, f"echo of {cmd!r}: {got!r}")
            check(got[1:-1] == lines, f"redis-cli {cmd!r} printed {got[1:-1]!r}, expected {lines!r}")
            check(got[-1] == f"{prompt}{tx}> ", f"prompt after {cmd!r}: {got[-1]!r}")
        os.write(master, b"quit\r")
        proc.wait(timeout=10)
        check(proc.returncode == 0, f"redis-cli exit code {proc.returncode}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(master)
    print(f"interactive redis-cli through a pseudo-terminal, {len(INTERACTIVE)} commands: ok")


# What redis-cli 7 shows after a command name and a space, built from COMMAND DOCS.
HINTS = [
    ("SET", "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|"
            "PXAT unix-time-milliseconds|KEEPTTL]"),
    ("HSET", "key field value [field value ...]"),
    ("LPOS", "key element [RANK rank] [COUNT num-matches] [MAXLEN len]"),
]


def cli_hints(port):
    """redis-cli on a real terminal shows each command's argument hint as the user types."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 240, 0, 0))
    proc = subprocess.Popen(["redis-cli", "-p", str(port)], stdin=slave, stdout=slave,
                            stderr=slave, start_new_session=True,
                            env=dict(os.environ, TERM="xterm"))
    os.close(slave)

    def read_until(wanted, seconds=10):
        return read_pty(master, lambda buf: wanted in buf, seconds, repr(wanted))

    try:
        read_until(f"127.0.0.1:{port}> ".encode())
        for command, hint in HINTS:
            os.write(master, command.encode() + b" ")
            read_until(hint.encode())
            os.write(master, b"\x15")  # Ctrl-U clears the line
        os.write(master, b"quit\r")
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(master)
    out = subprocess.run(["redis-cli", "-p", str(port), "help", "lmove"], capture_output=True,
                         text=True, timeout=10)
    check("source destination LEFT|RIGHT LEFT|RIGHT" in out.stdout and "group:" in out.stdout,
          f"redis-cli help lmove: {out.stdout!r}")
    print(f"redis-cli hints on a terminal for {', '.join(c for c, _ in HINTS)}, and HELP: ok")


def command_docs(port):
    """Every command in COMMAND LIST has docs with a summary, a version and a group."""
    with Client(port) as cl:
        names = cl.call("COMMAND", "LIST")
        docs = cl.call("COMMAND", "DOCS")
    check(isinstance(docs, list) and len(docs) == 2 * len(names),
          f"COMMAND DOCS has {len(docs) // 2} entries for {len(names)} commands")
    documented = dict(zip(docs[0::2], docs[1::2]))
    for name in names:
        fields = dict(zip(documented.get(name, [])[0::2], documented.get(name, [])[1::2]))
        check(all(fields.get(f) for f in ("summary", "since", "group")), f"docs of {name}: {fields}")
    print(f"COMMAND DOCS documents all {len(names)} commands: ok")


def main(binary):
    for tool in ("redis-benchmark", "redis-cli"):
        if shutil.which(tool) is None:
            print(f"FAIL: {tool} is not installed; run scripts/install-deps.sh (redis-tools)")
            return 1
    with Cluster(binary, size=3, node_timeout_ms=500) as c:
        c.start()
        leader = c.leader(seconds=30)
        follower = next(n for n in c.nodes if n is not leader)
        check(c.write(follower, "warm", "up", seconds=30), "first write through the follower")
        print(f"leader {leader.name}, benchmarking follower {follower.name} on port {follower.port}")
        benchmark(follower.port, [])
        benchmark(follower.port, ["-P", "8"])
        check(call(follower.port, "PING") == "PONG", "the follower still answers")
        piped_cli(follower.port)
        interactive_cli(follower.port)
        cli_hints(follower.port)
        command_docs(follower.port)
        for n in c.nodes:
            check(n.alive(), f"{n.name} died during the test")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
