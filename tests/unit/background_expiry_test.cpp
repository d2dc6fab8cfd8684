// Background expiry (docs/decisions.md D33): the earliest deadline the state knows
// (kv_state::next_deadline_ms), when the state machine reports it (worth_reporting), and when a
// leader appends a clock entry for it (expiry_clock).

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "actors/raft/background_expiry.hpp"
#include "actors/state_machine/kv_state.hpp"
#include "config/limits.hpp"

using namespace prez;
using raft::deadline_report;
using raft::expiry_clock;

namespace {

constexpr std::uint64_t t0 = 1'000'000;

deadline_report at(std::uint64_t index, std::uint64_t clock,
                   std::optional<std::uint64_t> deadline) {
  return deadline_report{index, clock, deadline};
}

} // namespace

TEST_CASE("next_deadline_ms: none, the earliest key, the earliest blocked client",
          "[background_expiry]") {
  kv_state kv;
  CHECK(kv.next_deadline_ms() == std::nullopt);
  kv.apply({"SET", "plain", "v"}, t0);
  CHECK(kv.next_deadline_ms() == std::nullopt);
  kv.apply({"SET", "late", "v", "PX", "5000"}, t0);
  CHECK(kv.next_deadline_ms() == t0 + 5000);
  kv.apply({"SET", "early", "v", "PX", "300"}, t0);
  CHECK(kv.next_deadline_ms() == t0 + 300);
  // A blocked client without a timeout has no deadline; one with a timeout has timeout + grace.
  CHECK(kv.apply_client(7, 1, {"BLPOP", "q", "0"}, t0) == std::nullopt);
  CHECK(kv.next_deadline_ms() == t0 + 300);
  CHECK(kv.apply_client(8, 1, {"BLPOP", "q2", "1"}, t0 - 20'000) == std::nullopt);
  // t0 - 20'000 is below the cluster clock: the deadline counts from the clock (t0).
  CHECK(kv.next_deadline_ms() == t0 + 300);
  kv.apply({"PERSIST", "early"}, t0);
  kv.apply({"PERSIST", "late"}, t0);
  CHECK(kv.next_deadline_ms() == t0 + 1000 + limits::blocked_deadline_grace_ms);
  // The blocked client's deadline comes first when it is earlier than every key's.
  kv.apply({"SET", "k", "v", "PX", "60000"}, t0);
  CHECK(kv.next_deadline_ms() == t0 + 1000 + limits::blocked_deadline_grace_ms);
  // A clock entry past the deadline times the client out; the key's deadline is next.
  kv.advance_clock(t0 + 1000 + limits::blocked_deadline_grace_ms);
  CHECK(kv.take_served().size() == 1);
  CHECK(kv.next_deadline_ms() == t0 + 60000);
  kv.apply({"DEL", "k"}, t0 + 20'000);
  CHECK(kv.next_deadline_ms() == std::nullopt);
  CHECK(kv.blocked_count() == 1); // the one without a timeout stays
}

TEST_CASE("after a bounded active expiry the next deadline is still due", "[background_expiry]") {
  kv_state kv;
  const std::size_t n = limits::kv_expire_per_apply_max * 2 + 5;
  for (std::size_t i = 0; i < n; ++i)
    kv.apply({"SET", "k" + std::to_string(i), "v", "PX", "100"}, t0);
  kv.apply({"SET", "later", "v", "PX", "10000"}, t0);
  CHECK(kv.next_deadline_ms() == t0 + 100);
  // Each clock entry deletes at most kv_expire_per_apply_max keys: until the backlog is gone the
  // next deadline stays <= the clock, so the leader appends another.
  std::size_t entries = 0;
  while (kv.next_deadline_ms() && *kv.next_deadline_ms() <= t0 + 200) {
    const auto before = kv.size();
    kv.advance_clock(t0 + 200);
    ++entries;
    CHECK(before - kv.size() <= limits::kv_expire_per_apply_max);
    if (kv.size() > 1) CHECK(*kv.next_deadline_ms() <= kv.keys().clock_ms());
  }
  CHECK(entries == 3);
  CHECK(kv.size() == 1);
  CHECK(kv.next_deadline_ms() == t0 + 10000);
}

TEST_CASE("worth_reporting: the first report, a changed deadline, a deadline still due",
          "[background_expiry]") {
  CHECK(raft::worth_reporting(std::nullopt, at(1, t0, std::nullopt)));
  CHECK(raft::worth_reporting(std::nullopt, at(1, t0, t0 + 5)));
  const auto last = at(3, t0, t0 + 300);
  CHECK_FALSE(raft::worth_reporting(last, at(4, t0 + 10, t0 + 300))); // nothing new
  CHECK(raft::worth_reporting(last, at(4, t0 + 10, t0 + 200)));       // earlier
  CHECK(raft::worth_reporting(last, at(4, t0 + 10, std::nullopt)));   // gone
  CHECK(raft::worth_reporting(last, at(4, t0 + 300, t0 + 300)));      // still due (backlog)
  CHECK_FALSE(raft::worth_reporting(at(3, t0, std::nullopt), at(4, t0 + 1, std::nullopt)));
}

TEST_CASE("expiry_clock: nothing known, nothing due", "[background_expiry]") {
  expiry_clock clock;
  CHECK_FALSE(clock.due(t0));
  clock.report(at(1, t0, std::nullopt));
  CHECK_FALSE(clock.due(t0 + 1'000'000));
}

TEST_CASE("expiry_clock: due once the deadline passes on the leader's clock, one entry at a time",
          "[background_expiry]") {
  expiry_clock clock;
  clock.report(at(5, t0, t0 + 300));
  CHECK_FALSE(clock.due(t0 + 299));
  CHECK(clock.due(t0 + 300));
  clock.stamped(t0 + 300, 6); // the clock entry, index 6
  CHECK(clock.pending_index() == 6);
  CHECK_FALSE(clock.due(t0 + 400)); // not applied yet: no second one
  CHECK_FALSE(clock.due(t0 + 100'000));
  clock.report(at(6, t0 + 300, std::nullopt)); // applied: the key is gone
  CHECK(clock.pending_index() == 0);
  CHECK_FALSE(clock.due(t0 + 100'000));
}

TEST_CASE("expiry_clock: a backlog takes several entries, rate-limited", "[background_expiry]") {
  expiry_clock clock;
  clock.report(at(5, t0, t0 + 100));
  REQUIRE(clock.due(t0 + 100));
  clock.stamped(t0 + 100, 6);
  // Applied, but the per-entry bound left keys due at the cluster clock.
  clock.report(at(6, t0 + 100, t0 + 100));
  CHECK(clock.pending_index() == 0);
  CHECK_FALSE(clock.due(t0 + 100 + limits::background_expiry_interval_ms - 1));
  CHECK(clock.due(t0 + 100 + limits::background_expiry_interval_ms));
  clock.stamped(t0 + 100 + limits::background_expiry_interval_ms, 7);
  CHECK_FALSE(clock.due(t0 + 1000));
  clock.report(at(7, t0 + 120, t0 + 5000));
  CHECK_FALSE(clock.due(t0 + 1000));
  CHECK(clock.due(t0 + 5000));
}

TEST_CASE("expiry_clock: a backlog due at the cluster clock is due even when the leader's clock "
          "is behind",
          "[background_expiry]") {
  expiry_clock clock;
  // A new leader whose wall clock is 3 s behind the cluster clock: keys already due at the
  // cluster clock (left by the bound) still get entries; a future deadline waits for its clock.
  clock.report(at(9, t0, t0 - 10));
  CHECK(clock.due(t0 - 3000));
  clock.report(at(9, t0, t0 + 10));
  CHECK_FALSE(clock.due(t0 - 3000));
  CHECK(clock.due(t0 + 10));
}

TEST_CASE("expiry_clock: any batch stamped past the deadline does the work of a clock entry",
          "[background_expiry]") {
  expiry_clock clock;
  clock.report(at(5, t0, t0 + 300));
  clock.stamped(t0 + 100, 6); // a write before the deadline: nothing pending
  CHECK(clock.pending_index() == 0);
  clock.stamped(t0 + 350, 9); // a write batch after it: its entries run active expiry
  CHECK(clock.pending_index() == 9);
  CHECK_FALSE(clock.due(t0 + 400));
  clock.report(at(9, t0 + 350, std::nullopt));
  CHECK_FALSE(clock.due(t0 + 400));
}

TEST_CASE("expiry_clock: a command that removed the due key first does not leave it waiting",
          "[background_expiry]") {
  expiry_clock clock;
  clock.report(at(5, t0, t0 + 300));
  clock.stamped(t0 + 300, 7); // clock entry at 7
  // Entry 6 (a DEL of the key, stamped earlier) is applied: the earliest deadline is now a later
  // one, not due. The state machine will not report again after 7 (nothing changes there).
  clock.report(at(6, t0 + 290, t0 + 2000));
  CHECK(clock.pending_index() == 0);
  CHECK_FALSE(clock.due(t0 + 1999));
  CHECK(clock.due(t0 + 2000));
}
