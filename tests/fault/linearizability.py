"""A Wing-Gong / Lowe / Porcupine-style linearizability checker for a key-value store in which every
key is an independent register (Redis strings: SET, SET NX, SET ... GET, GET, DEL, INCR, and
MULTI/EXEC transactions that touch one key).

Linearizability is P-compositional (Herlihy & Wing): a history is linearizable iff the sub-history
of every key is. check_history() partitions by key and checks each key on its own.

An operation is an Op: invoke and complete times (time.monotonic() seconds), a status and, when
the status is "ok", the result the client saw.

  ok       the reply was received: the op took effect exactly once between invoke and complete,
           and its result must match the model.
  fail     definitely not applied (-CLUSTERDOWN, -TRYAGAIN, connection refused before sending):
           dropped from the history before checking.
  unknown  -UNKNOWN, a timeout, a connection dropped after sending: it may have taken effect at
           any point after invoke, or never. Modeled as completing at +infinity with any result.
           (Leaving it for "the end" is the same as "never", so the search only has to linearize
           the ok ops.)

The search is the standard one: a doubly linked list of call/return events in time order; at each
step try to linearize one of the calls that come before the first pending return; memoize
(linearized-set bitmask, model state) and backtrack. It is bounded by `max_states` visited
configurations per key and by `max_seconds` per key: hitting a bound gives "inconclusive" instead
of hanging.

Micro-operations (Op.f, and the elements of a "txn" op's arg):
  ("set", v)      -> "OK"                          SET k v
  ("setnx", v)    -> True (set) / False (existed)  SET k v NX
  ("getset", v)   -> old value or None             SET k v GET
  ("get", None)   -> value or None                 GET k
  ("del", None)   -> 1 / 0 (keys removed)          DEL k
  ("incr", None)  -> new integer, or "ERR"         INCR k  (ERR: not an integer; no effect)
  ("txn", [(f, arg), ...]) -> [result, ...]        MULTI f1 f2 ... EXEC, applied atomically
"""
import math
import re
import time

INF = math.inf
_INT_RE = re.compile(r"-?(0|[1-9][0-9]*)\Z")
_INT64_MAX = 2**63 - 1


class Op:
    __slots__ = ("id", "client", "key", "f", "arg", "invoke", "complete", "status", "result",
                 "note")

    def __init__(self, client, key, f, arg=None, invoke=0.0, complete=None, status="ok",
                 result=None, note="", id=None):
        self.id = id
        self.client, self.key, self.f, self.arg = client, key, f, arg
        self.invoke = invoke
        self.complete = INF if complete is None else complete
        self.status = status
        self.result = result
        self.note = note

    def __repr__(self):
        return describe(self)


# ---------------------------------------------------------------------------------------------
# The model: one Redis string register.

def apply_micro(state, f, arg):
    """Returns (result, new_state) of micro-op f(arg) on a register holding `state`."""
    if f == "get":
        return state, state
    if f == "set":
        return "OK", arg
    if f == "setnx":
        return (True, arg) if state is None else (False, state)
    if f == "getset":
        return state, arg
    if f == "del":
        return (0, None) if state is None else (1, None)
    if f == "incr":
        if state is None:
            return 1, "1"
        if not _INT_RE.match(state) or int(state) >= _INT64_MAX:
            return "ERR", state
        n = int(state) + 1
        return n, str(n)
    raise ValueError("unknown micro-op %r" % (f,))


def step(state, op):
    """Applies op to state. Returns the new state, or None-marker _REJECT if op's recorded result
    is impossible from `state` (only checked when op.status == "ok")."""
    check = op.status == "ok"
    if op.f == "txn":
        results = []
        for f, arg in op.arg:
            r, state = apply_micro(state, f, arg)
            results.append(r)
        if check and (not isinstance(op.result, (list, tuple)) or len(op.result) != len(results)
                      or any(not _same(a, b) for a, b in zip(results, op.result))):
            return _REJECT
        return state
    r, state = apply_micro(state, op.f, op.arg)
    if check and not _same(r, op.result):
        return _REJECT
    return state


def _same(model_result, seen):
    if model_result == seen:
        return True
    # Redis replies "1" vs 1 or True/"OK" for NX: tolerate the client's encodings.
    if isinstance(model_result, bool):
        return (seen == "OK") if model_result else (seen is None)
    return False


_REJECT = object()
_OPAQUE = ("opaque",)


# ---------------------------------------------------------------------------------------------
# Per-key search.

class _Entry:
    __slots__ = ("op", "idx", "is_call", "match", "prev", "next", "time")


