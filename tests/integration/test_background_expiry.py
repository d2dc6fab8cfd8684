#!/usr/bin/env python3
"""Background expiry (docs/decisions.md D33): deadlines take effect on an idle cluster, with no
client command to move the log on. Nothing below sends a command that goes through the log after
the write under test: CONFIG, SUBSCRIBE and INFO are answered by the node itself, and reads
(which would make the leader append a clock entry) are sent only once the effect was seen.

1. notify-keyspace-events Ex on every node, a subscriber to __keyevent@0__:expired on every
   node, SET k v PX 300 through a follower, then nothing: every subscriber hears `expired k`
   within 2 s (Redis's own suite waits for this: unit/pubsub "Keyspace notifications: expired
   events (background expire)"), INFO keyspace shows no key on any node, then DBSIZE is 0.
2. A backlog bigger than one entry's active expiry (3 x 64 keys with one deadline) is all
   deleted, with an `expired` event for each key.
3. A key set just before the leader is SIGKILLed expires under the new leader, which learns the
   deadline from its own state machine.
4. BLPOP with timeout 1 on a follower, then SIGKILL that follower before its timer sends the
   timeout: the blocked client leaves the replicated state (INFO's blocked_clients, the cluster's
   count) once its deadline (timeout + 10 s grace) passes, with no further command.

Usage: test_background_expiry.py PATH/TO/prez-server [PART...]"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prez_harness import Client, Cluster, RespError, call, check, encode, wait_until  # noqa: E402

GRACE_S = 10  # limits::blocked_deadline_grace_ms


def info_field(node, section, prefix):
    try:
        text = call(node.port, "INFO", section, timeout=2) or ""
    except (OSError, RespError, ValueError):
        return None
    for line in text.splitlines():
        if line.startswith(prefix):
            return line.split(":", 1)[1].strip()
    return None


def keys_held(node):
    """Keys this node's state machine holds (INFO keyspace, its own state, expired or not)."""
    db0 = info_field(node, "keyspace", "db0")
    if db0 is None:
        return 0
    return int(dict(kv.split("=") for kv in db0.split(","))["keys"])


def blocked(node):
    value = info_field(node, "clients", "blocked_clients")
    return -1 if value is None else int(value)


def expired_subscriber(node, timeout):
    c = Client(node.port, timeout=timeout)
    c.send_raw(encode("SUBSCRIBE", "__keyevent@0__:expired"))
    check(c.read_reply() == ["subscribe", "__keyevent@0__:expired", 1], "subscribe confirmation")
    return c


def expired_keys(sub, count):
    got = []
    while len(got) < count:
        try:
            reply = sub.read_reply()
        except OSError as e:
            check(False, "expired events heard in time (got %d of %d: %r): %s" %
                  (len(got), count, got[:5], e))
        check(reply[:2] == ["message", "__keyevent@0__:expired"], "an expired event: %r" % (reply,))
        got.append(reply[2])
    return got


def one_key(c, subs):
    """1. One key, an idle cluster."""
    f1 = next(n for n in c.nodes if n.role() != "leader")
    started = time.monotonic()
    check(call(f1.port, "SET", "k", "v", "PX", "300") == "OK", "SET k v PX 300")
    for n, s in zip(c.nodes, subs):
        check(expired_keys(s, 1) == ["k"], "%s publishes expired k with no traffic" % n.name)
    took = time.monotonic() - started
    check(took < 2.0, "expired within 2 s (%.2f s)" % took)
    for n in c.nodes:
        check(wait_until(lambda: keys_held(n) == 0, 2), "%s holds no key" % n.name)
    for n in c.nodes:
        check(call(n.port, "DBSIZE") == 0, "DBSIZE 0 through %s" % n.name)


