#!/usr/bin/env python3
"""Differential test: the same scripted command list against a throwaway redis-server (Debian's
Redis 7) and a single prez node, comparing the replies.

Usage: test_redis_compat.py PATH/TO/prez-server

redis-server must be installed (scripts/install-deps.sh installs Debian's `redis-server`); without
it the test FAILS, it does not skip.

Every reply is parsed into a typed tree (simple string, error, integer, bulk, nil bulk, array, nil
array), so comparing trees is comparing the raw RESP bytes. Commands are compared exactly unless
their entry says otherwise. The exceptions, each one a documented, deliberate difference:

- sorted  KEYS, SMEMBERS, SINTER/SUNION/SDIFF, HKEYS, HVALS: the order of keys, fields and members
          is not specified by Redis (hash-table order) and prez answers in key-hash or sorted order
          (docs/expiry.md "Order of keys, fields and members"): compared as sorted multisets.
- pairs   HGETALL, CONFIG GET with a glob pattern: compared as a sorted list of (field, value)
          pairs (Redis lists parameters in its dict's order, prez in its table's).
- scan    SCAN / HSCAN / SSCAN / ZSCAN: cursors differ (prez's cursor is 52 bits of a key hash,
          see docs/expiry.md). A full iteration is run on each server until cursor 0 and the sets
          of returned elements (pairs for HSCAN and ZSCAN) are compared.
- shape   SPOP / SRANDMEMBER / ZRANDMEMBER / RANDOMKEY (random by definition), CLIENT ID, TIME, HELLO (server
          version and ids differ): only the reply's type and array length are compared, plus, for
          picks, that every picked element exists in the source (checked against the server's own
          state before the pick).
- ttl     TTL, PTTL of keys with a deadline: integers compared with a tolerance (2 s, 1500 ms: the
          two servers run each command one after the other, and on a loaded machine a replicated
          write can take a while); EXPIRETIME/PEXPIRETIME of absolute deadlines must match exactly,
          -1 and -2 too.
- sleep   pauses both servers' clocks together (the expiry checks).

The script runs twice: in RESP2, then on connections switched with HELLO 3, where the replies'
RESP3 types (null `_`, map `%`, set `~`, verbatim `=`) must match Redis's too.

Any other difference is a failure; the test prints every one and the number of commands compared.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prez_harness import Client, encode as harness_encode, free_port, wait_until  # noqa: E402


# --- a raw RESP client whose replies keep the RESP type --------------------------------------------

def encode(args):
    return harness_encode(*args)


class RawClient(Client):
    """The harness client, reading replies as typed trees (so +OK and $2 OK stay different)."""

    def read(self):
        """One reply as a typed tree: ('+', str) ('-', str) (':', int) ('$', bytes|None)
        ('*', list|None); in RESP3 also ('_', None) ('%', [k1, v1, ...]) ('~', list)
        ('=', bytes) (',', str) ('#', str) ('(', str) ('>', list)."""
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b"-", b",", b"#", b"("):
            return (kind.decode(), rest.decode(errors="replace"))
        if kind == b":":
            return (":", int(rest))
        if kind == b"_":
            return ("_", None)
        if kind in (b"$", b"="):
            n = int(rest)
            if n < 0:
                return ("$", None)
            while len(self.buf) < n + 2:
                self._fill()
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return (kind.decode(), data)
        if kind in (b"*", b"~", b"%", b">"):
            n = int(rest)
            if n < 0:
                return ("*", None)
            count = 2 * n if kind == b"%" else n
            return (kind.decode(), [self.read() for _ in range(count)])
        raise ValueError("unexpected reply line %r" % line)

    def call(self, args):
        self.sock.sendall(encode(args))
        return self.read()


def show(reply):
    kind, value = reply
    if kind in ("*", "~", "%"):
        opening = {"*": "[", "~": "set{", "%": "map{"}[kind]
        return "nil-array" if value is None else \
            opening + ", ".join(show(v) for v in value) + ("]" if kind == "*" else "}")
    if kind == "_":
        return "null"
    if kind in ("$", "="):
        return "nil" if value is None else kind + repr(value.decode(errors="replace"))
    if kind == "-":
        return "(error) " + value
    if kind == ":":
        return "(integer) %d" % value
    return "+" + value


# --- the script -----------------------------------------------------------------------------------
# Each entry: (mode, args) or (mode, args, conn) where conn 1 is a second connection to each server.
# args is a string split on spaces, or a list (for arguments with spaces or empty ones).

def E(args, conn=0):
    return ("exact", args, conn)


def SORTED(args):
    return ("sorted", args, 0)


def PAIRS(args):
    return ("pairs", args, 0)


def SHAPE(args, conn=0):
    return ("shape", args, conn)


def TTL(args, tolerance):
    return ("ttl", args, 0, tolerance)


def SCAN(args):
    return ("scan", args, 0)


def PICK(args, source):
    """A random pick from `source` (a set or "keys", the key space): shape + every picked element is
    in the source. The set "sp" is the one SPOP draws from (see run_script)."""
    return ("pick", args, 0, source)


def OWN(args):
    """Compared exactly, after an argument `@key` is replaced by each server's own DUMP of key and
    `@@key` by the other server's (DUMP payloads are each server's own format)."""
    return ("own", args, 0)


def READ(conn):
    """Reads one more reply (a pub/sub message) on connection `conn` of each server, sends
    nothing, and compares them exactly."""
    return ("read", "", conn)


def SLEEP(seconds):
    return ("sleep", seconds, 0)


LONG = "x" * 40
SCRIPT = [
    E("FLUSHALL"),
    # --- connection --------------------------------------------------------------------------
    E("PING"), E("PING hello"), E("PING a b"), E("ECHO hi"), E("ECHO"), E(["ECHO", ""]),
    E("SADD sic1 1 2 3"), E("SADD sic2 2 3 4"), E("SET sicstr x"), E("SINTERCARD 2 sic1 sic2"),
    E("SINTERCARD 2 sic1 sic2 LIMIT 1"), E("SINTERCARD 2 sic1 sic2 LIMIT 0"), E("SINTERCARD 0 a"),
    E("SINTERCARD -1 a"), E("SINTERCARD x a"), E("SINTERCARD 3 sic1 sic2"),
    E("SINTERCARD 2 sic1 sic2 LIMIT -1"), E("SINTERCARD 2 sic1 sic2 LIMIT"),
    E("SINTERCARD 2 sic1 sic2 foo"), E("SINTERCARD 2 sic1 sicstr"), E("SINTERCARD 2 sic1 nokey"),
    E("SINTERCARD 1 sic1"), E("SINTERCARD 2 nokey sicstr"), E("SINTERCARD 1 sic1 LIMIT x"),
    E("SINTERCARD 1"), E("SMISMEMBER sic1"), E("DEL sic1 sic2 sicstr"),
    E("ZADD sortz 3 c 1 a 2 b"), E("SORT sortz ALPHA"), E("SORT sortz BY nosort"),
    E("SORT sortz BY nosort DESC"), E("SORT sortz BY nosort LIMIT 1 1"),
    E("COPY sortz sortz2"), E("ZRANGE sortz2 0 -1 WITHSCORES"), E("DEL sortz sortz2"),
    E("HSET hr a 1 b 2 c 3"), SORTED("HRANDFIELD hr 5"), SHAPE("HRANDFIELD hr 5 WITHVALUES"),
    SHAPE("HRANDFIELD hr"), SHAPE("HRANDFIELD hr 2"), SHAPE("HRANDFIELD hr -5 WITHVALUES"),
    E("HRANDFIELD hr 0"), E("HRANDFIELD nokey"), E("HRANDFIELD nokey 2"), E("HRANDFIELD hr x"),
    E("HRANDFIELD hr 1 foo"), E("HRANDFIELD hr 1 WITHVALUES x"),
    E("HRANDFIELD hr -9223372036854775808"), E("HRANDFIELD hr 9223372036854775807 WITHVALUES"),
    E("HRANDFIELD hr -5000000000000000000 WITHVALUES"), E("SET hrs x"), E("HRANDFIELD hrs"),
    E("HRANDFIELD"), E("DEL hr hrs"),
    E("MEMORY USAGE nokey"), E("MEMORY USAGE nokey SAMPLES 5"), E("MEMORY USAGE k SAMPLES"),
    E("MEMORY USAGE k SAMPLES x"), E("MEMORY USAGE k foo 1"), E("MEMORY"), E("MEMORY USAGE"),
    E("MEMORY bogus"), E("MEMORY USAGE k SAMPLES -1"),
    E("FUNCTION FLUSH"), E("FUNCTION FLUSH ASYNC"), E("FUNCTION FLUSH bogus"),
    E("FUNCTION FLUSH sync extra"), E("FUNCTION LIST"), E("FUNCTION"), E("FUNCTION bogus"),
    E("SELECT 0"), E("SELECT 16"), E("SELECT notanumber"), E("SELECT"),
    SHAPE("CLIENT ID"), E("CLIENT GETNAME"), E("CLIENT SETNAME app1"), E("CLIENT GETNAME"),
    E(["CLIENT", "SETNAME", "has space"]), E("CLIENT NOSUCHSUB"), SHAPE("TIME"), SHAPE("HELLO"),
    E("HELLO 4"), E("HELLO 1"), E("HELLO abc"), E("HELLO 3 BADOPT"), E("HELLO 3 AUTH onlyuser"),
    E("HELLO 3 SETNAME"), SHAPE("CLIENT INFO"), SHAPE("INFO keyspace"),
    E("NOSUCHCOMMAND"), E("NOSUCHCOMMAND a b"), E(["nosuchcommand", "x y"]),
    # --- CONFIG (docs/decisions.md D27): the encoding parameters Redis's own test suites set -----
    E("CONFIG SET hash-max-listpack-entries 512"), E("CONFIG GET hash-max-listpack-entries"),
    E("CONFIG SET hash-max-ziplist-entries 256 set-max-intset-entries 100"),
    E("CONFIG GET hash-max-ziplist-entries"), E("CONFIG GET HASH-MAX-ZIPLIST-ENTRIES"),
    PAIRS("CONFIG GET hash-max-*"), PAIRS("CONFIG GET zset-max-*"),
    E("CONFIG SET stream-node-max-bytes 4kb"), E("CONFIG GET stream-node-max-bytes"),
    E("CONFIG SET hash-max-listpack-value 1K"), E("CONFIG GET hash-max-listpack-value"),
    E("CONFIG SET list-max-listpack-size -1 list-compress-depth 0"),
    E("CONFIG GET list-max-ziplist-size"), E("CONFIG SET lazyfree-lazy-user-del yes"),
    E("CONFIG GET lazyfree-lazy-user-del"), E(["CONFIG", "SET", "save", ""]),
    E("CONFIG SET foo bar"), E("CONFIG SET hash-max-listpack-entries 1 foo bar"),
    E("CONFIG SET hash-max-listpack-entries x"), E("CONFIG SET hash-max-listpack-entries -1"),
    E("CONFIG SET hash-max-listpack-entries 05"), E("CONFIG SET stream-node-max-bytes -1"),
    E("CONFIG SET lazyfree-lazy-user-del maybe"), E("CONFIG SET loglevel debug loglevel notice"),
    E("CONFIG SET hash-max-listpack-entries 1 hash-max-ziplist-entries 2"),
    E("CONFIG GET hash-max-listpack-entries"), E("CONFIG SET timeout -1"),
    E("CONFIG SET appendonly maybe"), E("CONFIG SET appendfsync sometimes"),
    E("CONFIG SET maxclients"), E("CONFIG SET a b c"), E("CONFIG GET"), E("CONFIG"),
    E("CONFIG NOSUCHSUB"), E("CONFIG RESETSTAT"), E("CONFIG RESETSTAT x"), E("CONFIG REWRITE x"),
    E("CONFIG GET nosuchparameter"), E("CONFIG GET stream-node-max-bytes STREAM-NODE-MAX-BYTES"),
    PAIRS("CONFIG GET hash-max-ziplist-entries hash-max-listpack-entries"),
    PAIRS("CONFIG GET hash-max-zip* HASH-MAX-ZIPLIST-ENTRIES"),
    # --- strings -----------------------------------------------------------------------------
    E("SET s1 hello"), E("GET s1"), E("GET nokey"), E("SET"), E("SET s1"), E("GET"),
    E("SET s1 v NX"), E("SET s1 v2 XX"), E("GET s1"), E("SET nx1 v XX"), E("GET nx1"),
    E("SET nx1 v NX"), E("SET s1 v3 GET"), E("SET nokey2 v GET"), E("SET s1 v NX XX"),
    E("SET s1 v EX"), E("SET s1 v EX 0"), E("SET s1 v EX -1"), E("SET s1 v EX abc"),
    E("SET s1 v PX 0"), E("SET s1 v BADOPT"), E("SET s1 v EX 10 PX 100"), E("SET s1 v KEEPTTL EX 5"),
    E("GETSET s1 new"), E("GETSET nokey3 new"), E("GET nokey3"), E("GETDEL nokey3"),
    E("GETDEL nokey3"), E("SETNX s1 x"), E("SETNX sn1 x"), E("GET sn1"),
    E("SETEX se 100 v"), TTL("TTL se", 2), E("SETEX se 0 v"), E("SETEX se -5 v"),
    E("SETEX se abc v"), E("PSETEX pse 100000 v"), TTL("PTTL pse", 1500), E("PSETEX pse 0 v"),
    E("MSET m1 a m2 b m3 c"), E("MGET m1 m2 nokey m3"), E("MSET m1"), E("MSET m1 a m2"),
    E("MSETNX m1 x m4 y"), E("MGET m1 m4"), E("MSETNX m5 x m6 y"), E("MGET m5 m6"),
    E("APPEND ap hello"), E("APPEND ap _world"), E("GET ap"), E("STRLEN ap"), E("STRLEN nokey"),
    E("GETRANGE ap 0 4"), E("GETRANGE ap -5 -1"), E("GETRANGE ap 5 2"), E("GETRANGE ap 0 100"),
    E("GETRANGE nokey 0 -1"), E("GETRANGE ap a b"), E("SETRANGE ap 6 WORLD"), E("GET ap"),
    E("SETRANGE sr 3 abc"), E("GET sr"), E("SETRANGE ap -1 x"), E("SETRANGE sr2 0"),
    E(["SETRANGE", "sr3", "0", ""]), E("EXISTS sr3"),
    # Bitmaps (bit 0 is the high bit of byte 0), ranges in bytes and in bits, edge cases.
    E("SETBIT bm 7 1"), E("SETBIT bm 7 1"), E("SETBIT bm 7 0"), E("SETBIT bm 100 1"),
    E("GET bm"), E("STRLEN bm"), E("GETBIT bm 100"), E("GETBIT bm 99"), E("GETBIT bm 100000"),
    E("GETBIT nokey 3"), E("SETBIT bm -1 1"), E("SETBIT bm 4294967296 1"), E("SETBIT bm x 1"),
    E("SETBIT bm 1 2"), E("SETBIT bm 1 -1"), E("SETBIT bm 1 x"), E("GETBIT bm -1"),
    E("HSET bmh f v"), E("SETBIT bmh 1 1"), E("GETBIT bmh 1"), E("SET bs foobar"), E("BITCOUNT bs"),
    E("BITCOUNT bs 0 0"), E("BITCOUNT bs 1 1"), E("BITCOUNT bs 1 -2"), E("BITCOUNT bs -3 -1"),
    E("BITCOUNT bs -1 -3"), E("BITCOUNT bs 5 30 BIT"), E("BITCOUNT bs 0 -1 BIT"),
    E("BITCOUNT bs 3 9 bit"), E("BITCOUNT bs 1 1 BYTE"), E("BITCOUNT bs 0 0 WORD"),
    E("BITCOUNT bs 0"), E("BITCOUNT bs a b"), E("BITCOUNT nokey"), E("BITCOUNT nokey 0 5"),
    E("BITCOUNT bmh"), E("BITCOUNT bs 100 200"), E("BITCOUNT bs -100 -50"),
    E([b"SET", b"bp", b"\xff\xf0\x00"]), E("BITPOS bp 0"), E("BITPOS bp 1"), E("BITPOS bp 1 1"),
    E("BITPOS bp 0 1 1"), E("BITPOS bp 1 2"), E("BITPOS bp 0 0 -1"), E("BITPOS bp 1 7 15 BIT"),
    E("BITPOS bp 0 7 15 BIT"), E("BITPOS bp 0 0 11 bit"), E("BITPOS bp 1 12 -1 BIT"),
    E("BITPOS bp 2"), E("BITPOS bp x"), E("BITPOS bp 1 a"), E("BITPOS bp 1 0 b"),
    E("BITPOS bp 1 0 1 WORD"), E("BITPOS nokey 0"), E("BITPOS nokey 1"), E("BITPOS bmh 1"),
    E([b"SET", b"ones", b"\xff\xff"]), E("BITPOS ones 0"), E("BITPOS ones 0 0 -1"),
    E("BITPOS ones 0 0"), E("BITPOS bp 1 5 2"), E("BITPOS bp 0 -100 -50"),
    E("SET b1 foobar"), E("SET b2 abcdef"), E("SET b3 xy"), E("BITOP AND dst b1 b2"), E("GET dst"),
    E("BITOP OR dst b1 b3"), E("GET dst"), E("BITOP XOR dst b1 b2 b3"), E("GET dst"),
    E("BITOP NOT dst b3"), E("GET dst"), E("BITOP AND dst b1 nokey"), E("GET dst"),
    E("BITOP NOT dst b1 b2"), E("BITOP NAND dst b1"), E("BITOP AND dst bmh"),
    E("BITOP OR dst nokey nokey2"), E("EXISTS dst"), E("BITOP OR bmh b1"), E("TYPE bmh"), E("GET bmh"),
    E("BITOP and dst2 b1"), E("GET dst2"),
    E("SET n 10"), E("INCR n"), E("DECR n"), E("INCRBY n 5"), E("DECRBY n 3"), E("INCRBY n -20"),
    E("INCR newcounter"), E("DECR newcounter2"), E("INCRBY n abc"), E("INCR s1"),
    E("SET big 9223372036854775807"), E("INCR big"), E("SET small -9223372036854775808"),
    E("DECR small"), E("INCRBY n 9223372036854775808"), E("DECRBY n -9223372036854775808"),
    E("SET f 10.5"), E("INCRBYFLOAT f 0.1"), E("INCRBYFLOAT f -5"), E("INCRBYFLOAT f 5.0e3"),
    E("INCRBYFLOAT f abc"), E("INCRBYFLOAT s1 1"), E("INCRBYFLOAT nf 3"), E(["SET", "spc", " 12"]), E("INCR spc"), E("SET lead0 012"), E("INCR lead0"),
    E("INCRBYFLOAT n 1"), E("GET n"), E("INCRBYFLOAT hugef 1.5e308"), E("INCRBYFLOAT hugef 1.5e308"),
    E("INCRBYFLOAT hugef inf"), E("INCRBYFLOAT hugef 1e400"), E("SET fl 3.0"), E("INCRBYFLOAT fl 0"),
    E("SET fl 1.10"), E("INCRBYFLOAT fl 0.2"), E("INCRBYFLOAT fl 1e-20"),
    E([b"SET", b"bin", b"a\r\nb\x00c \xff"]), E("GET bin"), E("STRLEN bin"), E("APPEND bin \x00"),
    E(["SET", "", "empty-name"]), E(["GET", ""]), E(["APPEND", "emptyval", ""]), E("GET emptyval"),
    E("EXISTS emptyval"),
    E("GETEX s1"), E("GETEX s1 EX 100"), TTL("TTL s1", 2), E("GETEX s1 PERSIST"), E("TTL s1"),
    E("GETEX s1 PX 50000"), TTL("PTTL s1", 1500), E("GETEX nokey EX 10"), E("GETEX s1 EX 0"),
    E("GETEX s1 BADOPT"), E("GETEX s1 EX 10 PX 10"),
    # --- keys --------------------------------------------------------------------------------
    E("FLUSHALL"), E("MSET a 1 b 2 c 3 prefix:1 x prefix:2 y other z"), E("DBSIZE"),
    E("EXISTS a b nokey a"), E("EXISTS"), E("DEL a nokey"), E("DEL a"), E("UNLINK b c"),
    E("TYPE prefix:1"), E("TYPE nokey"), SORTED("KEYS *"), SORTED("KEYS prefix:*"),
    SORTED("KEYS pre?ix:[12]"), SORTED("KEYS nomatch*"), E("KEYS"),
    E("RENAME prefix:1 renamed"), E("GET renamed"), E("EXISTS prefix:1"), E("RENAME nokey x"),
    E("RENAME renamed renamed"), E("RENAMENX renamed other"), E("RENAMENX renamed fresh"),
    E("GET fresh"), E("RENAMENX nokey x"),
    PICK("RANDOMKEY", "keys"), SCAN("SCAN"), SCAN("SCAN MATCH prefix:*"), SCAN("SCAN COUNT 2"),
    SCAN("SCAN TYPE string"), SCAN("SCAN TYPE hash"), E("SCAN abc"), E("SCAN 0 COUNT 0"),
    E("SCAN 0 BADOPT x"), E("SCAN 0 COUNT abc"),
    E("DBSIZE"), E("FLUSHDB"), E("DBSIZE"), E("RANDOMKEY"), E("FLUSHALL BADARG"),
    # --- expiry ------------------------------------------------------------------------------
    E("SET e1 v"), E("TTL e1"), E("PTTL e1"), E("TTL nokey"), E("PTTL nokey"),
    E("EXPIRE e1 100"), TTL("TTL e1", 2), TTL("PTTL e1", 1500), E("PERSIST e1"), E("PERSIST e1"),
    E("TTL e1"), E("PERSIST nokey"), E("EXPIRE nokey 10"), E("EXPIRE e1 abc"), E("EXPIRE e1"),
    E("PEXPIRE e1 100000"), TTL("PTTL e1", 1500), E("EXPIRE e1 100 NX"), E("EXPIRE e1 100 XX"),
    E("EXPIRE e1 10 GT"), E("EXPIRE e1 1000 GT"), E("EXPIRE e1 10 LT"), TTL("TTL e1", 2),
    E("EXPIRE e1 10 NX XX"), E("EXPIRE e1 10 BADFLAG"),
    E("EXPIREAT e1 4102444800"), TTL("EXPIRETIME e1", 0),
    E("PEXPIREAT e1 4102444800000"), TTL("PEXPIRETIME e1", 0), E("EXPIRETIME nokey"),
    E("SET e2 v"), E("EXPIRETIME e2"), E("PEXPIRETIME e2"),
    E("EXPIREAT e2 1"), E("EXISTS e2"), E("SET e2 v"), E("EXPIRE e2 -5"), E("GET e2"),
    E("SET e3 v EX 100"), TTL("TTL e3", 2), E("SET e3 v2 KEEPTTL"), TTL("TTL e3", 2),
    E("SET e3 v3"), E("TTL e3"), E("SET e4 v PX 300"), E("SET e5 v EX 1"),
    E("SET e6 v EXAT 4102444800"), TTL("EXPIRETIME e6", 0), E("SET e7 v PXAT 4102444800123"),
    TTL("PEXPIRETIME e7", 0), E("SET e8 v PXAT 1"), E("GET e8"),
    E("RPUSH el a b"), E("PEXPIRE el 300"), E("HSET eh f v"), E("PEXPIRE eh 300"),
    E("SET e9 v PX 3000"), E("PERSIST e9"), E("SET e10 v PX 5000"), E("RENAME e10 e11"),
    TTL("PTTL e11", 1500), E("EXISTS e10"),
    SLEEP(1.5),
    E("GET e4"), E("GET e5"), E("TTL e4"), E("PTTL e5"), E("EXISTS e4 e5"), E("LLEN el"),
    E("TYPE el"), E("HGET eh f"), E("GET e9"), E("TTL e9"), E("INCR e4"), E("SETNX e5 again"),
    E("GET e5"), SORTED("KEYS e*"),
    # --- hashes ------------------------------------------------------------------------------
    E("FLUSHALL"), E("HSET h f1 v1 f2 v2"), E("HSET h f1 new f3 v3"), E("HSET h f1"), E("HSET h"),
    E("HGET h f1"), E("HGET h nof"), E("HGET nokey f"), E("HMGET h f1 nof f2"), E("HMGET nokey a"),
    E("HSETNX h f1 x"), E("HSETNX h f4 v4"), E("HLEN h"), E("HLEN nokey"), E("HEXISTS h f1"),
    E("HEXISTS h nof"), E("HSTRLEN h f1"), E("HSTRLEN h nof"), E("HDEL h f4 nof"), E("HDEL h nof"),
    SORTED("HKEYS h"), SORTED("HVALS h"), PAIRS("HGETALL h"), E("HGETALL nokey"), E("HKEYS nokey"),
    E("HINCRBY h cnt 5"), E("HINCRBY h cnt -7"), E("HINCRBY h f1 1"), E("HINCRBY h cnt abc"),
    E("HSET h big 9223372036854775807"), E("HINCRBY h big 1"),
    E("HINCRBYFLOAT h fl 1.5"), E("HINCRBYFLOAT h fl 2"), E("HINCRBYFLOAT h f1 1"),
    E("HINCRBYFLOAT h fl abc"), E("HMSET h a 1 b 2"), E("HMSET h a"), SCAN("HSCAN h 0"),
    SCAN("HSCAN h 0 MATCH f*"), E("HSCAN nokey 0"), E("HDEL h f1 f2 f3 cnt big fl a b"),
    E("EXISTS h"), E("HDEL h"),
    # --- lists -------------------------------------------------------------------------------
    E("FLUSHALL"), E("RPUSH l a b c"), E("LPUSH l z y"), E("LRANGE l 0 -1"), E("LLEN l"),
    E("LLEN nokey"), E("LPUSHX l x"), E("RPUSHX l w"), E("LPUSHX nokey x"), E("RPUSHX nokey x"),
    E("EXISTS nokey"), E("LRANGE l 1 3"), E("LRANGE l -3 -1"), E("LRANGE l 5 2"),
    E("LRANGE l 0 100"), E("LRANGE nokey 0 -1"), E("LRANGE l a b"), E("LINDEX l 0"),
    E("LINDEX l -1"), E("LINDEX l 99"), E("LINDEX l x"), E("LSET l 0 first"), E("LSET l 99 x"),
    E("LSET nokey 0 x"), E("LRANGE l 0 -1"),
    E("LPOP l"), E("RPOP l"), E("LPOP l 2"), E("RPOP l 0"), E("LPOP l -1"), E("LPOP nokey"),
    E("LPOP nokey 2"), E("RPOP l 100"), E("EXISTS l"), E("LPOP l 1 2"),
    E("RPUSH r a b a c a d"), E("LREM r 2 a"), E("LRANGE r 0 -1"), E("LREM r -1 a"),
    E("LREM r 0 zz"), E("LRANGE r 0 -1"), E("RPUSH t 1 2 3 4 5 6"), E("LTRIM t 1 -2"),
    E("LRANGE t 0 -1"), E("LTRIM t 5 1"), E("EXISTS t"), E("RPUSH li a c"),
    E("LINSERT li BEFORE c b"), E("LINSERT li AFTER c d"), E("LINSERT li BEFORE zz x"),
    E("LINSERT nokey BEFORE a b"), E("LINSERT li MIDDLE a b"), E("LRANGE li 0 -1"),
    E("RPUSH lp a b c a b c a"), E("LPOS lp a"), E("LPOS lp a RANK 2"), E("LPOS lp a RANK -1"),
    E("LPOS lp a COUNT 0"), E("LPOS lp a COUNT 2"), E("LPOS lp zz"), E("LPOS lp a COUNT 0 MAXLEN 4"),
    E("LPOS lp a RANK 0"), E("LPOS lp a BAD 1"),
    E("RPUSH src 1 2 3"), E("LMOVE src dst LEFT RIGHT"), E("LMOVE src dst RIGHT LEFT"),
    E("LRANGE src 0 -1"), E("LRANGE dst 0 -1"), E("LMOVE src src LEFT RIGHT"),
    E("LMOVE nokey dst LEFT LEFT"), E("LMOVE src dst UP DOWN"), E("RPOPLPUSH dst src"),
    E("RPOPLPUSH nokey src"), E("LRANGE src 0 -1"),
    # --- sets --------------------------------------------------------------------------------
    E("FLUSHALL"), E("SADD s1 a b c d"), E("SADD s1 a e"), E("SADD s1"), E("SCARD s1"),
    E("SCARD nokey"), E("SISMEMBER s1 a"), E("SISMEMBER s1 zz"), E("SMISMEMBER s1 a zz e"),
    E("SMISMEMBER s1"), SORTED("SMEMBERS s1"), E("SMEMBERS nokey"), E("SREM s1 e zz"),
    E("SREM s1 zz"), E("SADD s2 c d x y"), E("SADD s3 d y z"), SORTED("SINTER s1 s2"),
    SORTED("SINTER s1 s2 s3"), E("SINTER s1 nokey"), SORTED("SUNION s1 s2 s3"),
    SORTED("SDIFF s1 s2"), SORTED("SDIFF s1 s2 s3"), SORTED("SDIFF nokey s1"),
    E("SINTERSTORE dest s1 s2"), SORTED("SMEMBERS dest"), E("SUNIONSTORE dest s1 s3"),
    SORTED("SMEMBERS dest"), E("SDIFFSTORE dest s1 s2"), SORTED("SMEMBERS dest"),
    E("SINTERSTORE dest s1 nokey"), E("EXISTS dest"), E("SMOVE s1 s2 a"), E("SMOVE s1 s2 zz"),
    E("SISMEMBER s2 a"), E("SMOVE nokey s2 a"), SORTED("SMEMBERS s1"),
    PICK("SRANDMEMBER s2", "s2"), PICK("SRANDMEMBER s2 3", "s2"), PICK("SRANDMEMBER s2 -7", "s2"),
    E("SRANDMEMBER s2 0"), E("SRANDMEMBER nokey"), E("SRANDMEMBER nokey 3"),
    E("SRANDMEMBER s2 abc"), E("SADD sp a b c d e"), PICK("SPOP sp", "sp"), E("SCARD sp"),
    PICK("SPOP sp 2", "sp"), E("SCARD sp"), PICK("SPOP sp 10", "sp"), E("EXISTS sp"),
    E("SPOP nokey"), E("SPOP nokey 2"), E("SPOP s2 -1"), SCAN("SSCAN s2 0"),
    SCAN("SSCAN s2 0 MATCH [xy]"), E("SSCAN nokey 0"),
    # Large enough to be paged by both servers (prez pages above 128 elements).
    E("SADD bigset " + " ".join("m%d" % i for i in range(600))), SCAN("SSCAN bigset 0 COUNT 7"),
    SCAN("SSCAN bigset 0 MATCH m1*"), E("DEL bigset"),
    E("HSET bighash " + " ".join("f%d v%d" % (i, i) for i in range(400))),
    SCAN("HSCAN bighash 0"), SCAN("HSCAN bighash 0 COUNT 50 MATCH f2*"), E("DEL bighash"),
    E("ZADD bigzset " + " ".join("%d z%d" % (i, i) for i in range(300))),
    SCAN("ZSCAN bigzset 0"), SCAN("ZSCAN bigzset 0 COUNT 20 MATCH z1*"), E("DEL bigzset"),
    # --- sorted sets -------------------------------------------------------------------------
    E("FLUSHALL"), E("ZADD z 1 a 2 b 3 c"), E("ZADD z 1.5 a 2 b"), E("ZADD z CH 1 a 2 b 9 d"),
    E("ZADD z"), E("ZADD z 1"), E("ZADD z 1 a 2"), E("ZADD z abc a"), E("ZADD z NX XX 1 a"),
    E("ZADD z GT LT 1 a"), E("ZADD z NX GT 1 a"), E("ZADD z INCR 1 a 2 b"), E("ZADD z FOO 1 a"),
    E("ZADD z NX 5 a 5 e"), E("ZADD z XX 7 a 7 f"), E("ZADD z XX CH 7 a 7 f"),
    E("ZADD z GT CH 1 a 10 b"), E("ZADD z LT CH 1 a 10 c"), E("ZADD z INCR 2.5 a"),
    E("ZADD z XX INCR 1 nope"), E("ZADD z NX INCR 1 a"), E("ZADD z GT INCR -1 a"),
    E("ZADD nokey XX 1 a"), E("EXISTS nokey"), E("ZADD z 1.1 g 0.1 h -0 i 1e3 j"),
    E("ZRANGE z 0 -1 WITHSCORES"), E("ZCARD z"), E("ZCARD nokey"), E("ZSCORE z a"),
    E("ZSCORE z g"), E("ZSCORE z nope"), E("ZSCORE nokey a"), E("ZMSCORE z a nope g"),
    E("ZMSCORE nokey a b"), E("ZINCRBY z 1 a"), E("ZINCRBY z 1 new"), E("ZINCRBY z abc a"),
    E("ZINCRBY z 0.1 h"), E("ZADD inf 1 x inf a -inf b"), E("ZINCRBY inf -inf a"),
    E("ZADD inf INCR -inf a"), E("ZADD inf INCR inf b"), E("ZSCORE inf a"),
    E("ZRANGE inf 0 -1 WITHSCORES"), E("ZADD inf nan a"), E("ZADD inf 1e400 a"),
    E("ZADD inf 0x10 hex"), E("ZSCORE inf hex"), E(["ZADD", "inf", " 1", "sp"]),
    E("ZRANK z a"), E("ZRANK z nope"), E("ZRANK nokey a"), E("ZREVRANK z a"),
    E("ZREVRANK z b"), E("ZREM z a nope"), E("ZREM nokey a"), E("ZREM z"),
    E("ZCOUNT z -inf +inf"), E("ZCOUNT z (1 3"), E("ZCOUNT z 1 (3"), E("ZCOUNT z 3 1"),
    E("ZCOUNT z a b"), E("ZCOUNT nokey 0 1"), E("ZCOUNT z ( 1"), E(["ZCOUNT", "z", "", "9"]),
    # ranges by rank, score, lex; REV; LIMIT; WITHSCORES
    E("ZRANGE z 0 -1"), E("ZRANGE z 1 2 WITHSCORES"), E("ZRANGE z -2 -1"), E("ZRANGE z 5 1"),
    E("ZRANGE z 0 100"), E("ZRANGE z -100 0"), E("ZRANGE z 0 -1 REV"),
    E("ZRANGE z 0 1 REV WITHSCORES"), E("ZRANGE z a b"), E("ZRANGE z 0 1 LIMIT 0 1"),
    E("ZRANGE z 0 1 LIMIT 0 -1"), E("ZRANGE z 0 1 BYSCORE BYLEX"), E("ZRANGE z 0 1 REV REV"),
    E("ZRANGE z 0 1 LIMIT 0"), E("ZRANGE z 0 1 FOO"), E("ZRANGE nokey 0 -1"),
    E("ZRANGE z (1 3 BYSCORE"), E("ZRANGE z 3 (1 BYSCORE REV WITHSCORES"),
    E("ZRANGE z -inf +inf BYSCORE LIMIT 1 2"), E("ZRANGE z +inf -inf BYSCORE REV LIMIT 1 2"),
    E("ZRANGE z -inf +inf BYSCORE LIMIT -1 2"), E("ZRANGE z -inf +inf BYSCORE LIMIT 2 -1"),
    E("ZRANGE z -inf +inf BYSCORE LIMIT 0 0"), E("ZRANGE z -inf +inf BYSCORE LIMIT 99 1"),
    E("ZRANGE z -inf +inf BYSCORE LIMIT a 1"), E("ZRANGE z x y BYSCORE"),
    E("ZRANGE z [a [c BYLEX WITHSCORES"), E("ZRANGEBYSCORE z -inf +inf WITHSCORES"),
    E("ZRANGEBYSCORE z 1 3 LIMIT 1 1"), E("ZRANGEBYSCORE z (1 +inf"), E("ZRANGEBYSCORE z 1 3 REV"),
    E("ZRANGEBYSCORE z 1 3 BYSCORE"), E("ZRANGEBYSCORE z a 3"), E("ZRANGEBYSCORE z 0x1 3"),
    E("ZREVRANGEBYSCORE z +inf -inf WITHSCORES"), E("ZREVRANGEBYSCORE z 3 (1"),
    E("ZREVRANGEBYSCORE z +inf -inf LIMIT 1 2"), E("ZREVRANGE z 0 -1 WITHSCORES"),
    E("ZREVRANGE z 0 0"), E("ZREVRANGE z 0 1 LIMIT 0 1"), E("ZREVRANGE z 0 1 BYSCORE"),
    E("ZADD lex 0 a 0 b 0 c 0 d 0 e 0 ee 0 f"), E("ZRANGEBYLEX lex - +"),
    E("ZRANGEBYLEX lex [b (e"), E("ZRANGEBYLEX lex (b [e"), E("ZRANGEBYLEX lex [e +"),
    E("ZRANGEBYLEX lex - [c LIMIT 1 1"), E("ZRANGEBYLEX lex + -"), E("ZRANGEBYLEX lex a c"),
    E("ZRANGEBYLEX lex [a c"), E(["ZRANGEBYLEX", "lex", "", "+"]), E("ZRANGEBYLEX lex +x +"),
    E("ZRANGEBYLEX lex - + WITHSCORES"), E("ZREVRANGEBYLEX lex + -"),
    E("ZREVRANGEBYLEX lex (e [b"), E("ZREVRANGEBYLEX lex + - LIMIT 2 3"),
    E("ZRANGE lex [b [d BYLEX"), E("ZRANGE lex [d [b BYLEX REV"),
    E("ZRANGE lex - + BYLEX LIMIT 1 2"), E("ZLEXCOUNT lex - +"), E("ZLEXCOUNT lex [b (e"),
    E("ZLEXCOUNT lex x y"), E("ZLEXCOUNT nokey - +"), E("ZRANGEBYLEX nokey - +"),
    # stores and removals
    E("ZRANGESTORE dst z 0 1"), E("ZRANGE dst 0 -1 WITHSCORES"),
    E("ZRANGESTORE dst z 1 3 BYSCORE LIMIT 0 2"), E("ZRANGE dst 0 -1 WITHSCORES"),
    E("ZRANGESTORE dst lex [e + BYLEX"), E("ZRANGE dst 0 -1"), E("ZRANGESTORE dst z 0 -1 WITHSCORES"),
    E("ZRANGESTORE dst nokey 0 -1"), E("EXISTS dst"), E("ZRANGESTORE dst z 5 1"), E("EXISTS dst"),
    E("ZRANGESTORE z z 0 1"), E("ZRANGE z 0 -1 WITHSCORES"),
    E("ZADD rm 1 a 2 b 3 c 4 d 5 e 6 f"), E("ZREMRANGEBYRANK rm 0 1"), E("ZREMRANGEBYRANK rm -1 -1"),
    E("ZREMRANGEBYRANK rm 5 9"), E("ZREMRANGEBYRANK rm a 1"), E("ZREMRANGEBYSCORE rm (3 4"),
    E("ZREMRANGEBYSCORE rm x 1"), E("ZRANGE rm 0 -1 WITHSCORES"), E("ZREMRANGEBYSCORE rm -inf +inf"),
    E("EXISTS rm"), E("ZREMRANGEBYRANK nokey 0 -1"), E("ZREMRANGEBYLEX lex [a [b"),
    E("ZREMRANGEBYLEX lex x y"), E("ZRANGE lex 0 -1"), E("ZREMRANGEBYLEX nokey - +"),
    # pops
    E("ZADD pop 1 a 2 b 3 c 4 d 5 e"), E("ZPOPMIN pop"), E("ZPOPMAX pop"), E("ZPOPMIN pop 2"),
    E("ZPOPMAX pop 0"), E("ZPOPMIN pop -1"), E("ZPOPMIN pop abc"), E("ZPOPMIN pop 1 2"),
    E("ZPOPMAX pop 10"), E("EXISTS pop"), E("ZPOPMIN nokey"), E("ZPOPMIN nokey 2"),
    E("ZADD pop 1 a 2 b 3 c"), E("ZMPOP 2 nokey pop MIN"), E("ZMPOP 1 pop MAX COUNT 5"),
    E("ZMPOP 1 pop MIN"), E("ZMPOP 0 pop MIN"), E("ZMPOP abc pop MIN"), E("ZMPOP 5 pop MIN"),
    E("ZMPOP 1 pop FOO"), E("ZMPOP 1 pop MIN COUNT 0"), E("ZMPOP 1 pop MIN COUNT"),
    E("ZMPOP 1 pop MIN COUNT 1 COUNT 1"),
    # blocking pops that find data, or bad arguments (they never block here)
    E("ZADD bz 1 a 2 b 3 c"), E("BZPOPMIN nokey bz 0"), E("BZPOPMAX bz 1.5"),
    E("BZMPOP 0 2 nokey bz MIN COUNT 5"), E("BZPOPMIN bz -1"), E("BZPOPMIN bz abc"),
    E("BZMPOP 0 0 bz MIN"), E("BZMPOP 0 1 bz LEFT"), E("BZMPOP -1 1 bz MIN"),
    E("BZMPOP 0 5 bz MIN"), E("BZMPOP 0 1 bz MIN COUNT 0"), E("BZMPOP 0 1 bz MIN COUNT 1 x"),
    E("RPUSH bl a b c d e f g h i j"), E("BLPOP nokey bl 0"), E("BRPOP bl 0.01"), E("BLPOP bl -1"),
    E("BLPOP bl 0x10"), E("BLPOP bl 1e400"), E("BLMPOP 0 2 nokey bl RIGHT COUNT 2"),
    E("BLMPOP 0 1 bl LEFT"), E("BLMPOP 0 0 bl LEFT"), E("BLMPOP 0 1 bl UP"),
    E("BLMPOP 0 1 bl LEFT COUNT -1"), E("DEL bl"), E("RPUSH bl a b"), E("BLMOVE bl bd LEFT RIGHT 0"),
    E("BLMOVE bl bd UP RIGHT 0"), E("BLMOVE bl bd LEFT RIGHT -1"), E("BRPOPLPUSH bl bd 0"),
    E("LRANGE bd 0 -1"), E("BRPOPLPUSH bl bd abc"), E("SET bs x"), E("BLPOP bs 0"),
    E("BLPOP nokey bs 0"), E("BZPOPMIN bs 0"), E("BLMOVE bs bd LEFT LEFT 0"),
    E("BLMOVE bd bs LEFT LEFT 0"), E("BLMPOP 0 1 bs LEFT"), E("BZMPOP 0 1 bs MAX"),
    E("BLPOP bl"), E("BLMOVE a b LEFT"), E("BZMPOP 0 1 bz"),
    E("RPUSH lm a b c"), E("LMPOP 2 nokey lm LEFT"), E("LMPOP 1 lm RIGHT COUNT 5"),
    E("LMPOP 1 lm LEFT"), E("LMPOP 0 lm LEFT"), E("LMPOP 1 lm UP"), E("LMPOP 1 bs LEFT"),
    E("LMPOP 1 lm LEFT COUNT 0"), E("LMPOP 3 lm LEFT"),
    # BITFIELD / BITFIELD_RO
    E("BITFIELD bf GET u8 0"), E("EXISTS bf"), E("BITFIELD bf SET i8 0 -100 GET u8 0 GET i4 4"),
    E("BITFIELD bf INCRBY i8 0 -100"), E("BITFIELD bf OVERFLOW SAT INCRBY i8 0 -100"),
    E("BITFIELD bf OVERFLOW FAIL INCRBY i8 0 -1 GET i8 0"), E("BITFIELD bf OVERFLOW WRAP INCRBY i8 0 -1"),
    E("BITFIELD bf SET u2 #3 7 GET u2 #3 GET u8 0"), E("BITFIELD bf INCRBY u63 100 9223372036854775807"),
    E("BITFIELD bf INCRBY u63 100 1"), E("BITFIELD bf OVERFLOW SAT INCRBY u63 100 10"),
    E("BITFIELD bf SET i64 200 -9223372036854775808 INCRBY i64 200 -1"),
    E("BITFIELD bf OVERFLOW SAT SET u4 8 -1 GET u4 8 OVERFLOW WRAP SET u4 8 -1"),
    E("BITFIELD bf OVERFLOW FAIL SET u4 8 16 SET i4 8 8 SET i4 8 7"), E("STRLEN bf"), E("GET bf"),
    E("BITFIELD bf OVERFLOW FAIL SET u8 1000 300"), E("STRLEN bf"),
    E("BITFIELD bf GET u64 0"), E("BITFIELD bf GET i65 0"), E("BITFIELD bf GET i0 0"),
    E("BITFIELD bf GET x8 0"), E("BITFIELD bf GET I8 0"), E("BITFIELD bf GET u8 -1"),
    E("BITFIELD bf GET u8 #-1"), E("BITFIELD bf GET u8 abc"), E("BITFIELD bf GET u8 4294967296"),
    E("BITFIELD bf SET u8 0 abc"), E("BITFIELD bf OVERFLOW FOO"), E("BITFIELD bf FOO u8 0"),
    E("BITFIELD bf GET u8"), E("BITFIELD bf"), E("BITFIELD"), E("BITFIELD bf SET u8 0"),
    E("BITFIELD_RO bf GET u8 0 GET i16 #1"), E("BITFIELD_RO bf SET u8 0 1"),
    E("BITFIELD_RO nokey GET u8 0"), E("RPUSH bfl a"), E("BITFIELD bfl GET u8 0"),
    E("BITFIELD_RO bfl GET u8 0"), E("BITFIELD bfl SET u8 0 1"), E("BITFIELD_RO bf"),
    # pub/sub: one connection subscribes; the other publishes and inspects
    E("PUBLISH nobody hi"), E("PUBSUB NUMSUB"), E("PUBSUB NUMSUB a b"), E("PUBSUB NUMPAT"),
    E("PUBSUB CHANNELS"), E("PUBSUB CHANNELS a b"), E("PUBSUB NUMPAT x"), E("PUBSUB FOO"),
    E("PUBSUB"), E("PUBSUB SHARDCHANNELS"), E("PUBSUB SHARDNUMSUB a"), E("SUBSCRIBE"),
    E("PUBLISH a"), E("UNSUBSCRIBE"), E("PUNSUBSCRIBE"), E("UNSUBSCRIBE nosuch"),
    E("SUBSCRIBE ch1", conn=1), E("PSUBSCRIBE c*", conn=1), E("SUBSCRIBE ch1", conn=1),
    E("GET x", conn=1), E("PING", conn=1), E("PING hi", conn=1), E("PUBSUB NUMSUB ch1 ch2"),
    E("PUBSUB NUMPAT"), E("PUBSUB CHANNELS"), E("PUBSUB CHANNELS x*"), E("PUBLISH ch1 hello"),
    E("PUBLISH cx other"), READ(1), READ(1), READ(1), E("PING", conn=1),
    E("UNSUBSCRIBE ch1", conn=1), E("PUNSUBSCRIBE", conn=1), E("GET x", conn=1),
    E("PUBSUB NUMSUB ch1"),
    E("CLIENT UNBLOCK x"), E("CLIENT UNBLOCK 1 FOO"), E("CLIENT UNBLOCK 999999"),
    # inside MULTI a blocking pop answers at once
    E("MULTI"), E("BLPOP nokey 0"), E("BRPOPLPUSH nokey x 0"), E("BLMOVE nokey x LEFT LEFT 0"),
    E("BZPOPMIN nokey 0"), E("BLMPOP 0 1 nokey LEFT"), E("BZMPOP 0 1 nokey MIN"),
    E("RPUSH ml x"), E("BLPOP ml 0"), E("EXEC"),
    # random members (a read)
    E("ZADD rnd 1 a 2 b 3 c 4 d"), PICK("ZRANDMEMBER rnd", "zset:rnd"), PICK("ZRANDMEMBER rnd 2", "zset:rnd"),
    PICK("ZRANDMEMBER rnd -6", "zset:rnd"), E("ZRANDMEMBER rnd 10"), E("ZRANDMEMBER rnd 10 WITHSCORES"),
    SHAPE("ZRANDMEMBER rnd 2 WITHSCORES"), SHAPE("ZRANDMEMBER rnd -3 WITHSCORES"),
    E("ZRANDMEMBER rnd 0"), E("ZRANDMEMBER nokey"), E("ZRANDMEMBER nokey 2"),
    E("ZRANDMEMBER rnd abc"), E("ZRANDMEMBER rnd 1 FOO"), E("ZRANDMEMBER rnd 1 WITHSCORES x"),
    E("ZRANDMEMBER rnd -9223372036854775808"), E("ZRANDMEMBER rnd 9223372036854775807 WITHSCORES"),
    # algebra, with a plain set as an input (its members score 1)
    E("FLUSHALL"), E("ZADD a 1 x 2 y 3 z"), E("ZADD b 10 y 20 z 30 w"), E("SADD s z w v"),
    E("ZUNION 2 a b"), E("ZUNION 2 a b WITHSCORES"), E("ZUNION 2 a b WEIGHTS 2 0.5 WITHSCORES"),
    E("ZUNION 2 a b AGGREGATE MIN WITHSCORES"), E("ZUNION 2 a b AGGREGATE MAX WITHSCORES"),
    E("ZUNION 3 a b s WITHSCORES"), E("ZUNION 2 a nokey WITHSCORES"),
    E("ZINTER 2 a b WITHSCORES"), E("ZINTER 3 a b s WITHSCORES"), E("ZINTER 2 a nokey"),
    E("ZINTER 2 a b WEIGHTS 1 -1 AGGREGATE SUM WITHSCORES"), E("ZDIFF 2 a b WITHSCORES"),
    E("ZDIFF 2 b s"), E("ZDIFF 1 nokey"), E("ZDIFF 2 a b WEIGHTS 1 1"),
    E("ZDIFF 2 a b AGGREGATE MIN"), E("ZUNION 0 a"), E("ZUNION -1 a"), E("ZUNION x a"),
    E("ZUNION 3 a b"), E("ZUNION 2 a b WEIGHTS 1"), E("ZUNION 2 a b WEIGHTS 1 x"),
    E("ZUNION 2 a b AGGREGATE AVG"), E("ZUNION 2 a b FOO"), E("ZUNIONSTORE out 2 a b"),
    E("ZRANGE out 0 -1 WITHSCORES"), E("ZINTERSTORE out 2 a b WEIGHTS 0 1 AGGREGATE MAX"),
    E("ZRANGE out 0 -1 WITHSCORES"), E("ZDIFFSTORE out 2 a b"), E("ZRANGE out 0 -1 WITHSCORES"),
    E("ZUNIONSTORE out 2 a b WITHSCORES"), E("ZINTERSTORE out 2 a nokey"), E("EXISTS out"),
    E("ZUNIONSTORE out 0 a"), E("ZDIFFSTORE out 1 nokey"), E("ZUNIONSTORE a 2 a b"),
    E("ZRANGE a 0 -1 WITHSCORES"), E("ZADD i1 inf x 1 y"), E("ZADD i2 -inf x 1 y"),
    E("ZUNION 2 i1 i2 WITHSCORES"), E("ZUNION 2 i1 i2 WEIGHTS 0 1 WITHSCORES"),
    E("ZINTERCARD 2 a b"), E("ZINTERCARD 2 a b LIMIT 1"), E("ZINTERCARD 2 a b LIMIT 0"),
    E("ZINTERCARD 2 a b LIMIT -1"), E("ZINTERCARD 0 a"), E("ZINTERCARD x a"),
    E("ZINTERCARD 3 a b"), E("ZINTERCARD 1 a WITHSCORES"), E("ZINTERCARD 2 a s"),
    SCAN("ZSCAN a 0"), SCAN("ZSCAN a 0 MATCH [xy]"), E("ZSCAN nokey 0"), E("ZSCAN a x"),
    E("TYPE a"), E("EXISTS a"), E("RENAME a ra"), E("TYPE ra"),
    E("ZRANGE ra 0 -1 WITHSCORES"), E("DEL ra"), E("EXISTS ra"), E("UNLINK b"),
    SCAN("SCAN TYPE zset"),
    # --- WRONGTYPE everywhere ----------------------------------------------------------------
    E("FLUSHALL"), E("SET str v"), E("RPUSH lst a"), E("HSET hsh f v"), E("SADD st m"),
    E("GET lst"), E("APPEND hsh x"), E("INCR st"), E("STRLEN lst"), E("GETRANGE st 0 1"),
    E("SETRANGE lst 0 x"), E("GETSET hsh x"), E("GETDEL lst"), E("GETEX st"), E("MGET str lst"),
    E("HGET str f"), E("HSET lst f v"), E("HGETALL st"), E("HLEN str"), E("HINCRBY str f 1"),
    E("LPUSH str a"), E("LRANGE hsh 0 -1"), E("LLEN st"), E("LPOP str"), E("RPUSHX hsh x"),
    E("LMOVE str lst LEFT LEFT"), E("LMOVE lst str LEFT LEFT"), E("LRANGE lst 0 -1"),
    E("SADD str a"), E("SMEMBERS lst"), E("SCARD hsh"), E("SINTER st str"),
    E("SUNIONSTORE d st lst"), E("SMOVE st lst m"), E("SISMEMBER str a"), E("SPOP lst"),
    E("SET lst overwritten"), E("GET lst"), E("TYPE hsh"), E("TYPE st"), E("RENAME hsh str"),
    E("TYPE str"), E("ZADD zs 1 m"), E("ZADD str 1 a"), E("ZSCORE st m"), E("ZRANGE lst 0 -1"),
    E("ZCARD str"), E("ZPOPMIN st"), E("ZUNION 2 zs str"), E("ZUNIONSTORE d 2 zs lst"),
    E("ZMPOP 2 nokey str MIN"), E("ZPOPMIN str 0"), E("ZPOPMAX lst 0"), E("ZRANGESTORE d str 0 -1"), E("ZINCRBY lst 1 a"),
    E("ZRANDMEMBER str"), E("ZSCAN str 0"), E("GET zs"), E("SADD zs a"), E("HSET zs f v"),
    E("LPUSH zs a"), E("SMEMBERS zs"), E("INCR zs"), E("TYPE zs"), E("SET zs now-a-string"),
    E("TYPE zs"),
    # --- arity errors ------------------------------------------------------------------------
    E("GETSET a"), E("MGET"), E("INCR"), E("INCRBY a"), E("DEL"), E("TTL"), E("EXPIRE a"),
    E("HGET h"), E("HMGET h"), E("LPUSH l"), E("LRANGE l 0"), E("LINDEX l"), E("LSET l 0"),
    E("SADD"), E("SMOVE a b"), E("SINTER"), E("RENAME a"), E("DBSIZE x"), E("TYPE"),
    E("APPEND a"), E("HINCRBYFLOAT h f"), E("LINSERT l BEFORE a"), E("LPOS l"),
    E("ZADD z 1"), E("ZCARD"), E("ZSCORE z"), E("ZRANGE z 0"), E("ZRANGESTORE d z 0"),
    E("ZUNIONSTORE d 1"), E("ZMPOP 1 z"), E("ZREMRANGEBYRANK z 0"), E("ZINCRBY z 1"),
    E("ZPOPMIN"), E("ZINTERCARD 1"), E("ZSCAN z"), E("ZRANK z"), E("ZMSCORE z"),
    # --- transactions ------------------------------------------------------------------------
    E("FLUSHALL"), E("MULTI"), E("SET tx 1"), E("INCR tx"), E("GET tx"), E("RPUSH txl a b"),
    E("EXEC"), E("EXEC"), E("DISCARD"), E("MULTI"), E("MULTI"), E("SET tx 9"), E("DISCARD"),
    E("GET tx"), E("MULTI"), E("SET tx"), E("INCR tx"), E("EXEC"), E("GET tx"),
    E("MULTI"), E("NOSUCHCMD"), E("EXEC"), E("MULTI"), E("SET tx notint"), E("INCR tx"),
    E("LPUSH tx a"), E("GET tx"), E("EXEC"),
    # PING and ECHO inside MULTI are queued and answered in order within the EXEC reply.
    E("MULTI"), E("PING"), E("SET tx p"), E("ECHO hello"), E("PING again"), E("GET tx"),
    E("EXEC"), E("MULTI"), E("PING a b"), E("EXEC"),
    E("MULTI"), E("MSET a"), E("SET tx v BOGUS"), E("LPOP l 1 2"), E("SET tx ok"), E("EXEC"),
    E("GET tx"), E("MULTI"), E("SET"), E("EXEC"),
    # WATCH: a change by another connection aborts the transaction (nil array).
    E("SET w 1"), E("WATCH w"), E("SET w 2", conn=1), E("MULTI"), E("SET w mine"), E("EXEC"),
    E("GET w"), E("WATCH w"), E("MULTI"), E("INCR w"), E("EXEC"), E("GET w"),
    E("WATCH w nokey"), E("UNWATCH"), E("SET w 10", conn=1), E("MULTI"), E("INCR w"), E("EXEC"),
    E("WATCH nokey"), E("SET nokey x", conn=1), E("MULTI"), E("GET w"), E("EXEC"),
    # commands Redis never runs inside MULTI
    E("MULTI"), E("SET nm 1"), E("SAVE"), E("EXEC"), E("MULTI"), E("SHUTDOWN NOSAVE"), E("EXEC"),
    E("MULTI"), E("SAVE x"), E("EXEC"), E("MULTI"), E("SYNC"), E("EXEC"), E("GET nm"),
    # FLUSHALL/FLUSHDB touch the watched keys that existed, not the absent ones
    E("SET fx 30"), E("WATCH fx"), E("FLUSHALL"), E("MULTI"), E("PING"), E("EXEC"),
    E("DEL fx"), E("WATCH fx"), E("FLUSHALL"), E("MULTI"), E("PING"), E("EXEC"),
    E("WATCH fx"), E("FLUSHDB", conn=1), E("MULTI"), E("PING"), E("EXEC"),
    E("WATCH fy"), E("SET fy 1", conn=1), E("FLUSHALL", conn=1), E("MULTI"), E("PING"),
    E("EXEC"),
    E("WATCH w"), E("MULTI"), E("WATCH w"), E("DISCARD"), E("UNWATCH"), E("WATCH"),
    E("SET ew v PX 200"), E("WATCH ew"), SLEEP(0.5), E("MULTI"), E("GET ew"), E("EXEC"),
    # --- TOUCH, COPY, OBJECT, LCS (kv_object.cpp, kv_lcs.cpp) ------------------------------
    E("FLUSHALL"), E("SET oa 1"), E("RPUSH ol x y"), E("TOUCH oa ol nokey oa"), E("TOUCH"),
    E("COPY oa ob"), E("COPY oa ob"), E("COPY oa ob REPLACE"), E("COPY oa ob db 0"),
    E("COPY oa ob DB x"), E("COPY oa ob DB -1"), E("COPY oa ob DB 16"),
    E("COPY oa ob DB 0 REPLACE extra"), E("COPY oa ob bogus"), E("COPY oa oa"),
    E("COPY nokey oz"), E("COPY oa"), E("SET oex 1 EX 100"), E("COPY oex oex2"),
    TTL("TTL oex2", 2), E("COPY ol ol2"), E("RPUSH ol2 z"), E("LLEN ol"), E("LRANGE ol2 0 -1"),
    E("OBJECT ENCODING oa"), E("OBJECT IDLETIME oa"), E("OBJECT encoding nokey"),
    E("OBJECT ENCODING ol"), E("OBJECT FREQ oa"), E("OBJECT FREQ nokey"),
    E("OBJECT IDLETIME nokey"), E("OBJECT REFCOUNT nokey"), E("OBJECT REFCOUNT ol"), E("OBJECT"),
    E("OBJECT ENCODING"), E("OBJECT encoding oa ob"), E("OBJECT bogus oa"), E("OBJECT HELP"),
    E("SET os abcdefghijabcdefghijabcdefghijabcdefghijabcd"), E("OBJECT ENCODING os"),
    E("SET os abcdefghijabcdefghijabcdefghijabcdefghijabcde"), E("OBJECT ENCODING os"),
    E("SET on -9223372036854775808"), E("OBJECT ENCODING on"), E("SET on 012"),
    E("OBJECT ENCODING on"), E("OBJECT REFCOUNT on"), E("HSET oh f v"), E("SADD ost 1 2"),
    E("SADD ost2 a"), E("OBJECT ENCODING oh"), E("OBJECT ENCODING ost"),
    E("OBJECT ENCODING ost2"),
    E("SET k1 ohmytext"), E("SET k2 mynewtext"), E("LCS k1 k2"), E("LCS k1 k2 LEN"),
    E("LCS k1 k2 IDX"), E("LCS k1 k2 IDX MINMATCHLEN 4"),
    E("LCS k1 k2 IDX MINMATCHLEN 4 WITHMATCHLEN"), E("LCS k1 k2 idx withmatchlen"),
    E("LCS k1 k2 LEN IDX"), E("LCS k1 k2 MINMATCHLEN"), E("LCS k1 k2 MINMATCHLEN x"),
    E("LCS k1 k2 MINMATCHLEN -3 IDX"), E("LCS k1 nokey"), E("LCS k1 nokey IDX"),
    E("LCS k1 ol"), E("LCS k1 ol bogus"), E("LCS k1 k2 bogus"), E("LCS k1"),
    E("SET k3 abcabcabc"), E("SET k4 cbacbacba"), E("LCS k3 k4"), E("LCS k3 k4 IDX WITHMATCHLEN"),
    # --- DUMP / RESTORE (kv_dump.cpp): payloads differ (prez's own format), so a RESTORE gets
    # each server's own DUMP of a key (OWN, @key) or the other server's (@@key) -----------------
    E("SET ds hello"), SHAPE("DUMP ds"), E("DUMP nokey"), E("DUMP"), E("DUMP ds extra"),
    E("RESTORE dr"), E("RESTORE dr 0"), OWN("RESTORE ds 0 @ds"), OWN("RESTORE ds -1 @ds"),
    OWN("RESTORE dr 0 @ds"), E("GET dr"), E("PTTL dr"), OWN("RESTORE dr 0 @ds REPLACE"),
    OWN("RESTORE dr2 100000 @ds"), TTL("PTTL dr2", 1500), OWN("RESTORE dr3 1 @ds ABSTTL"),
    E("EXISTS dr3"), OWN("RESTORE dr 1 @ds ABSTTL REPLACE"), E("EXISTS dr"),
    OWN("RESTORE dr4 9223372036854775807 @ds"), E("EXISTS dr4"),
    OWN("RESTORE dr5 9223372036854775807 @ds ABSTTL"), E("PEXPIRETIME dr5"),
    OWN("RESTORE dr6 4102444800000 @ds absttl"), E("PEXPIRETIME dr6"),
    OWN("RESTORE dr7 0 @ds IDLETIME 10"), OWN("RESTORE dr8 0 @ds FREQ 10 REPLACE"),
    OWN("RESTORE dr8 0 @ds idletime 1 idletime 2 REPLACE"), E("GET dr8"),
    E("RPUSH drl a b c"), OWN("RESTORE ds 0 @drl REPLACE"), E("LRANGE ds 0 -1"), E("TYPE ds"),
    E("HSET drh f v g w"), OWN("RESTORE drh2 0 @drh"), PAIRS("HGETALL drh2"),
    E("SADD drs x y z"), OWN("RESTORE drs2 0 @drs"), SORTED("SMEMBERS drs2"),
    E("ZADD drz 1 a 1 b inf c -inf d 2.5 e"), OWN("RESTORE drz2 0 @drz"),
    E("ZRANGE drz2 0 -1 WITHSCORES"), E("ZRANK drz2 e"), OWN("RESTORE drz3 0 @@drz"),
    OWN("RESTORE drz3 0 @@drz REPLACE"), E("EXISTS drz3"),
    E("RESTORE ds 0 x"), E("RESTORE ds -1 x"), E("RESTORE dr9 0 x"), E("RESTORE dr9 -1 x"),
    E("RESTORE dr9 abc x"), E(["RESTORE", "dr9", "0", ""]), E("RESTORE dr9 0 x REPLACE"),
    E("RESTORE dr9 0 x bogus"), E("RESTORE ds 0 x REPLACE bogus"), E("RESTORE dr9 0 x IDLETIME"),
    E("RESTORE dr9 0 x IDLETIME -1"), E("RESTORE dr9 0 x IDLETIME x"),
    E("RESTORE dr9 0 x FREQ 256"), E("RESTORE dr9 0 x FREQ -1"), E("RESTORE dr9 0 x FREQ x"),
    E("RESTORE dr9 0 x FREQ"), E("RESTORE dr9 0 x IDLETIME 1 FREQ 1"),
    E("RESTORE dr9 0 x FREQ 1 IDLETIME 1"), E("RESTORE ds 0 x IDLETIME 1 IDLETIME 2"),
    E("RESTORE dr9 0 x ABSTTL absttl"), E("EXISTS dr9"), E("MULTI"), E("RESTORE dr9 -1 x"),
    E("RESTORE dr9"), E("EXEC"), E("MULTI"), OWN("RESTORE dr9 0 @ds"), E("RESTORE dr9 0 x"),
    E("EXEC"), E("LRANGE dr9 0 -1"),
    # --- SORT / SORT_RO (kv_sort.cpp) ---------------------------------------------------------
    E("RPUSH sl 3 1 2 10 1.5"), E("SORT sl"), E("SORT sl DESC"), E("SORT sl LIMIT 1 2"),
    E("SORT sl LIMIT -1 2"), E("SORT sl LIMIT 10 2"), E("SORT sl LIMIT 1 -1"), E("SORT sl ALPHA"),
    E("RPUSH sla b a c"), E("SORT sla"), E("SORT sla ALPHA DESC"), E("MSET w_a 3 w_b 1 w_c 2"),
    E("SORT sla BY w_*"), E("SORT sla BY w_* GET #"), E("SORT sla BY w_* GET # GET w_*"),
    E("SORT sla BY nosort"), E("SORT sla BY nosort DESC"), E("SORT sla BY w_* GET nopat"),
    E("HSET h_a f 9"), E("HSET h_b f 8"), E("SORT sla BY h_*->f GET h_*->f GET #"),
    E("SORT sla STORE sdst"), E("SORT nokey STORE sdst"), E("EXISTS sdst"),
    E("SORT sla ALPHA STORE sdst"), E("LRANGE sdst 0 -1"), E("SORT sla BY w_* GET nopat STORE sdst"),
    E("LRANGE sdst 0 -1"), E("SORT_RO sla STORE sdst"), E("SORT_RO sla ALPHA"), E("SORT os"),
    E("SORT os bogus"), E("SORT sla LIMIT 1"), E("SORT sla LIMIT x 1"), E("SORT"), E("SORT_RO"),
    E("RPUSH sties 2 1 b a"), E("SORT sties ALPHA BY nosort"), E("RPUSH ssame 1 1.0 01"),
    E("SORT ssame"), E("SORT ssame DESC"), E("SORT sla BY w_* ALPHA"), E("SORT sla GET"),
    E("SADD sst 3 1 2"), E("SORT sst"), E("SORT sst DESC LIMIT 0 2"), E("SORT sst BY nosort STORE sdst"),
    E("LRANGE sdst 0 -1"), E("MULTI"), E("SORT sl"), E("SORT sl STORE sdst2"), E("EXEC"),
    # --- scripts' RESP3 types (redis.setresp, a script's result; lua_script.cpp) -------------
    # One-element maps and sets: a Lua table's order is not specified.
    E("FLUSHALL"), E("HSET lh f v"), E("SADD ls m"), E("ZADD lz 1.5 m"),
    E(["EVAL", "redis.setresp(3) return redis.call('HGETALL', KEYS[1])", "1", "lh"]),
    E(["EVAL", "redis.setresp(2) return redis.call('HGETALL', KEYS[1])", "1", "lh"]),
    E(["EVAL", "redis.setresp(3) return redis.call('SMEMBERS', KEYS[1])", "1", "ls"]),
    E(["EVAL", "redis.setresp(3) return redis.call('ZSCORE', KEYS[1], 'm')", "1", "lz"]),
    E(["EVAL", "redis.setresp(3) return redis.call('ZSCORE', KEYS[1], 'm').double * 2", "1",
       "lz"]),
    E(["EVAL", "redis.setresp(3) return redis.call('GET', 'nokey')", "0"]),
    E(["EVAL", "redis.setresp(3) return {redis.call('GET', 'nokey') == nil}", "0"]),
    E(["EVAL", "redis.setresp(2) return {redis.call('GET', 'nokey') == false}", "0"]),
    E(["EVAL", "redis.setresp(3) return {true, false}", "0"]),
    E(["EVAL", "return {true, false}", "0"]),
    E(["EVAL", "return {double=3.5}", "0"]), E(["EVAL", "return {double=0.1}", "0"]),
    E(["EVAL", "return {double=-1/0}", "0"]),
    E(["EVAL", "return {big_number='123\\r\\n4'}", "0"]),
    E(["EVAL", "return {verbatim_string={format='txt', string='hi'}}", "0"]),
    E(["EVAL", "return {verbatim_string={format='mkdown', string='x'}}", "0"]),
    E(["EVAL", "return {map={a={set={m=true}}}}", "0"]),
    E(["EVAL", "return {ok='fine', double=1}", "0"]),
    E(["EVAL", "redis.setresp()", "0"]), E(["EVAL", "redis.setresp(4)", "0"]),
    E("MULTI"), E(["EVAL", "return {map={a=1}}", "0"]), E("HGETALL lh"), E("EXEC"),
    # --- the end -----------------------------------------------------------------------------
    E("FLUSHALL"), E("DBSIZE"), E("RESET"), E("CLIENT GETNAME"), E("PING"),
]
# Long arguments in unknown-command errors are cut by Redis at 128 bytes.
SCRIPT += [E(["NOSUCHCOMMAND", LONG * 5, "b"]), E("QUIT")]


# --- running and comparing --------------------------------------------------------------------------

def split(args):
    if isinstance(args, list):
        return args
    return args.split(" ")


def elements(reply):
    kind, value = reply
    return value if kind in ("*", "~", "%") and value is not None else None


def sort_key(reply):
    return repr(reply)


def compare(mode, extra, ra, rp):
    """Returns None when the replies agree under `mode`, else a reason."""
    if mode == "exact":
        return None if ra == rp else "replies differ"
    if mode in ("sorted", "pairs"):
        if ra[0] != rp[0]:
            return "different reply types"
        ea, ep = elements(ra), elements(rp)
        if ea is None or ep is None:
            return None if ra == rp else "replies differ"
        if mode == "pairs":
            if len(ea) % 2 or len(ep) % 2:
                return "odd-length pair list"
            ea = [(ea[i], ea[i + 1]) for i in range(0, len(ea), 2)]
            ep = [(ep[i], ep[i + 1]) for i in range(0, len(ep), 2)]
        return None if sorted(ea, key=sort_key) == sorted(ep, key=sort_key) else \
            "different elements"
    if mode in ("shape", "pick"):
        if ra[0] != rp[0]:
            return "different reply types"
        if ra[0] == "*" and (ra[1] is None) != (rp[1] is None):
            return "nil vs array"
        if ra[0] in ("*", "~", "%") and ra[1] is not None and len(ra[1]) != len(rp[1]):
            return "different array lengths"
        if ra[0] == "-" and ra != rp:
            return "different errors"
        if ra[0] == "$" and (ra[1] is None) != (rp[1] is None):
            return "nil vs value"
        return None
    if mode == "ttl":
        if ra[0] != ":" or rp[0] != ":":
            return None if ra == rp else "replies differ"
        if ra[1] < 0 or rp[1] < 0:
            return None if ra == rp else "replies differ"
        return None if abs(ra[1] - rp[1]) <= extra else "beyond tolerance %s" % extra
    raise ValueError(mode)


def full_scan(client, args):
    """Runs a SCAN/HSCAN/SSCAN iteration to cursor 0 (at most 1000 calls); returns the sorted
    elements (pairs for HSCAN) or an error reply."""
    args = split(args)
    name = args[0].upper()
    if name == "SCAN":
        prefix, rest = ["SCAN"], args[1:]
    else:
        prefix, rest = args[:2], args[3:]  # HSCAN key 0 ...
    cursor, found = b"0", []
    for _ in range(1000):
        reply = client.call(prefix + [cursor] + rest)
        if reply[0] != "*" or len(reply[1]) != 2:
            return reply
        cursor = reply[1][0][1]
        items = [v[1] for v in reply[1][1][1]]
        if name in ("HSCAN", "ZSCAN"):
            items = [(items[i], items[i + 1]) for i in range(0, len(items), 2)]
        found += items
        if cursor == b"0":
            # Redis may return an element twice during a rehash; the key space is static here
            return ("scan", sorted(set(found)))
    return ("-", "scan did not finish in 1000 calls")


def source_members(client, source):
    if source == "keys":
        reply = client.call(["KEYS", "*"])
    elif source.startswith("zset:"):
        reply = client.call(["ZRANGE", source[len("zset:"):], "0", "-1"])
    else:
        reply = client.call(["SMEMBERS", source])
    return {v[1] for v in reply[1]}


def picks(reply):
    kind, value = reply
    if kind == "$":
        return [] if value is None else [value]
    if kind in ("*", "~") and value is not None:
        return [v[1] for v in value]
    return []


class Server:
    """Two connections to one server, each switched to `protocol` (HELLO 3) when it opens."""

    def __init__(self, name, port, protocol=2):
        self.name, self.port, self.protocol = name, port, protocol
        self.conns = [self.connect(), self.connect()]

    def connect(self):
        c = RawClient(self.port)
        if self.protocol == 3:
            reply = c.call(["HELLO", "3"])
            if reply[0] != "%":
                raise AssertionError(f"{self.name}: HELLO 3 answered {show(reply)}")
        return c

    def reconnect(self, i):
        self.conns[i].close()
        self.conns[i] = self.connect()

    def close(self):
        for c in self.conns:
            c.close()


def with_dumps(argv, own, other, conn):
    """argv with `@key` replaced by `own`'s DUMP of key and `@@key` by `other`'s (read on a
    connection of its own: the script's may be inside MULTI)."""
    out = []
    for arg in argv:
        if isinstance(arg, str) and arg.startswith("@"):
            server = other if arg.startswith("@@") else own
            reply = server.conns[1 - conn].call(["DUMP", arg.lstrip("@")])
            if reply[0] != "$" or reply[1] is None:
                raise AssertionError(f"{server.name}: DUMP {arg.lstrip('@')} gave {show(reply)}")
            arg = reply[1]
        out.append(arg)
    return out


def run_script(redis_srv, prez_srv):
    compared, diffs = 0, []
    for entry in SCRIPT:
        mode, args, conn = entry[0], entry[1], entry[2]
        extra = entry[3] if len(entry) > 3 else None
        if mode == "sleep":
            time.sleep(args)
            continue
        if mode == "read":
            ra, rp = redis_srv.conns[conn].read(), prez_srv.conns[conn].read()
            compared += 1
            reason = compare("exact", None, ra, rp)
            if reason is not None:
                diffs.append(("(read on connection %d)" % conn, reason, ra, rp))
            continue
        argv = split(args)
        line = " ".join((a if isinstance(a, str) else repr(a)[2:-1]) or "''" for a in argv)
        if len(line) > 80:
            line = line[:77] + "..."
        if mode == "scan":
            ra = full_scan(redis_srv.conns[conn], argv)
            rp = full_scan(prez_srv.conns[conn], argv)
            reason = None if ra == rp else "different scanned elements"
        elif mode == "pick":
            sa = source_members(redis_srv.conns[conn], extra)
            sp = source_members(prez_srv.conns[conn], extra)
            ra = redis_srv.conns[conn].call(argv)
            rp = prez_srv.conns[conn].call(argv)
            reason = compare(mode, extra, ra, rp)
            # After one SPOP the two sets legitimately hold different members: from then on only
            # their sizes are compared (the SCARD entries after each SPOP check the same).
            if reason is None and extra == "sp" and len(sa) != len(sp):
                reason = "the sources' sizes differ before the pop"
            elif reason is None and extra != "sp" and sa != sp:
                reason = "the sources differ before the pick"
            if reason is None and not set(picks(rp)) <= sp:
                reason = "prez picked an element not in the source"
            if reason is None and not set(picks(ra)) <= sa:
                reason = "redis picked an element not in the source (test bug)"
        elif mode == "own":
            ra = redis_srv.conns[conn].call(with_dumps(argv, redis_srv, prez_srv, conn))
            rp = prez_srv.conns[conn].call(with_dumps(argv, prez_srv, redis_srv, conn))
            reason = compare("exact", extra, ra, rp)
        else:
            ra = redis_srv.conns[conn].call(argv)
            rp = prez_srv.conns[conn].call(argv)
            reason = compare(mode, extra, ra, rp)
        compared += 1
        if reason is not None:
            diffs.append((line, reason, ra, rp))
        if argv[0].upper() == "QUIT":
            redis_srv.reconnect(conn)
            prez_srv.reconnect(conn)
    return compared, diffs


def fmt(reply):
    if reply[0] == "scan":
        return "scanned %r" % [x if isinstance(x, tuple) else x.decode(errors="replace")
                               for x in reply[1]]
    return show(reply)


def main(binary):
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        print("FAIL: redis-server is not installed; run scripts/install-deps.sh (Debian's "
              "redis-server package) — this differential test needs a real Redis to compare with")
        return 1
    root = tempfile.mkdtemp(prefix="prez-compat-")
    procs = []
    servers = []
    try:
        rport, pport = free_port(), free_port()
        with open(os.path.join(root, "redis.log"), "wb") as rlog:
            procs.append(subprocess.Popen(
                [redis_server, "--port", str(rport), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--daemonize", "no", "--dir", root],
                cwd=root, stdout=rlog, stderr=subprocess.STDOUT, start_new_session=True))
        pdir = os.path.join(root, "prez")
        os.makedirs(pdir)
        with open(os.path.join(pdir, "prez.conf"), "w") as f:
            f.write(f"port {pport}\nbind 127.0.0.1\ndir ./data\n")
        with open(os.path.join(pdir, "server.log"), "wb") as plog:
            procs.append(subprocess.Popen([os.path.abspath(binary), "prez.conf"], cwd=pdir,
                                          stdout=plog, stderr=subprocess.STDOUT,
                                          start_new_session=True))

        def answers(port, args):
            def probe():
                c = RawClient(port, timeout=2)
                try:
                    return c.call(args)
                finally:
                    c.close()
            return probe

        if wait_until(lambda: answers(rport, ["PING"])() == ("+", "PONG"), 20) is None:
            print("FAIL: redis-server did not answer PING within 20 s")
            return 1
        # A single prez node elects itself; retry until a replicated write is acknowledged.
        if wait_until(lambda: answers(pport, ["SET", "__ready", "1"])() == ("+", "OK"), 30) is None:
            print("FAIL: prez did not accept a write within 30 s")
            with open(os.path.join(pdir, "server.log"), "rb") as f:
                print(f.read()[-3000:].decode(errors="replace"))
            return 1
        compared, diffs = 0, []
        for protocol in (2, 3):  # the whole script in RESP2, then again after HELLO 3
            redis_srv, prez_srv = Server("redis", rport, protocol), Server("prez", pport, protocol)
            servers += [redis_srv, prez_srv]
            version = redis_srv.conns[0].call(["INFO", "server"])[1].decode(errors="replace")
            version = next((l for l in version.splitlines() if l.startswith("redis_version")), "?")
            started = time.monotonic()
            n, d = run_script(redis_srv, prez_srv)
            print(f"RESP{protocol}: compared {n} commands against redis-server "
                  f"({version.strip()}) in {time.monotonic() - started:.1f}s; "
                  f"{len(d)} difference(s)")
            compared += n
            diffs += [(f"[RESP{protocol}] {line}", reason, ra, rp) for line, reason, ra, rp in d]
        for line, reason, ra, rp in diffs:
            print(f"DIFF {line}\n     ({reason})\n     redis: {fmt(ra)}\n     prez:  {fmt(rp)}")
        for p in procs:
            if p.poll() is not None:
                print(f"FAIL: a server exited during the test (pid {p.pid}, code {p.returncode})")
                return 1
        if diffs:
            print(f"FAIL: {len(diffs)} of {compared} replies differ from Redis")
            return 1
        print("all replies agree with Redis")
        return 0
    finally:
        for s in servers:
            s.close()
        for p in procs:
            if p.poll() is None:
                p.kill()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if os.environ.get("PREZ_KEEP_TEST_DIRS") is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