def _build_list(ops):
    events = []
    for i, op in enumerate(ops):
        call, ret = _Entry(), _Entry()
        call.op = ret.op = op
        call.idx = ret.idx = i
        call.is_call, ret.is_call = True, False
        call.match, ret.match = ret, None
        call.time, ret.time = op.invoke, op.complete
        # At equal times calls sort first: overlapping is the permissive reading.
        events.append((op.invoke, 0, i, call))
        events.append((op.complete, 1, i, ret))
    events.sort(key=lambda e: e[:3])
    head = _Entry()
    head.op, head.is_call, head.match, head.prev, head.next = None, False, None, None, None
    prev = head
    for *_, e in events:
        prev.next, e.prev = e, prev
        prev = e
    prev.next = None
    return head


def _lift(entry):
    entry.prev.next = entry.next
    if entry.next is not None:
        entry.next.prev = entry.prev
    m = entry.match
    m.prev.next = m.next
    if m.next is not None:
        m.next.prev = m.prev


def _unlift(entry):
    m = entry.match
    m.prev.next = m
    if m.next is not None:
        m.next.prev = m
    entry.prev.next = entry
    if entry.next is not None:
        entry.next.prev = entry


class KeyResult:
    """Outcome for one key: verdict "ok", "violation" or "inconclusive"."""

    def __init__(self, key, verdict, ops, states=0, seconds=0.0, best=None, stuck=None,
                 best_state=None, reason=""):
        self.key, self.verdict, self.ops = key, verdict, ops
        self.states, self.seconds = states, seconds
        self.best = best or []          # the longest partial linearization found (list of Op)
        self.best_state = best_state    # model state after it
        self.stuck = stuck or []        # ok ops that could not be linearized next from there
        self.reason = reason
        self.excerpt = None             # filled by minimize(): (prefix_ops, cut_time)
        self.all_ops = ops              # before prepare(): failed ops included


def prepare(ops):
    """Drops failed ops and non-ok reads (they have no effect), gives unknown ops +inf completion."""
    out = []
    for op in ops:
        if op.status == "fail":
            continue
        if op.status == "unknown":
            if op.f == "get" or (op.f == "txn" and all(f == "get" for f, _ in op.arg)):
                continue
            if op.complete != INF:
                op = _copy(op, complete=INF)
        out.append(op)
    return out


def _copy(op, **changes):
    new = Op(op.client, op.key, op.f, op.arg, op.invoke, op.complete, op.status, op.result,
             op.note, op.id)
    for k, v in changes.items():
        setattr(new, k, v)
    return new


_PROBE_STATES = (None, "0", "x")


def _blind(op):
    """An unknown op whose effect does not depend on the register (SET, DEL, SET GET...)."""
    if op.status == "ok":
        return False
    outs = {step(s, op) for s in _PROBE_STATES}
    return len(outs) == 1


def _dependent(op):
    """An op whose result or effect depends on the register's value."""
    if op.status == "ok":
        if op.f == "set":
            return False
        if op.f == "txn":
            return op.arg[0][0] not in ("set",)
        return True
    return not _blind(op)


