// Raft §7 (log compaction, InstallSnapshot) and the compacted log, one rule per test case.
#include <catch2/catch.hpp>

#include "actors/raft/candidate_logic.hpp"
#include "actors/raft/follower_logic.hpp"
#include "actors/raft/leader_logic.hpp"
#include "actors/raft/recovery.hpp"
#include "actors/raft/rules.hpp"
#include "tests/paper/raft_test_support.hpp"

using namespace prez;
using namespace prez::raft;
using namespace prez::raft::test;

namespace {

raft_message install(const std::string& from, const std::string& to, std::uint64_t term,
                     std::uint64_t last_index, std::uint64_t last_term, std::uint64_t offset,
                     std::string data, bool done) {
  return raft_message{from, to,
                      install_snapshot_request{term, last_index, last_term, offset, data, done}};
}

raft_message install_reply(const std::string& from, const std::string& to, std::uint64_t term,
                           std::uint64_t last_index, std::uint64_t next_offset, bool installed) {
  return raft_message{from, to,
                      install_snapshot_response{term, last_index, next_offset, installed}};
}

/// A leader n1 of a 3-node cluster at term 3 whose log 1..8 (terms 1,1,1,2,2,2,3,3) is committed
/// and which took snapshots at 6 and at 8 (120 bytes), compacting up to the previous one, 6 (no
/// trailing entries).
leader_logic compacted_leader() {
  auto c = context_for("n1", 3, 3, {1, 1, 1, 2, 2, 2, 3, 3});
  c.hard.voted_for = "n1";
  c.config.snapshot_trailing_entries = 0;
  c.config.snapshot_chunk_bytes = 50;
  c.config.snapshot_chunks_inflight_max = 2;
  c.commit_index = c.applied_index = 8;
  leader_logic l(std::move(c));
  auto fx = l.start(); // no-op at 9
  fx.merge(l.persisted(9, 3));
  auto first = l.snapshot_taken(snapshot_ref{6, 2, 100});
  REQUIRE_FALSE(first.compact_to.has_value()); // the first snapshot has no fallback yet
  auto compacted = l.snapshot_taken(snapshot_ref{8, 3, 120});
  REQUIRE(compacted.compact_to == 6u);
  return l;
}

} // namespace

TEST_CASE("compacted log: term_at knows the snapshot's end, not what it covers", "[paper][log]") {
  auto log = log_of({1, 1, 2, 2, 3});
  log.compact_to(3);
  CHECK(log.snapshot_index() == 3);
  CHECK(log.snapshot_term() == 2);
  CHECK(log.first_index() == 4);
  CHECK(log.term_at(3) == 2u);
  CHECK_FALSE(log.term_at(2).has_value());
  CHECK(log.term_at(0) == 0u);
  CHECK(log.term_at(5) == 3u);
  CHECK(log.last_index() == 5);
  CHECK(log.at(4).data == "e4");
  CHECK(log.size() == 2);
  log.compact_to(2); // older: no-op
  CHECK(log.snapshot_index() == 3);
  log.reset_to_snapshot(9, 4, membership{});
  CHECK(log.last_index() == 9);
  CHECK(log.last_term() == 4);
  CHECK(log.size() == 0);
}

TEST_CASE("§7 a durable snapshot compacts the log up to its end minus the trailing entries",
          "[paper][snapshot]") {
  auto c = context_for("n2", 3, 2, {1, 1, 2, 2, 2, 2});
  c.commit_index = c.applied_index = 6;
  c.config.snapshot_trailing_entries = 2;
  follower_logic f(std::move(c));
  // The first snapshot compacts nothing: the log is all there is to fall back on.
  CHECK_FALSE(f.snapshot_taken(snapshot_ref{3, 2, 50}).compact_to.has_value());
  auto fx = f.snapshot_taken(snapshot_ref{5, 2, 100});
  REQUIRE(fx.compact_to == 3u);
  CHECK(f.context().log.snapshot_index() == 3);
  CHECK(f.context().snapshot == snapshot_ref{5, 2, 100});
  // An older report changes nothing.
  auto again = f.snapshot_taken(snapshot_ref{4, 2, 90});
  CHECK_FALSE(again.compact_to.has_value());
  CHECK(f.context().snapshot.index == 5);
}

