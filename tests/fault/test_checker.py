#!/usr/bin/env python3
"""Unit tests of the linearizability checker on small hand-written histories that are and are not
linearizable. Exits non-zero when any test fails. Usage: test_checker.py [-v]"""
import os
import random
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from linearizability import INF, Op, check_history, check_key, prepare, report  # noqa: E402


# Tiny constructors: op(client, invoke, complete, ...). complete=None means unknown (+inf).
def w(c, t0, t1, v, key="k", status="ok"):
    return Op(c, key, "set", v, t0, t1, status, "OK" if status == "ok" else None)


def r(c, t0, t1, v, key="k", status="ok"):
    return Op(c, key, "get", None, t0, t1, status, v)


def d(c, t0, t1, n, key="k", status="ok"):
    return Op(c, key, "del", None, t0, t1, status, n)


def inc(c, t0, t1, n, key="k", status="ok"):
    return Op(c, key, "incr", None, t0, t1, status, n)


def nx(c, t0, t1, v, set_, key="k", status="ok"):
    return Op(c, key, "setnx", v, t0, t1, status, set_)


def gs(c, t0, t1, v, old, key="k", status="ok"):
    return Op(c, key, "getset", v, t0, t1, status, old)


def txn(c, t0, t1, micro, results, key="k", status="ok"):
    return Op(c, key, "txn", micro, t0, t1, status, results)


def unknown(op):
    op.status, op.complete, op.result = "unknown", INF, None
    return op


def verdicts(history, **kw):
    return {k: v.verdict for k, v in check_history(history, **kw).items()}


class Linearizable(unittest.TestCase):
    def assertLinearizable(self, history):
        results = check_history(history)
        for key, res in results.items():
            self.assertEqual(res.verdict, "ok", report(res))

    def test_empty_and_initial_nil(self):
        self.assertLinearizable([])
        self.assertLinearizable([r("a", 0, 1, None), r("b", 2, 3, None)])

    def test_sequential(self):
        self.assertLinearizable([w("a", 0, 1, "x"), r("b", 2, 3, "x"), w("a", 4, 5, "y"),
                                 r("b", 6, 7, "y"), d("a", 8, 9, 1), r("b", 10, 11, None),
                                 d("a", 12, 13, 0)])

    def test_concurrent_writes_read_in_either_order(self):
        # Two overlapping writes: later reads may see them in either order, consistently.
        base = [w("a", 0, 10, "x"), w("b", 1, 9, "y")]
        self.assertLinearizable(base + [r("c", 11, 12, "x"), r("c", 13, 14, "x")])
        self.assertLinearizable(base + [r("c", 11, 12, "y"), r("c", 13, 14, "y")])
        # A read overlapping both may see either, or nil (before both).
        for seen in ("x", "y", None):
            self.assertLinearizable(base + [r("c", 2, 3, seen)])

    def test_reads_overlapping_a_write_flip_once(self):
        # Reads concurrent with a write: old, then new (never back) is fine.
        self.assertLinearizable([w("a", 0, 1, "x"), w("b", 2, 20, "y"),
                                 r("c", 3, 4, "x"), r("d", 5, 6, "y"), r("c", 7, 8, "y")])

    def test_unknown_write_that_happened(self):
        self.assertLinearizable([unknown(w("a", 0, 1, "x")), r("b", 5, 6, "x"),
                                 r("b", 7, 8, "x")])

    def test_unknown_write_that_happened_late(self):
        # An unknown write may take effect long after its invocation.
        self.assertLinearizable([unknown(w("a", 0, 1, "x")), r("b", 5, 6, None),
                                 r("b", 50, 51, "x")])

    def test_unknown_write_that_never_happened(self):
        self.assertLinearizable([unknown(w("a", 0, 1, "x")), r("b", 5, 6, None),
                                 w("c", 7, 8, "y"), r("b", 9, 10, "y")])

    def test_failed_ops_are_ignored_and_failed_reads_dropped(self):
        self.assertLinearizable([w("a", 0, 1, "x", status="fail"), r("b", 2, 3, None),
                                 r("b", 4, 5, "garbage", status="fail"),
                                 unknown(r("b", 6, 7, "x"))])

    def test_del_counts(self):
        self.assertLinearizable([d("a", 0, 1, 0), w("a", 2, 3, "x"), d("b", 4, 5, 1),
                                 d("c", 6, 7, 0)])

    def test_setnx_and_getset(self):
        self.assertLinearizable([nx("a", 0, 1, "x", True), nx("b", 2, 3, "y", False),
                                 gs("c", 4, 5, "z", "x"), r("a", 6, 7, "z")])
        # Concurrent NX: exactly one wins.
        self.assertLinearizable([nx("a", 0, 5, "x", False), nx("b", 1, 4, "y", True),
                                 r("c", 6, 7, "y")])

    def test_incr(self):
        self.assertLinearizable([inc("a", 0, 1, 1), inc("b", 2, 3, 2), r("c", 4, 5, "2"),
                                 w("a", 6, 7, "abc"), inc("b", 8, 9, "ERR"), r("c", 10, 11, "abc")])
        # Concurrent increments return distinct values in either order.
        self.assertLinearizable([inc("a", 0, 10, 2), inc("b", 1, 9, 1), r("c", 11, 12, "2")])
        # An unknown increment explains a jump.
        self.assertLinearizable([inc("a", 0, 1, 1), unknown(inc("b", 2, 3, None)),
                                 inc("a", 4, 5, 3)])

    def test_transaction_is_atomic(self):
        self.assertLinearizable([w("a", 0, 1, "x"),
                                 txn("b", 2, 3, [("get", None), ("set", "y")], ["x", "OK"]),
                                 r("c", 4, 5, "y")])

    def test_keys_are_independent(self):
        self.assertLinearizable([w("a", 0, 1, "x", key="k1"), w("a", 2, 3, "y", key="k2"),
                                 r("b", 4, 5, "x", key="k1"), r("b", 6, 7, "y", key="k2")])

    def test_many_concurrent_ops_is_fast(self):
        # A larger linearizable history built from a sequential run with jittered intervals.
        rng = random.Random(7)
        hist, state, t = [], None, 0.0
        for i in range(3000):
            t += 1.0
            kind = rng.random()
            lo, hi = t - rng.random() * 3, t + rng.random() * 3
            if kind < 0.4:
                state = "v%d" % i
                op = w("c%d" % (i % 5), lo, hi, state)
                if rng.random() < 0.03:
                    op = unknown(op)
            elif kind < 0.9:
                op = r("c%d" % (i % 5), lo, hi, state)
            else:
                op = d("c%d" % (i % 5), lo, hi, 0 if state is None else 1)
                state = None
            hist.append(op)
        res = check_history(hist)["k"]
        self.assertEqual(res.verdict, "ok", report(res))


