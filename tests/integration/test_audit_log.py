#!/usr/bin/env python3
"""The audit log with real processes (docs/architecture.md §5, "The audit log").

1. A 3-node cluster where one follower has `audit-log audit.log`. A few hundred writes go through
   the leader, one at a time: SETs with binary values, spaces, newlines, quotes and backslashes,
   INCRs, DELs and a MULTI/EXEC. The audit file on that node, parsed back (Redis sdscatrepr
   quoting), lists exactly the acknowledged commands in order: increasing indexes, a transaction
   as MULTI, its commands, EXEC on one index, a leader time stamp near the test's clock.
2. That node is stopped (SIGTERM) and started again, then SIGKILLed and started again, with writes
   in between: it applies its log again from the start, yet no line is listed twice.
3. It is SIGKILLed while the others write on, take snapshots and compact their logs; restarted,
   it is sent a snapshot: the file says so in one comment line and lists the commands after it.
4. With audit-log-max-bytes 4000 and audit-log-keep 3 it rotates: audit.log.1 .. .3 exist, no .4,
   every file stays within the limit, and the files read oldest to newest continue the history.

Every node takes a snapshot each 100 entries, so restarts start from a snapshot and apply the
log after it again.

Usage: test_audit_log.py PATH/TO/prez-server"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prez_harness import Client, Cluster, RespError, call, check, wait_until  # noqa: E402

SNAPSHOTS = "snapshot-entries 100\nsnapshot-trailing-entries 10\n"
ESCAPES = {ord("\\"): b"\\", ord('"'): b'"', ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t",
           ord("a"): b"\a", ord("b"): b"\b"}


def parse_args(text):
    """The quoted arguments of one line (bytes, without its newline) -> list of bytes."""
    args, i = [], 0
    while i < len(text):
        check(text[i:i + 1] == b'"', "argument must start with a quote: %r" % text)
        i += 1
        arg = b""
        while text[i:i + 1] != b'"':
            c = text[i]
            if c == ord("\\"):
                nxt = text[i + 1]
                if nxt == ord("x"):
                    arg += bytes([int(text[i + 2:i + 4], 16)])
                    i += 4
                    continue
                check(nxt in ESCAPES, "unknown escape in %r" % text)
                arg += ESCAPES[nxt]
                i += 2
                continue
            check(0x20 <= c < 0x7f, "unescaped byte %d in %r" % (c, text))
            arg += bytes([c])
            i += 1
        i += 1
        args.append(arg)
        if i < len(text):
            check(text[i:i + 1] == b" ", "arguments are separated by one space: %r" % text)
            i += 1
    return args


def read_audit(path):
    """[(index, term, time_ms, [args])] of the command lines of `path`; comments are returned as
    (None, None, None, line)."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path, "rb") as f:
        data = f.read()
    check(data == b"" or data.endswith(b"\n"), "%s ends with a whole line" % path)
    for line in data.split(b"\n")[:-1]:
        if line.startswith(b"#"):
            out.append((None, None, None, line))
            continue
        index, term, time_ms, rest = line.split(b" ", 3)
        out.append((int(index), int(term), int(time_ms), parse_args(rest)))
    return out


def commands_of(records):
    return [r[3] for r in records if r[0] is not None]


