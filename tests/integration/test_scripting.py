#!/usr/bin/env python3
"""Lua scripting with real processes (issue 12): scripts run at apply time on every replica.

1. SCRIPT LOAD on one follower, EVALSHA on the other and on the leader: the script cache is
   replicated. A script's writes are seen from every node; EVAL_RO reads on a follower and may
   not write. Every replica computes the same state: math.random's draws, stored by a script,
   read back the same from each node.
2. The lock recipe of the README: SET lock token NX PX 5000 to take it, INCR for a fencing token,
   a Lua compare-and-delete to release it. Clients on both followers hammer it while the leader
   is SIGKILLed (and restarted): the events they log while holding it never overlap, fencing
   tokens only grow, and every release finds its own token.
3. RESP3 in scripts through followers (D31 and "A script's reply carries its RESP3 types"): after
   redis.setresp(3) a script reads a map as {map=...}; a script's map, double and boolean results
   reach a RESP3 client as RESP3 types and a RESP2 client downgraded, also inside EXEC and for a
   reply large enough to be converted off the I/O thread.

Usage: test_scripting.py PATH/TO/prez-server"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prez_harness import Client, Cluster, RespError, call, check, wait_until  # noqa: E402

# The README's lock recipe, verbatim.
ACQUIRE = """if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2]) end return false"""
RELEASE = """if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1]) end return 0"""
# The README's leader-election renewal.
RENEW = ("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], "
         "ARGV[2]) end return 0")


def answer(port, *args):
    """The reply, an error reply returned rather than raised."""
    try:
        return call(port, *args)
    except RespError as e:
        return e


def part1(c, leader, f1, f2):
    body = "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCR', KEYS[2])"
    sha = call(f1.port, "SCRIPT", "LOAD", body)
    check(len(sha) == 40, "SCRIPT LOAD answers a SHA1: %r" % sha)
    for node in (f2, leader, f1):
        check(call(node.port, "SCRIPT", "EXISTS", sha) == [1], "cache replicated to %s" % node.name)
    check(call(f2.port, "EVALSHA", sha, "2", "k", "n", "v1") == 1, "EVALSHA on the other follower")
    check(call(leader.port, "EVALSHA", sha.upper(), "2", "k", "n", "v2") == 2, "EVALSHA on the leader")
    for node in c.nodes:
        check(call(node.port, "GET", "k") == "v2", "a script's write read on %s" % node.name)
        check(call(node.port, "EVAL_RO", "return redis.call('GET', KEYS[1])", "1", "n") == "2",
              "EVAL_RO on %s" % node.name)
    reply = answer(f1.port, "EVAL_RO", "return redis.call('DEL', KEYS[1])", "1", "k")
    check(isinstance(reply, RespError) and "Write commands are not allowed" in str(reply),
          "EVAL_RO may not write: %r" % reply)
    # Random draws inside a write script are decided once, in the log: every node stores the same.
    draws = "local t = {} for i = 1, 5 do t[i] = math.random(1000000) end " \
            "redis.call('SET', KEYS[1], table.concat(t, ',')) return redis.call('GET', KEYS[1])"
    first = call(f2.port, "EVAL", draws, "1", "r")
    second = call(f2.port, "EVAL", draws, "1", "r")
    check(first != second, "each run draws anew: %r %r" % (first, second))
    for node in c.nodes:
        check(call(node.port, "GET", "r") == second, "the same draws on %s" % node.name)
    # Errors come back as Redis words them and change nothing after the failing call.
    reply = answer(f1.port, "EVAL",
                   "redis.call('SET', 'x', 'a'); return redis.call('LPUSH', 'x', 1)", "0")
    check(isinstance(reply, RespError) and str(reply).startswith("WRONGTYPE"), "%r" % reply)
    check(call(leader.port, "GET", "x") == "a", "the write before the error stays")
    # Leader election: the holder renews, another instance cannot.
    check(call(f1.port, "SET", "leader", "a", "NX", "PX", "10000") == "OK", "a leads")
    check(call(f2.port, "SET", "leader", "b", "NX", "PX", "10000") is None, "b does not")
    check(call(f2.port, "EVAL", RENEW, "1", "leader", "a", "10000") == 1, "a renews")
    check(call(f1.port, "EVAL", RENEW, "1", "leader", "b", "10000") == 0, "b cannot renew")
    check(call(f2.port, "SCRIPT", "FLUSH") == "OK", "SCRIPT FLUSH")
    reply = answer(leader.port, "EVALSHA", sha, "2", "k", "n", "v3")
    check(isinstance(reply, RespError) and str(reply).startswith("NOSCRIPT"), "flushed: %r" % reply)


def part2(c, leader, f1, f2):
    stop = threading.Event()
    problems = []
    acquired = [0]
    lock = threading.Lock()

    def worker(node, wid):
        try:
            with Client(node.port, timeout=30) as cl:
                n = 0
                while not stop.is_set():
                    n += 1
                    token = "%d-%d" % (wid, n)
                    fence = cl.call("EVAL", ACQUIRE, "2", "lock", "fence", token, "5000")
                    if fence is None:
                        time.sleep(0.002)
                        continue
                    cl.call("RPUSH", "events", "start %d %s" % (fence, token))
                    cl.call("RPUSH", "events", "end %d %s" % (fence, token))
                    released = cl.call("EVAL", RELEASE, "1", "lock", token)
                    if released != 1:
                        with lock:
                            problems.append("release of %s found another token (%r)"
                                            % (token, released))
                    with lock:
                        acquired[0] += 1
        except Exception as e:  # noqa: BLE001 -- reported as a failure below
            with lock:
                problems.append("worker %d: %r" % (wid, e))

    threads = [threading.Thread(target=worker, args=(node, i))
               for i, node in enumerate((f1, f1, f2, f2))]
    for t in threads:
        t.start()
    time.sleep(2)
    leader.kill()
    time.sleep(3)
    leader.start()
    time.sleep(2)
    stop.set()
    for t in threads:
        t.join(60)
    check(not any(t.is_alive() for t in threads), "workers finished")
    check(not problems, "lock problems: %s" % problems[:5])
    check(acquired[0] >= 20, "the lock changed hands often enough: %d" % acquired[0])
    events = call(f1.port, "LRANGE", "events", "0", "-1", timeout=10)
    check(len(events) == 2 * acquired[0], "every event logged once: %d events, %d acquisitions"
          % (len(events), acquired[0]))
    last_fence = 0
    for i in range(0, len(events), 2):
        start, end = events[i].split(), events[i + 1].split()
        check(start[0] == "start" and end[0] == "end" and start[1:] == end[1:],
              "no overlap: %r then %r" % (events[i], events[i + 1]))
        check(int(start[1]) > last_fence, "fencing tokens grow: %r" % events[i])
        last_fence = int(start[1])
    print("lock: %d acquisitions across a leader kill, no overlap" % acquired[0])


def part3(c, leader, f1, f2):
    check(call(f1.port, "HSET", "lh", "f", "v") == 1, "HSET for the RESP3 scripts")
    scripts = [  # (body, keys..., RESP2 answer, RESP3 answer)
        ("return {map={a=1}}", ["a", 1], {"a": 1}),
        ("return {double=3.5}", "3.5", 3.5),
        ("return {big_number='12345678901234567890'}", "12345678901234567890",
         12345678901234567890),
        ("redis.setresp(3) return {true, false}", [1, 0], [True, False]),
        ("return {true, false}", [1, None], [1, None]),
        ("redis.setresp(3) return redis.call('HGETALL', 'lh')", ["f", "v"], {"f": "v"}),
        ("return redis.call('HGETALL', 'lh')", ["f", "v"], ["f", "v"]),
        ("redis.setresp(3) local m = redis.call('HGETALL', 'lh').map return m.f", "v", "v"),
    ]
    big = ("local m = {} for i = 1, 3000 do m['field:' .. i] = string.rep('v', 40) end "
           "return {map=m}")
    for node in (f1, f2, leader):
        with Client(node.port) as resp2, Client(node.port) as resp3:
            check(resp3.call("HELLO", "3").get("proto") == 3, "HELLO 3 on %s" % node.name)
            for body, two, three in scripts:
                got2 = resp2.call("EVAL", body, "0")
                got3 = resp3.call("EVAL", body, "0")
                check(got2 == two, "RESP2 %s on %s: %r" % (body, node.name, got2))
                check(got3 == three, "RESP3 %s on %s: %r" % (body, node.name, got3))
            # Over limits::resp3_inline_bytes_max: converted by a worker, both ways.
            got2 = resp2.call("EVAL", big, "0")
            got3 = resp3.call("EVAL", big, "0")
            check(isinstance(got2, list) and len(got2) == 6000 and
                  dict(zip(got2[0::2], got2[1::2])) == got3 and len(got3) == 3000,
                  "a large map on %s" % node.name)
            for client, want in ((resp2, [["a", 1], ["f", "v"]]), (resp3, [{"a": 1}, {"f": "v"}])):
                check(client.call("MULTI") == "OK", "MULTI")
                check(client.call("EVAL", "return {map={a=1}}", "0") == "QUEUED", "queued")
                check(client.call("HGETALL", "lh") == "QUEUED", "queued")
                got = client.call("EXEC")
                check(got == want, "EXEC with a script on %s: %r" % (node.name, got))
    print("RESP3 scripts: both protocols agree with Redis on every node")


def main(binary):
    with Cluster(binary, 3, node_timeout_ms=500) as c:
        c.start()
        leader = c.leader()
        f1, f2 = [n for n in c.nodes if n is not leader]
        part1(c, leader, f1, f2)
        part2(c, leader, f1, f2)
        leader = c.leader()
        f1, f2 = [n for n in c.nodes if n is not leader]
        part3(c, leader, f1, f2)
        wait_until(lambda: call(leader.port, "PING") == "PONG", 15)
    print("test_scripting: ok")


if __name__ == "__main__":
    main(sys.argv[1])