class NotLinearizable(unittest.TestCase):
    def assertViolation(self, history, key="k"):
        results = check_history(history)
        self.assertEqual(results[key].verdict, "violation")
        text = report(results[key])
        self.assertIn("NOT LINEARIZABLE", text)
        return text

    def test_stale_read_after_completed_write(self):
        text = self.assertViolation([w("a", 0, 1, "x"), w("a", 2, 3, "y"), r("b", 4, 5, "x")])
        self.assertIn("GET k", text)

    def test_read_of_initial_after_write(self):
        self.assertViolation([w("a", 0, 1, "x"), r("b", 2, 3, None)])

    def test_read_of_value_never_written(self):
        text = self.assertViolation([w("a", 0, 1, "x"), r("b", 2, 3, "ghost")])
        self.assertIn("never written", text)

    def test_two_reads_in_impossible_order(self):
        # Sequential writes x then y; one reader sees y and then, later, x again.
        self.assertViolation([w("a", 0, 1, "x"), w("a", 2, 10, "y"),
                              r("b", 3, 4, "y"), r("c", 5, 6, "x")])

    def test_reads_disagree_on_write_order(self):
        # Concurrent writes x and y; afterwards one reader sees x then y, the other y then x,
        # with all four reads sequential: impossible for one register.
        self.assertViolation([w("a", 0, 10, "x"), w("b", 0, 10, "y"),
                              r("c", 11, 12, "x"), r("d", 13, 14, "y"),
                              r("c", 15, 16, "x")])

    def test_failed_write_observed(self):
        self.assertViolation([w("a", 0, 1, "x", status="fail"), r("b", 2, 3, "x")])

    def test_lost_acknowledged_write(self):
        # An acknowledged write, then a final read (after a restart) that misses it.
        self.assertViolation([w("a", 0, 1, "x"), w("a", 2, 3, "y"),
                              unknown(w("b", 4, 5, "z")), r("final", 100, 101, "x")])

    def test_unknown_write_cannot_undo_itself(self):
        # An unknown write seen and then unseen (without another write) is impossible.
        self.assertViolation([w("a", 0, 1, "x"), unknown(w("b", 2, 3, "y")),
                              r("c", 4, 5, "y"), r("c", 6, 7, "x")])

    def test_del_count_wrong(self):
        self.assertViolation([w("a", 0, 1, "x"), d("b", 2, 3, 0)])

    def test_double_setnx_win(self):
        self.assertViolation([nx("a", 0, 5, "x", True), nx("b", 1, 4, "y", True)])

    def test_incr_duplicate(self):
        self.assertViolation([inc("a", 0, 1, 1), inc("b", 2, 3, 1)])

    def test_transaction_not_atomic(self):
        # Another write lands inside the transaction.
        self.assertViolation([w("a", 0, 1, "x"),
                              txn("b", 2, 10, [("get", None), ("get", None)], ["x", "y"]),
                              w("c", 3, 4, "y")])

    def test_violation_only_on_bad_key(self):
        results = check_history([w("a", 0, 1, "x", key="good"), r("b", 2, 3, "x", key="good"),
                                 w("a", 0, 1, "x", key="bad"), r("b", 2, 3, None, key="bad")])
        self.assertEqual(results["good"].verdict, "ok")
        self.assertEqual(results["bad"].verdict, "violation")

    def test_excerpt_is_cut_near_the_failure(self):
        # A long good history, a stale read in the middle, a long good tail.
        hist, t = [], 0.0
        for i in range(200):
            hist.append(w("a", t, t + 0.5, "v%d" % i))
            hist.append(r("b", t + 0.6, t + 0.9, "v%d" % i))
            t += 1.0
        hist.append(r("b", t, t + 0.5, "v3"))  # stale
        t += 1.0
        for i in range(200, 400):
            hist.append(w("a", t, t + 0.5, "v%d" % i))
            t += 1.0
        res = check_history(hist)["k"]
        self.assertEqual(res.verdict, "violation")
        ops, cut = res.excerpt
        self.assertAlmostEqual(cut, 200.5)
        text = report(res)
        self.assertIn(">>", text)
        self.assertIn("v3", text)