TEST_CASE("§7 the leader sends its snapshot in chunks to a follower behind its compacted log",
          "[paper][snapshot]") {
  auto l = compacted_leader();
  // n2 refuses the probe (prev 8): its log ends at 3, and 4.. were compacted away here.
  auto progress = l.progress().at("n2");
  REQUIRE(progress.inflight == 1);
  auto rejected =
      append_reply("n2", "n1", 3, false, 0, 0, 4, 0, progress.inflight_appends.front().prev_index);
  auto fx = l.step(rejected);
  REQUIRE(fx.snapshot_sends.size() == 2); // the window: two chunks of 50
  CHECK(fx.snapshot_sends[0].to == "n2");
  CHECK(fx.snapshot_sends[0].request.last_index == 8);
  CHECK(fx.snapshot_sends[0].request.last_term == 3);
  CHECK(fx.snapshot_sends[0].request.offset == 0);
  CHECK(fx.snapshot_sends[0].length == 50);
  CHECK(fx.snapshot_sends[1].request.offset == 50);
  CHECK(sent<append_entries_request>(fx.messages, "n2").empty());
  // A confirmation of the first chunk opens room for the last (20 bytes).
  fx = l.step(install_reply("n2", "n1", 3, 8, 50, false));
  REQUIRE(fx.snapshot_sends.size() == 1);
  CHECK(fx.snapshot_sends[0].request.offset == 100);
  CHECK(fx.snapshot_sends[0].length == 20);
  // Installed: replication continues from the snapshot's end.
  fx = l.step(install_reply("n2", "n1", 3, 8, 120, true));
  CHECK(l.progress().at("n2").match_index == 8);
  auto appends = sent<append_entries_request>(fx.messages, "n2");
  REQUIRE_FALSE(appends.empty());
  CHECK(appends[0].prev_log_index == 8);
  CHECK(appends[0].prev_log_term == 3);
  CHECK_FALSE(l.progress().at("n2").snapshot.has_value());
}

TEST_CASE("§7 a follower that lost its partial snapshot makes the leader resend from its offset",
          "[paper][snapshot]") {
  auto l = compacted_leader();
  auto progress = l.progress().at("n2");
  auto fx = l.step(
      append_reply("n2", "n1", 3, false, 0, 0, 1, 0, progress.inflight_appends.front().prev_index));
  REQUIRE(fx.snapshot_sends.size() == 2);
  fx = l.step(install_reply("n2", "n1", 3, 8, 50, false));
  REQUIRE(fx.snapshot_sends.size() == 1);
  fx = l.step(install_reply("n2", "n1", 3, 8, 0, false)); // it restarted
  REQUIRE_FALSE(fx.snapshot_sends.empty());
  CHECK(fx.snapshot_sends[0].request.offset == 0);
}

TEST_CASE("§7 InstallSnapshot of an older term is refused with our term", "[paper][snapshot]") {
  follower_logic f(context_for("n2", 3, 5, {1, 2}));
  auto fx = f.step(install("n1", "n2", 4, 9, 4, 0, "x", false));
  auto replies = sent<install_snapshot_response>(fx.messages, "n1");
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].term == 5);
  CHECK_FALSE(replies[0].installed);
  CHECK(fx.snapshot_writes.empty());
}

TEST_CASE("§7 a follower stores chunks in order and refuses a gap", "[paper][snapshot]") {
  follower_logic f(context_for("n2", 3, 3, {1, 1}));
  auto fx = f.step(install("n1", "n2", 3, 9, 3, 0, "abc", false));
  REQUIRE(fx.snapshot_writes.size() == 1);
  auto replies = sent<install_snapshot_response>(fx.messages, "n1");
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].next_offset == 3);
  CHECK(f.leader() == "n1");
  // A chunk past what we hold is not stored; the reply says where we are.
  fx = f.step(install("n1", "n2", 3, 9, 3, 10, "zzz", false));
  CHECK(fx.snapshot_writes.empty());
  replies = sent<install_snapshot_response>(fx.messages, "n1");
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].next_offset == 3);
  // The last chunk goes to storage; the answer waits for snapshot_received.
  fx = f.step(install("n1", "n2", 3, 9, 3, 3, "de", true));
  REQUIRE(fx.snapshot_writes.size() == 1);
  CHECK(fx.snapshot_writes[0].chunk.done);
  CHECK(sent<install_snapshot_response>(fx.messages).empty());
}

TEST_CASE("§7 (Figure 13, 7) an installed snapshot the log does not contain replaces the log",
          "[paper][snapshot]") {
  follower_logic f(context_for("n2", 3, 3, {1, 1, 2}));
  f.step(install("n1", "n2", 3, 9, 3, 0, "abcde", true));
  auto fx = f.snapshot_received(snapshot_ref{9, 3, 5}, true, membership{});
  REQUIRE(fx.reset_log_to == 10u);
  REQUIRE(fx.restore == snapshot_ref{9, 3, 5});
  CHECK(fx.committed.empty());
  const auto& c = f.context();
  CHECK(c.log.last_index() == 9);
  CHECK(c.log.last_term() == 3);
  CHECK(c.commit_index == 9);
  CHECK(c.applied_index == 9);
  CHECK(c.snapshot.index == 9);
  // "installed" claims a matching log: only after the reset is durable.
  CHECK(sent<install_snapshot_response>(fx.messages).empty());
  auto held = sent<install_snapshot_response>(fx.messages_after_persist, "n1");
  REQUIRE(held.size() == 1);
  CHECK(held[0].installed);
  CHECK(held[0].last_index == 9);
  // The log continues after the snapshot.
  auto next = f.step(append("n1", "n2", 3, 9, 3, {entry(10, 3)}, 10));
  auto ok = sent<append_entries_response>(next.messages_after_persist, "n1");
  REQUIRE(ok.size() == 1);
  CHECK(ok[0].success);
  CHECK(ok[0].match_index == 10);
  REQUIRE(next.committed.size() == 1);
  CHECK(next.committed[0].index == 10);
}