class Writer:
    """Sends commands one at a time to the leader and remembers each acknowledged one as the
    lines the audit log must show."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.expected = []  # list of [args as bytes]
        self.counter = 0

    def _call(self, *args):
        for _ in range(100):
            try:
                leader = self.cluster.leader()
                return call(leader.port, *args, timeout=5)
            except RespError as e:
                if not str(e).startswith(("CLUSTERDOWN", "TRYAGAIN")):
                    raise
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("no answer to %r" % (args,))

    def command(self, *args):
        reply = self._call(*args)
        self.expected.append([a if isinstance(a, bytes) else str(a).encode() for a in args])
        return reply

    def transaction(self, *commands):
        leader = self.cluster.leader()
        with Client(leader.port, timeout=5) as c:
            check(c.call("MULTI") == "OK", "MULTI")
            for args in commands:
                check(c.call(*args) == "QUEUED", "%r queued" % (args,))
            replies = c.call("EXEC")
        self.expected.append([b"MULTI"])
        for args in commands:
            self.expected.append([a if isinstance(a, bytes) else str(a).encode() for a in args])
        self.expected.append([b"EXEC"])
        return replies

    def mixed(self, start, count):
        """`count` writes of every kind, numbered from `start`."""
        for i in range(start, start + count):
            kind = i % 6
            if kind == 0:
                self.command("SET", "k%d" % i, bytes(range(256)) + b"%d" % i)
            elif kind == 1:
                self.command("SET", "key with spaces %d" % i, 'a "quoted"\nline\r\tback\\slash')
            elif kind == 2:
                check(self.command("INCR", "counter") == self.counter + 1, "INCR")
                self.counter += 1
            elif kind == 3:
                self.command("SET", "k%d" % i, "caf\u00e9 \x00\x07\x08\x7f")
            elif kind == 4:
                self.command("DEL", "k%d" % (i - 4))
            else:
                self.command("APPEND", "log", "%d," % i)


def check_history(records, expected, started_ms, what):
    """The command lines of `records` equal `expected`, with increasing indexes; a transaction's
    lines share one index; every time stamp is in [started_ms, now]."""
    got = commands_of(records)
    if got != expected:
        for n, (g, e) in enumerate(zip(got, expected)):
            if g != e:
                raise AssertionError("%s: line %d is %r, expected %r" % (what, n, g, e))
        raise AssertionError("%s: %d command lines, expected %d" % (what, len(got), len(expected)))
    now_ms = int(time.time() * 1000) + 1000
    last = 0
    in_transaction = False
    for index, term, time_ms, args in records:
        if index is None:
            continue
        check(term >= 1, "%s: term %d" % (what, term))
        check(started_ms - 1000 <= time_ms <= now_ms, "%s: time %d out of range" % (what, time_ms))
        if in_transaction:
            check(index == last, "%s: a transaction's lines share index %d" % (what, last))
        else:
            check(index > last, "%s: index %d after %d (listed twice?)" % (what, index, last))
        in_transaction = (args == [b"MULTI"]) or (in_transaction and args != [b"EXEC"])
        last = index


def wait_for_lines(path, count, seconds=30):
    ok = wait_until(lambda: len(commands_of(read_audit(path))) >= count, seconds)
    check(ok, "%s: %d command lines, expected %d" % (path, len(commands_of(read_audit(path))),
                                                     count))
    time.sleep(0.3)  # nothing more should come


def main(binary):
    started_ms = int(time.time() * 1000)
    with Cluster(binary, 3, node_timeout_ms=500) as c:
        audited = c.nodes[0]
        path = os.path.join(audited.dir, "audit.log")
        for n in c.nodes:
            n.write_config(SNAPSHOTS + ("audit-log audit.log\n" if n is audited else ""))
        c.start()
        w = Writer(c)

        # 1. a few hundred commands of every kind, and a transaction
        w.mixed(0, 150)
        replies = w.transaction(("SET", "t", "1"), ("INCR", "t"), ("SET", "bin", b"\x00\xff\n\""))
        check(replies == ["OK", 2, "OK"], "EXEC replies %r" % (replies,))
        w.mixed(150, 150)
        wait_for_lines(path, len(w.expected))
        check_history(read_audit(path), w.expected, started_ms, "after the writes")
        print("audit log lists all %d commands" % len(w.expected))

        # 2. restarts: the node applies its log again, the file lists nothing twice
        audited.stop()
        w.mixed(300, 20)
        audited.start()
        wait_for_lines(path, len(w.expected))
        w.mixed(320, 20)
        wait_for_lines(path, len(w.expected))
        check_history(read_audit(path), w.expected, started_ms, "after a restart")
        audited.kill()
        audited.start()
        w.mixed(340, 20)
        wait_for_lines(path, len(w.expected))
        check_history(read_audit(path), w.expected, started_ms, "after a SIGKILL")
        print("no line listed twice after two restarts (%d commands)" % len(w.expected))

        # 3. a snapshot installed from the leader: the jump is a comment, then lines go on
        audited.kill()
        before = len(w.expected)
        w.mixed(360, 400)  # the others take snapshots and compact their logs past the gap
        audited.start()
        w.mixed(760, 20)
        ok = wait_until(lambda: commands_of(read_audit(path))[-20:] == w.expected[-20:], 30)
        check(ok, "the lines after the InstallSnapshot")
        records = read_audit(path)
        jumps = [n for n, r in enumerate(records) if r[0] is None and b"installed" in r[3]]
        check(len(jumps) == 1, "one snapshot comment, got %d" % len(jumps))
        comment = records[jumps[0]][3].decode()
        print("comment: %s" % comment)
        jump_index = int(comment.split(" at index ")[1].split(" ")[0])
        check_history(records[:jumps[0]], w.expected[:before], started_ms, "before the jump")
        after = records[jumps[0] + 1:]
        check(all(r[0] > jump_index for r in after), "lines after the jump are past it")
        check_history(after, w.expected[len(w.expected) - len(commands_of(after)):], started_ms,
                      "after the jump")
        check(len(commands_of(after)) < 420, "the jump skipped entries")

        # 4. rotation
        audited.stop()
        audited.write_config(SNAPSHOTS + "audit-log audit.log\naudit-log-max-bytes 4000\n"
                             "audit-log-keep 3\n")
        audited.start()
        w.mixed(780, 150)

        def rotated():
            return [path + ".%d" % n for n in (3, 2, 1)] + [path]

        def everything():
            return sum((read_audit(p) for p in rotated()), [])

        ok = wait_until(lambda: commands_of(everything())[-20:] == w.expected[-20:], 30)
        check(ok, "the rotated files end with the last commands")
        check(not os.path.exists(path + ".4"), "audit-log-keep 3 keeps 3 rotated files")
        for p in rotated():
            check(os.path.exists(p), "%s exists" % p)
            size = os.path.getsize(p)
            check(0 < size <= 4000, "%s: %d bytes, the limit is 4000" % (p, size))
        records = everything()
        comments = [n for n, r in enumerate(records) if r[0] is None]
        records = records[comments[-1] + 1:] if comments else records
        got = commands_of(records)
        check(len(got) < len(w.expected), "the oldest lines were rotated away")
        check_history(records, w.expected[len(w.expected) - len(got):], started_ms,
                      "rotated files, oldest to newest")
        print("rotated: %s" % [os.path.getsize(p) for p in rotated()])


if __name__ == "__main__":
    main(sys.argv[1])