class Bounds(unittest.TestCase):
    def test_search_bound_gives_inconclusive(self):
        # Many overlapping unknown increments make the state space big; a tiny bound must stop
        # the search with "inconclusive" instead of running long.
        hist = [unknown(inc("c%d" % i, i * 0.01, 1, None)) for i in range(40)]
        hist += [inc("z", 2, 3, 1000)]  # impossible without >= 999 increments
        res = check_key("k", prepare(hist), max_states=5000)
        self.assertEqual(res.verdict, "inconclusive")
        self.assertIn("INCONCLUSIVE", report(res))


class CheckerCanFail(unittest.TestCase):
    """The checker must say "violation" on a random corruption of a sequential history."""

    def test_random_stale_reads_are_found(self):
        rng = random.Random(11)
        for trial in range(50):
            hist, state, values = [], None, []
            for i in range(30):
                t = float(i)
                if rng.random() < 0.5:
                    state = "v%d" % i
                    values.append(state)
                    hist.append(w("a", t, t + 0.5, state))
                else:
                    hist.append(r("b", t, t + 0.5, state))
            self.assertEqual(verdicts(hist).get("k", "ok"), "ok")
            # Corrupt one read that follows at least two writes to an older value.
            reads = [op for op in hist if op.f == "get" and op.result is not None
                     and values.index(op.result) >= 1]
            if not reads:
                continue
            victim = rng.choice(reads)
            victim.result = values[values.index(victim.result) - 1]
            self.assertEqual(verdicts(hist)["k"], "violation", "trial %d" % trial)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2 if "-v" in sys.argv else 1).result
    sys.exit(0 if result.wasSuccessful() else 1)