def check_key(key, ops, initial=None, max_states=2_000_000, max_seconds=60.0):
    """Checks one key's history (already prepared). Returns a KeyResult.

    Depth-first search over moves. A move linearizes one candidate op (a call before the first
    pending return), except for "blind" unknown ops (their effect ignores the register: SET,
    DEL, SET GET with unknown outcome): those are only linearized right before a candidate whose
    result or effect depends on the register, as one move. That loses nothing: in any
    linearization, a blind unknown op followed by another blind op, or by nothing, can be taken
    out ("never happened"), and then every blind unknown op left is followed by a dependent op.
    An unknown op that would not change the register is never linearized on its own either.
    Without these rules, histories with many unknown writes make the search exponential.
    """
    t0 = time.monotonic()
    must = sum(1 for op in ops if op.status == "ok")
    if must == 0:
        return KeyResult(key, "ok", ops)
    head = _build_list(ops)
    blind = [_blind(op) for op in ops]
    dependent = [_dependent(op) for op in ops]
    # Values no ok op ever returned ("opaque"): every op treats them alike (a non-integer string
    # nobody reads), so configurations that differ only in which opaque value the register holds
    # are equivalent, and so are blind unknown ops that leave an opaque value.
    observed = set()
    for op in ops:
        if op.status == "ok":
            for r in (op.result if isinstance(op.result, (list, tuple)) else [op.result]):
                if isinstance(r, str):
                    observed.add(r)

    def canon(v):
        if v is None or v in observed or _INT_RE.match(v):
            return v
        return _OPAQUE

    signature = [canon(step(None, op)) if blind[op_i] else None
                 for op_i, op in enumerate(ops)]
    linearized = 0
    done = 0
    state = initial
    cache = set()
    visited = 0
    best, best_state, stuck_at_best, best_done = [], initial, None, -1

    def moves():
        singles_ok, singles_unknown, blinds, deps = [], [], [], []
        e = head.next
        while e is not None and e.is_call:
            if e.op.status == "ok":
                singles_ok.append(e)
            elif blind[e.idx]:
                blinds.append(e)
            else:
                singles_unknown.append(e)
            if dependent[e.idx]:
                deps.append(e)
            e = e.next
        out = [(c,) for c in singles_ok] + [(c,) for c in singles_unknown]
        seen = set()
        for u in blinds:
            sig = signature[u.idx]
            if sig in seen:
                continue  # an equivalent blind op was already offered
            seen.add(sig)
            for c in deps:
                out.append((u, c))
        return out

    # frames: [moves, next index, move that led here, state before that move]
    frames = [[moves(), 0, None, None]]
    while True:
        if done == must:
            return KeyResult(key, "ok", ops, visited, time.monotonic() - t0)
        frame = frames[-1]
        cands = frame[0]
        if frame[1] >= len(cands):
            if done > best_done:
                best_done = done
                best = [e.op for f in frames[1:] for e in f[2]]
                best_state = state
                stuck_at_best = _stuck(head, state)
            frames.pop()
            if not frames:
                break
            for e in reversed(frame[2]):
                _unlift(e)
                linearized &= ~(1 << e.idx)
                if e.op.status == "ok":
                    done -= 1
            state = frame[3]
            continue
        move = cands[frame[1]]
        frame[1] += 1
        new_state = state
        for e in move:
            new_state = step(new_state, e.op)
            if new_state is _REJECT:
                break
        if new_state is _REJECT:
            continue
        if len(move) == 1 and move[0].op.status != "ok" and new_state == state:
            continue  # an unknown op with no effect here: leaving it pending dominates
        if len(move) == 2:
            alone = step(state, move[1].op)
            if alone is not _REJECT and alone == new_state:
                continue  # the blind op changes nothing: the single move covers this
        bits = 0
        for e in move:
            bits |= 1 << e.idx
        config = (linearized | bits, canon(new_state))
        if config in cache:
            continue
        cache.add(config)
        visited += 1
        if visited > max_states or (visited & 0x3FFF == 0
                                    and time.monotonic() - t0 > max_seconds):
            return KeyResult(key, "inconclusive", ops, visited, time.monotonic() - t0,
                             reason="search bound hit (%d states, %.1f s)"
                             % (visited, time.monotonic() - t0))
        prev = state
        for e in move:
            _lift(e)
            if e.op.status == "ok":
                done += 1
        linearized |= bits
        state = new_state
        frames.append([moves(), 0, move, prev])
    return KeyResult(key, "violation", ops, visited, time.monotonic() - t0, best=best,
                     best_state=best_state, stuck=stuck_at_best or [])


def _stuck(head, state):
    """The ok ops that are candidates right now (called before the first pending return)."""
    out = []
    e = head.next
    while e is not None:
        if not e.is_call:
            if e.op.status == "ok" and e.op not in out:
                out.append(e.op)
            break
        if e.op.status == "ok":
            out.append(e.op)
        e = e.next
    return out


def check_history(ops, max_states=2_000_000, max_seconds=60.0, minimize_violations=True):
    """Partitions by key and checks every key. Returns {key: KeyResult}."""
    by_key = {}
    for i, op in enumerate(ops):
        if op.id is None:
            op.id = i
        by_key.setdefault(op.key, []).append(op)
    results = {}
    for key in sorted(by_key, key=str):
        prepared = prepare(by_key[key])
        r = check_key(key, prepared, max_states=max_states, max_seconds=max_seconds)
        r.all_ops = by_key[key]
        if r.verdict == "violation" and minimize_violations:
            minimize(r, max_states=max_states, max_seconds=max_seconds)
        results[key] = r
    return results


def cut_at(ops, t):
    """The history as seen at time t: ops invoked after t are dropped, ops still running at t
    become unknown (they may or may not have taken effect). If this is not linearizable, neither
    is the full history."""
    out = []
    for op in ops:
        if op.invoke > t:
            continue
        if op.complete > t and op.status == "ok":
            op = _copy(op, status="unknown", complete=INF)
        out.append(op)
    return prepare(out)


def minimize(result, max_states=2_000_000, max_seconds=60.0):
    """Finds the earliest completion time t such that the history cut at t is already not
    linearizable (binary search over completion times); stores (ops, t) in result.excerpt."""
    ops = result.ops
    times = sorted({op.complete for op in ops if op.status == "ok"})
    lo, hi = 0, len(times) - 1
    found = None
    deadline = time.monotonic() + max(10.0, max_seconds)
    while lo <= hi and time.monotonic() < deadline:
        mid = (lo + hi) // 2
        r = check_key(result.key, cut_at(ops, times[mid]), max_states=max_states,
                      max_seconds=max_seconds)
        if r.verdict == "violation":
            found = (r, times[mid])
            hi = mid - 1
        else:
            lo = mid + 1
    if found is not None:
        r, t = found
        result.excerpt = (r.ops, t)
        result.best, result.best_state, result.stuck = r.best, r.best_state, r.stuck