TEST_CASE("§7 (Figure 13, 6) a log holding the snapshot's last entry keeps what follows",
          "[paper][snapshot]") {
  follower_logic f(context_for("n2", 3, 3, {1, 1, 2, 3, 3}));
  f.step(install("n1", "n2", 3, 3, 2, 0, "abc", true));
  auto fx = f.snapshot_received(snapshot_ref{3, 2, 3}, true, membership{});
  CHECK_FALSE(fx.reset_log_to.has_value());
  REQUIRE(fx.restore == snapshot_ref{3, 2, 3});
  CHECK(f.context().log.last_index() == 5);
  CHECK(f.context().applied_index == 3);
}

TEST_CASE("§7 a refused (damaged) snapshot makes the follower ask for it from the start",
          "[paper][snapshot]") {
  follower_logic f(context_for("n2", 3, 3, {1}));
  f.step(install("n1", "n2", 3, 9, 3, 0, "abc", true));
  auto fx = f.snapshot_received(snapshot_ref{9, 3, 0}, false, membership{});
  CHECK_FALSE(fx.restore.has_value());
  auto replies = sent<install_snapshot_response>(fx.messages, "n1");
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].next_offset == 0);
  CHECK_FALSE(replies[0].installed);
  CHECK(f.context().log.last_index() == 1);
}

TEST_CASE("§7 a snapshot covering only what is committed is acknowledged at once",
          "[paper][snapshot]") {
  auto c = context_for("n2", 3, 3, {1, 1, 2, 3});
  c.commit_index = 4;
  follower_logic f(std::move(c));
  auto fx = f.step(install("n1", "n2", 3, 3, 2, 0, "abc", false));
  CHECK(fx.snapshot_writes.empty());
  auto held = sent<install_snapshot_response>(fx.messages_after_persist, "n1");
  REQUIRE(held.size() == 1);
  CHECK(held[0].installed);
}

TEST_CASE("§5.3 with §7: an append reaching into the follower's snapshot is checked from its end",
          "[paper][snapshot]") {
  auto c = context_for("n2", 3, 3, {1, 1, 2, 2, 2});
  c.commit_index = c.applied_index = 5;
  c.config.snapshot_trailing_entries = 0;
  follower_logic f(std::move(c));
  f.snapshot_taken(snapshot_ref{4, 2, 10});
  f.snapshot_taken(snapshot_ref{5, 2, 12});
  REQUIRE(f.context().log.snapshot_index() == 4);
  // prev 2 is compacted here; entries 3..5 overlap what we hold, 6 is new.
  auto fx =
      f.step(append("n1", "n2", 3, 2, 1, {entry(3, 2), entry(4, 2), entry(5, 2), entry(6, 3)}, 6));
  auto ok = sent<append_entries_response>(fx.messages_after_persist, "n1");
  REQUIRE(ok.size() == 1);
  CHECK(ok[0].success);
  CHECK(ok[0].match_index == 6);
  CHECK(f.context().log.last_index() == 6);
  // Entirely inside the snapshot: success up to the snapshot's end.
  fx = f.step(append("n1", "n2", 3, 1, 1, {entry(2, 1)}, 6));
  ok = sent<append_entries_response>(fx.messages_after_persist, "n1");
  REQUIRE(ok.size() == 1);
  CHECK(ok[0].success);
  CHECK(ok[0].match_index == 4);
}

TEST_CASE("§7 a candidate hearing InstallSnapshot of its term follows the leader",
          "[paper][snapshot]") {
  auto c = context_for("n2", 3, 3, {1});
  candidate_logic cand(std::move(c));
  cand.start();
  const auto term = cand.context().hard.term;
  auto fx = cand.step(install("n1", "n2", term, 9, 3, 0, "abc", false));
  REQUIRE(fx.next_role == role::follower);
  REQUIRE(fx.redeliver.has_value());
}

