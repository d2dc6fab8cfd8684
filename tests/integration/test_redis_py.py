#!/usr/bin/env python3
"""redis-py (Debian's python3-redis) against a 3-node prez cluster, connected to a FOLLOWER (which
forwards to the leader): every command family, expiry, a 100-command pipeline, a transaction
pipeline, WATCH with r.transaction() from 3 threads (the count must be exact), PING, INFO and
CLIENT SETNAME/GETNAME.

Usage: test_redis_py.py PATH/TO/prez-server

ctest runs this with the Python3 that CMake found, which may lack `redis`; then the script re-execs
itself with /usr/bin/python3 (where Debian's python3-redis installs), or fails clearly.
"""
import os
import sys

try:
    import redis
except ImportError:
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and \
            os.path.exists("/usr/bin/python3") and os.environ.get("PREZ_REDIS_PY_REEXEC") is None:
        os.environ["PREZ_REDIS_PY_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("FAIL: the redis module (Debian's python3-redis) is not importable by %s nor by "
          "/usr/bin/python3; run scripts/install-deps.sh" % sys.executable)
    sys.exit(1)

import threading  # noqa: E402
import time  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prez_harness import Cluster, check  # noqa: E402

RETRYABLE = ("CLUSTERDOWN", "TRYAGAIN")


def retry(fn, seconds=20):
    """Calls fn, retrying only on retryable errors (CLUSTERDOWN/TRYAGAIN) and lost connections."""
    end = time.monotonic() + seconds
    while True:
        try:
            return fn()
        except redis.ResponseError as e:
            if not str(e).startswith(RETRYABLE) or time.monotonic() > end:
                raise
        except (redis.ConnectionError, redis.TimeoutError):
            if time.monotonic() > end:
                raise
        time.sleep(0.1)


def families(r):
    r.flushall()
    # strings
    check(r.set("s", "v") is True and r.get("s") == "v", "SET/GET")
    check(r.set("s", "w", nx=True) is None and r.set("s", "w", xx=True) is True, "SET NX/XX")
    check(r.getset("s", "x") == "w" and r.getdel("s") == "x" and r.get("s") is None, "GETSET/GETDEL")
    check(r.mset({"m1": "1", "m2": "2"}) is True and r.mget("m1", "m2", "none") == ["1", "2", None],
          "MSET/MGET")
    check(r.msetnx({"m1": "x", "m3": "3"}) is False and r.get("m3") is None, "MSETNX")
    check(r.append("ap", "ab") == 2 and r.append("ap", "cd") == 4 and r.strlen("ap") == 4, "APPEND")
    check(r.getrange("ap", 1, 2) == "bc" and r.setrange("ap", 1, "XY") == 4 and
          r.get("ap") == "aXYd", "GETRANGE/SETRANGE")
    check(r.incr("n") == 1 and r.incrby("n", 10) == 11 and r.decr("n") == 10 and
          r.decrby("n", 4) == 6, "INCR family")
    check(abs(r.incrbyfloat("fl", 2.5) - 2.5) < 1e-9 and r.get("fl") == "2.5", "INCRBYFLOAT")
    check(r.setnx("nx", "1") is True and r.setnx("nx", "2") is False, "SETNX")
    try:
        r.incr("ap")
        check(False, "INCR on a non-integer must fail")
    except redis.ResponseError as e:
        check(str(e) == "value is not an integer or out of range", f"INCR error: {e}")
    # keys
    check(r.exists("m1", "m2", "none") == 2 and r.type("m1") == "string", "EXISTS/TYPE")
    check(r.rename("m1", "m9") is True and r.renamenx("m9", "m2") is False, "RENAME/RENAMENX")
    check(sorted(r.keys("m*")) == ["m2", "m9"], "KEYS")
    scanned = set(r.scan_iter(match="*", count=3))
    check(scanned == set(r.keys("*")), f"SCAN iteration {scanned}")
    check(r.dbsize() == len(scanned) and r.randomkey() in scanned, "DBSIZE/RANDOMKEY")
    check(r.delete("m2", "m9", "none") == 2 and r.unlink("nx") == 1, "DEL/UNLINK")
    # hashes
    check(r.hset("h", mapping={"a": "1", "b": "2"}) == 2 and r.hset("h", "c", "3") == 1, "HSET")
    check(r.hget("h", "a") == "1" and r.hmget("h", "a", "z") == ["1", None], "HGET/HMGET")
    check(r.hsetnx("h", "a", "9") == 0 and r.hexists("h", "b") and r.hlen("h") == 3, "HSETNX")
    check(r.hgetall("h") == {"a": "1", "b": "2", "c": "3"}, "HGETALL")
    check(sorted(r.hkeys("h")) == ["a", "b", "c"] and sorted(r.hvals("h")) == ["1", "2", "3"],
          "HKEYS/HVALS")
    check(r.hincrby("h", "a", 5) == 6 and abs(r.hincrbyfloat("h", "f", 0.5) - 0.5) < 1e-9, "HINCRBY*")
    check(r.hstrlen("h", "a") == 1 and r.hdel("h", "f", "zz") == 1, "HSTRLEN/HDEL")
    check(dict(r.hscan_iter("h")) == {"a": "6", "b": "2", "c": "3"}, "HSCAN")
    # lists
    check(r.rpush("l", "a", "b", "c") == 3 and r.lpush("l", "z") == 4, "RPUSH/LPUSH")
    check(r.lrange("l", 0, -1) == ["z", "a", "b", "c"] and r.llen("l") == 4, "LRANGE/LLEN")
    check(r.lpushx("none", "x") == 0 and r.rpushx("l", "d") == 5, "LPUSHX/RPUSHX")
    check(r.lindex("l", -1) == "d" and r.lset("l", 0, "y") is True, "LINDEX/LSET")
    check(r.linsert("l", "before", "b", "ab") == 6 and r.lpos("l", "b") == 3, "LINSERT/LPOS")
    check(r.lpop("l") == "y" and r.rpop("l", 2) == ["d", "c"], "LPOP/RPOP count")
    check(r.lmove("l", "l2", "LEFT", "RIGHT") == "a" and r.rpoplpush("l", "l2") == "b", "LMOVE")
    check(r.lrange("l2", 0, -1) == ["b", "a"] and r.lrange("l", 0, -1) == ["ab"], "after moves")
    check(r.rpush("l3", "x", "y", "x", "z") == 4 and r.lrem("l3", 0, "x") == 2 and
          r.ltrim("l3", 0, 0) is True and r.lrange("l3", 0, -1) == ["y"], "LREM/LTRIM")
    # sets
    check(r.sadd("s1", "a", "b", "c") == 3 and r.sadd("s2", "b", "c", "d") == 3, "SADD")
    check(r.smembers("s1") == {"a", "b", "c"} and r.scard("s1") == 3, "SMEMBERS/SCARD")
    check(r.sismember("s1", "a") and r.smismember("s1", "a", "z") == [1, 0], "SISMEMBER")
    check(r.sinter("s1", "s2") == {"b", "c"} and r.sunion("s1", "s2") == {"a", "b", "c", "d"} and
          r.sdiff("s1", "s2") == {"a"}, "SINTER/SUNION/SDIFF")
    check(r.sinterstore("d", "s1", "s2") == 2 and r.sunionstore("d", "s1", "s2") == 4 and
          r.sdiffstore("d", "s1", "s2") == 1 and r.smembers("d") == {"a"}, "*STORE")
    check(r.smove("s1", "s2", "a") is True and r.srem("s2", "a", "zz") == 1, "SMOVE/SREM")
    check(r.srandmember("s2") in {"b", "c", "d"} and r.spop("s2") in {"b", "c", "d"} and
          r.scard("s2") == 2, "SRANDMEMBER/SPOP")
    check(set(r.sscan_iter("s1")) == {"b", "c"}, "SSCAN")
    try:
        r.sadd("h", "x")
        check(False, "SADD on a hash must fail")
    except redis.ResponseError as e:
        check(str(e).startswith("WRONGTYPE"), f"WRONGTYPE error: {e}")
    # expiry
    check(r.set("e", "v", ex=100) is True and 98 <= r.ttl("e") <= 100, "SET EX / TTL")
    check(r.pexpire("e", 50000) and 49000 <= r.pttl("e") <= 50000, "PEXPIRE / PTTL")
    check(r.persist("e") and r.ttl("e") == -1 and r.ttl("none") == -2, "PERSIST")
    check(r.expire("e", 100) and r.expiretime("e") >= int(time.time()) + 90, "EXPIRETIME")
    check(r.getex("e", px=400) == "v" and r.set("e2", "v", px=400), "GETEX PX / SET PX")
    check(r.setex("e3", 1, "v") and r.psetex("e4", 400, "v"), "SETEX/PSETEX")
    time.sleep(1.6)
    check(r.get("e") is None and r.get("e2") is None and r.exists("e3", "e4") == 0, "expired")
    check(r.ttl("e") == -2 and r.pttl("e2") == -2, "TTL of expired keys")
    print("every family through a follower: ok")


def pipelines(r):
    p = r.pipeline(transaction=False)
    for i in range(50):
        p.set(f"p{i}", i)
        p.incr(f"p{i}")
    replies = p.execute()
    check(len(replies) == 100, f"{len(replies)} pipeline replies")
    check(replies == sum(([True, i + 1] for i in range(50)), []),
          f"pipeline replies {replies[:6]}...")
    check(r.mget([f"p{i}" for i in range(50)]) == [str(i + 1) for i in range(50)], "pipeline effect")
    print("pipeline of 100 commands: ok")
    p = r.pipeline(transaction=True)
    p.set("tx", 1).incr("tx").lpush("txl", "a", "b").get("tx").lrange("txl", 0, -1)
    check(p.execute() == [True, 2, 2, "2", ["b", "a"]], "transaction pipeline")
    p = r.pipeline(transaction=True)
    p.set("tx", "x").incr("tx").get("tx")
    try:
        p.execute()
        check(False, "a transaction with a failing command raises")
    except redis.ResponseError as e:
        check("not an integer" in str(e), f"in-transaction error: {e}")
    check(r.get("tx") == "x", "the transaction's other commands applied")
    print("transaction pipelines: ok")


def watch_counter(port, threads=3, per_thread=25):
    """Each thread increments `counter` per_thread times with WATCH/MULTI/EXEC retried on
    WatchError by r.transaction(); the final count must be exact."""
    r0 = redis.Redis(port=port, decode_responses=True, socket_timeout=15)
    retry(lambda: r0.set("counter", 0))
    errors, retries = [], [0]
    lock = threading.Lock()
    deadline = time.monotonic() + 150

    def worker():
        r = redis.Redis(port=port, decode_responses=True, socket_timeout=15)
        try:
            for _ in range(per_thread):
                attempts = [0]

                def incr(pipe):
                    attempts[0] += 1
                    if time.monotonic() > deadline:
                        raise RuntimeError("time bound reached")
                    value = int(pipe.get("counter"))
                    pipe.multi()
                    pipe.set("counter", value + 1)
                retry(lambda: r.transaction(incr, "counter"))
                with lock:
                    retries[0] += attempts[0] - 1
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
        finally:
            r.close()

    ts = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(max(1, deadline + 10 - time.monotonic()))
    check(not any(t.is_alive() for t in ts), "WATCH workers did not finish in time")
    check(not errors, f"WATCH workers failed: {errors}")
    final = int(r0.get("counter"))
    r0.close()
    check(final == threads * per_thread, f"counter {final} != {threads * per_thread}")
    print(f"WATCH optimistic increments from {threads} threads: exact count {final} "
          f"({retries[0]} retries after WatchError)")


def server_commands(r):
    check(r.ping() is True, "PING")
    info = r.info()
    check(isinstance(info, dict) and "redis_version" in info, f"INFO keys: {sorted(info)[:10]}")
    raft = r.info("raft")
    check(raft.get("role") in ("follower", "leader"), f"INFO raft: {raft}")
    check(r.client_getname() is None, "no name yet")
    check(r.client_setname("redis-py-test") is True and r.client_getname() == "redis-py-test",
          "CLIENT SETNAME/GETNAME")
    check(isinstance(r.client_id(), int), "CLIENT ID")
    check(r.echo("hi") == "hi", "ECHO")
    print(f"PING, INFO ({len(info)} fields, raft role {raft.get('role')}), CLIENT: ok")


def main(binary):
    print(f"redis-py {redis.__version__} on {sys.executable}")
    with Cluster(binary, size=3, node_timeout_ms=500) as c:
        c.start()
        leader = c.leader(seconds=30)
        follower = next(n for n in c.nodes if n is not leader)
        check(c.write(follower, "warm", "up", seconds=30), "first write through the follower")
        r = redis.Redis(port=follower.port, decode_responses=True, socket_timeout=15)
        try:
            check(follower.role() == "follower", "the client talks to a follower")
            retry(lambda: families(r), seconds=60)
            retry(lambda: pipelines(r), seconds=60)
            server_commands(r)
        finally:
            r.close()
        watch_counter(follower.port)
    print("redis-py against a follower: all checks passed")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