def backlog(c, subs):
    """2. 192 keys with about one deadline: several clock entries (64 keys each at most)."""
    f2 = [n for n in c.nodes if n.role() != "leader"][-1]
    with Client(f2.port, timeout=10) as w:
        w.send_raw(b"".join(encode("SET", "b%03d" % i, "v", "PX", "400") for i in range(192)))
        for _ in range(192):
            check(w.read_reply() == "OK", "SET b... PX 400")
    for n, s in zip(c.nodes, subs):
        got = expired_keys(s, 192)
        check(sorted(got) == ["b%03d" % i for i in range(192)],
              "%s hears every key of the backlog expire" % n.name)
    for n in c.nodes:
        check(wait_until(lambda: keys_held(n) == 0, 2), "%s holds no key after the backlog" %
              n.name)


def new_leader_takes_over(c, subs):
    """3. A new leader picks the deadline up from its own state machine."""
    leader = c.leader()
    others = [n for n in c.nodes if n is not leader]
    check(call(others[0].port, "SET", "nl", "v", "PX", "1500") == "OK", "SET nl v PX 1500")
    check(wait_until(lambda: all(keys_held(n) == 1 for n in c.nodes), 2), "every node holds nl")
    leader.kill()
    new_leader = c.leader(among=others)
    for n, s in zip(c.nodes, subs):
        if n is not leader:
            check(expired_keys(s, 1) == ["nl"], "%s hears nl expire under the new leader %s" %
                  (n.name, new_leader.name))
    for n in others:
        check(wait_until(lambda: keys_held(n) == 0, 2), "%s holds no key" % n.name)
    leader.start()  # back to three nodes, as a follower
    check(wait_until(lambda: info_field(leader, "raft", "role") == "follower", 15),
          "the old leader rejoined")


def dead_blocked_client(c):
    """4. A blocked client whose node died."""
    follower = next(n for n in c.nodes if n.role() == "follower")
    b = Client(follower.port, timeout=30)
    b.send_raw(encode("BLPOP", "q", "1"))
    check(wait_until(lambda: blocked(follower) == 1, 0.8), "the client counts as blocked")
    follower.kill()  # before its own 1 s timer can send the timeout
    killed_at = time.monotonic()
    b.close()
    live = [n for n in c.nodes if n is not follower]
    check(wait_until(lambda: all(blocked(n) == 1 for n in live), 3),
          "blocked on the live nodes after the kill")
    # Past the client's own timeout: nobody sent PREZ.UNBLOCK, it is still registered.
    time.sleep(max(0.0, killed_at + 2 - time.monotonic()))
    check(all(blocked(n) == 1 for n in live), "still blocked 2 s after the kill: %r" %
          [blocked(n) for n in live])
    check(wait_until(lambda: all(blocked(n) == 0 for n in live), 1 + GRACE_S + 3),
          "the blocked client's deadline removed it with no further command (blocked: %r)" %
          [blocked(n) for n in live])


def main(binary, parts):
    with Cluster(binary, 3, node_timeout_ms=500) as c:
        c.start()
        c.leader()
        for n in c.nodes:
            check(call(n.port, "CONFIG", "SET", "notify-keyspace-events", "Ex") == "OK",
                  "CONFIG SET on %s" % n.name)
        subs = [expired_subscriber(n, timeout=2.5) for n in c.nodes]
        if "1" in parts:
            one_key(c, subs)
            print("1. one key expired on an idle cluster: ok")
        for s in subs:
            s.sock.settimeout(5)
        if "2" in parts:
            backlog(c, subs)
            print("2. a backlog of 192 keys expired: ok")
        if "3" in parts:
            new_leader_takes_over(c, subs)
            print("3. a new leader expired a key: ok")
        for s in subs:
            s.close()
        if "4" in parts:
            dead_blocked_client(c)
            print("4. a dead node's blocked client timed out: ok")
    print("background expiry: ok")


if __name__ == "__main__":
    # Optional part numbers after the binary run only those (showing each fails on old code).
    main(sys.argv[1], sys.argv[2:] or ["1", "2", "3", "4"])