namespace {
std::vector<log_entry> entries_from(std::uint64_t first, const std::vector<std::uint64_t>& terms) {
  std::vector<log_entry> out;
  for (std::size_t i = 0; i < terms.size(); ++i)
    out.push_back(entry(first + i, terms[i]));
  return out;
}
} // namespace

TEST_CASE("recovery: the newest snapshot, then the log after it when the log continues it",
          "[recovery]") {
  using prez::raft::plan_recovery;
  using prez::raft::recovery_plan;
  // No snapshot: the whole log, which must start at 1.
  auto plain = plan_recovery({}, 1, entries_from(1, {1, 1, 2}));
  REQUIRE(std::holds_alternative<recovery_plan>(plain));
  CHECK(std::get<recovery_plan>(plain).log.last_index() == 3);
  CHECK(std::holds_alternative<std::string>(plan_recovery({}, 4, entries_from(4, {2}))));
  // The log holds the snapshot's end with its term: kept after it.
  auto kept = plan_recovery({5, 2, 10}, 3, entries_from(3, {1, 2, 2, 2, 3}));
  REQUIRE(std::holds_alternative<recovery_plan>(kept));
  const auto& k = std::get<recovery_plan>(kept);
  CHECK_FALSE(k.reset_log);
  CHECK(k.log.snapshot_index() == 5);
  CHECK(k.log.last_index() == 7);
  CHECK(k.log.at(6).term == 2);
  // It disagrees at the snapshot's end: an older history, dropped.
  auto other = plan_recovery({5, 3, 10}, 3, entries_from(3, {1, 2, 2, 2, 3}));
  REQUIRE(std::holds_alternative<recovery_plan>(other));
  CHECK(std::get<recovery_plan>(other).reset_log);
  CHECK(std::get<recovery_plan>(other).log.last_index() == 5);
  // It ends before the snapshot: dropped too.
  auto shorter = plan_recovery({9, 3, 10}, 1, entries_from(1, {1, 1}));
  REQUIRE(std::holds_alternative<recovery_plan>(shorter));
  CHECK(std::get<recovery_plan>(shorter).reset_log);
  // It starts right after the snapshot (a reset log): kept.
  auto after = plan_recovery({5, 2, 10}, 6, entries_from(6, {2, 3}));
  REQUIRE(std::holds_alternative<recovery_plan>(after));
  CHECK_FALSE(std::get<recovery_plan>(after).reset_log);
  CHECK(std::get<recovery_plan>(after).log.last_index() == 7);
  // An empty log after a reset continues the snapshot it was reset for, and no other.
  auto empty = plan_recovery({5, 2, 10}, 6, {});
  REQUIRE(std::holds_alternative<recovery_plan>(empty));
  CHECK_FALSE(std::get<recovery_plan>(empty).reset_log);
  auto older = plan_recovery({3, 2, 10}, 6, {});
  REQUIRE(std::holds_alternative<std::string>(older));
  auto unreset = plan_recovery({9, 3, 10}, 6, {});
  REQUIRE(std::holds_alternative<recovery_plan>(unreset));
  CHECK(std::get<recovery_plan>(unreset).reset_log);
  CHECK(std::holds_alternative<std::string>(plan_recovery({}, 6, {})));
  // A gap between the snapshot and the log: refuse to start.
  auto gap = plan_recovery({5, 2, 10}, 8, entries_from(8, {3}));
  REQUIRE(std::holds_alternative<std::string>(gap));
  CHECK(std::get<std::string>(gap).find("in neither") != std::string::npos);
}

TEST_CASE("a peer whose log ends before what it acknowledged lost its disk: the leader starts it "
          "over",
          "[paper][snapshot]") {
  auto c = context_for("n1", 3, 3, {1, 2});
  c.hard.voted_for = "n1";
  leader_logic l(std::move(c));
  auto fx = l.start(); // no-op at 3
  fx.merge(l.persisted(3, 3));
  l.step(append_reply("n2", "n1", 3, true, 3));
  REQUIRE(l.progress().at("n2").match_index == 3);
  // One answer saying n2's log ends at 0 may have been overtaken by its acknowledgement of 3.
  fx = l.step(append_reply("n2", "n1", 3, false, 0, 0, 1, 0, 3));
  CHECK(l.progress().at("n2").match_index == 3);
  // A later heartbeat round says it again: n2 came back with an empty data dir.
  l.tick();
  l.tick();
  fx = l.step(append_reply("n2", "n1", 3, false, 0, 0, 1, 0, 3));
  CHECK(l.progress().at("n2").match_index == 0);
  auto probes = sent<append_entries_request>(fx.messages, "n2");
  REQUIRE(probes.size() == 1);
  CHECK(probes[0].prev_log_index == 0);
  // Its acknowledgement of 3 was already counted: the commit index stays.
  CHECK(l.context().commit_index == 3);
}