# ---------------------------------------------------------------------------------------------
# Readable output.

def _fmt_val(v):
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "OK" if v else "nil"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt_val(x) for x in v) + "]"
    return str(v)


def _fmt_micro(f, arg, key):
    if f in ("get", "del", "incr"):
        return "%s %s" % (f.upper(), key)
    if f == "setnx":
        return "SET %s %s NX" % (key, arg)
    if f == "getset":
        return "SET %s %s GET" % (key, arg)
    return "SET %s %s" % (key, arg)


def describe(op, t0=0.0):
    if op.f == "txn":
        cmd = "MULTI " + "; ".join(_fmt_micro(f, a, op.key) for f, a in op.arg) + " EXEC"
    else:
        cmd = _fmt_micro(op.f, op.arg, op.key)
    end = "      ..." if op.complete == INF else "%9.3f" % (op.complete - t0)
    if op.status == "ok":
        outcome = "-> " + _fmt_val(op.result)
    else:
        outcome = op.status.upper()
    note = ("  (%s)" % op.note) if op.note else ""
    return "[%9.3f %s] %-6s %-34s %s%s" % (op.invoke - t0, end, op.client, cmd, outcome, note)


def _writes_of(ops):
    """value -> ops that could have written it."""
    out = {}
    for op in ops:
        micro = op.arg if op.f == "txn" else [(op.f, op.arg)]
        for f, a in micro:
            if f in ("set", "setnx", "getset"):
                out.setdefault(a, []).append(op)
    return out


def report(result, t0=0.0, context=12):
    """A readable explanation of a violation (or inconclusive result) on one key."""
    lines = []
    if result.verdict == "inconclusive":
        lines.append("key %r: INCONCLUSIVE: %s (%d ops)" % (result.key, result.reason,
                                                          len(result.ops)))
        return "\n".join(lines)
    if result.verdict != "violation":
        return "key %r: linearizable (%d ops)" % (result.key, len(result.ops))
    ops, cut = result.excerpt if result.excerpt else (result.ops, None)
    lines.append("key %r: NOT LINEARIZABLE (%d ops on this key)" % (result.key, len(result.ops)))
    if cut is not None:
        lines.append("  the history is already not linearizable when cut at t=%.3f "
                      "(%d ops; ops running at the cut count as unknown)" % (cut - t0, len(ops)))
    ok_best = [o for o in result.best if o.status == "ok"]
    lines.append("  longest linearizable prefix found: %d ops (%d ok); register then holds %s"
                 % (len(result.best), len(ok_best), _fmt_val(result.best_state)))
    lines.append("  last ops of that linearization (in linearization order):")
    for op in result.best[-6:]:
        lines.append("    " + describe(op, t0))
    if result.stuck:
        lines.append("  none of these ok ops can come next (each contradicts the register):")
        for op in result.stuck[:8]:
            lines.append("    " + describe(op, t0))
    # The ops on this key around the failure, in invocation order.
    focus = result.stuck[0] if result.stuck else (ops[-1] if ops else None)
    if focus is not None:
        ordered = sorted(ops, key=lambda o: (o.invoke, o.complete))
        idx = next((i for i, o in enumerate(ordered) if o is focus or o.id == focus.id), 0)
        lo, hi = max(0, idx - context), min(len(ordered), idx + context + 1)
        lines.append("  ops on %r around it, by invocation time (%d..%d of %d):"
                     % (result.key, lo, hi - 1, len(ordered)))
        for op in ordered[lo:hi]:
            mark = ">>" if (op is focus or op.id == focus.id) else "  "
            lines.append("  %s %s" % (mark, describe(op, t0)))
        # Where the values read there came from.
        writers = _writes_of(result.all_ops)
        seen = set()
        for op in result.stuck[:8]:
            vals = op.result if isinstance(op.result, (list, tuple)) else [op.result]
            for v in vals:
                if isinstance(v, str) and v not in seen and v != "OK":
                    seen.add(v)
                    w = writers.get(v)
                    if w:
                        for wop in w:
                            lines.append("     value %s was written by: %s%s" % (
                                v, describe(wop, t0),
                                "   <- a FAILED write (reported not applied)"
                                if wop.status == "fail" else ""))
                    elif not _INT_RE.match(v):
                        lines.append("     value %s was never written by any recorded op on %r"
                                     % (v, result.key))
    return "\n".join(lines)
