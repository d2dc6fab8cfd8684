// Raft paper Figure 2 and §5.4, follower side, one rule per test case.
#include <catch2/catch.hpp>

#include "actors/raft/follower_logic.hpp"
#include "tests/paper/raft_test_support.hpp"

using namespace prez;
using namespace prez::raft;
using namespace prez::raft::test;

TEST_CASE("Figure 2 AppendEntries: reply false if term < currentTerm", "[paper][follower]") {
  follower_logic f(context_for("n2", 3, 3, {1, 2}));
  auto fx = f.step(append("n1", "n2", 2, 2, 2, {entry(3, 2)}));
  auto replies = sent<append_entries_response>(fx.messages, "n1");
  REQUIRE(replies.size() == 1);
  CHECK_FALSE(replies[0].success);
  CHECK(replies[0].term == 3);
  CHECK(fx.messages_after_persist.empty());
  CHECK_FALSE(fx.has_writes());
  CHECK(f.context().log.last_index() == 2);
  CHECK(f.leader().empty());
}

TEST_CASE("Figure 2 AppendEntries: reply false if log has no entry at prevLogIndex matching "
          "prevLogTerm (fast back-off conflict hints)",
          "[paper][follower]") {
  SECTION("log too short: conflict_term 0, conflict_index last_index + 1") {
    follower_logic f(context_for("n2", 3, 3, {1, 1}));
    auto fx = f.step(append("n1", "n2", 3, 5, 3));
    auto r = sent<append_entries_response>(fx.messages, "n1");
    REQUIRE(r.size() == 1);
    CHECK_FALSE(r[0].success);
    CHECK(r[0].conflict_term == 0);
    CHECK(r[0].conflict_index == 3);
  }
  SECTION("term mismatch: conflict_term and the first index of that term") {
    follower_logic f(context_for("n2", 3, 4, {1, 2, 2, 2}));
    auto fx = f.step(append("n1", "n2", 4, 4, 3));
    auto r = sent<append_entries_response>(fx.messages, "n1");
    REQUIRE(r.size() == 1);
    CHECK_FALSE(r[0].success);
    CHECK(r[0].conflict_term == 2);
    CHECK(r[0].conflict_index == 2);
    CHECK(f.context().log.last_index() == 4); // nothing removed on a mismatch
  }
}

TEST_CASE("Figure 2 AppendEntries: an existing entry that conflicts is deleted with all that "
          "follow it",
          "[paper][follower]") {
  auto c = context_for("n2", 3, 3, {1, 1, 2, 2});
  follower_logic f(std::move(c));
  auto fx = f.step(append("n1", "n2", 3, 2, 1, {entry(3, 3, "x"), entry(4, 3, "y")}));
  REQUIRE(fx.truncate_from == 3u);
  REQUIRE(fx.entries_to_persist.size() == 2);
  CHECK(fx.entries_to_persist[0].data == "x");
  CHECK(f.context().log.last_index() == 4);
  CHECK(f.context().log.term_at(3) == 3u);
  // What was durable past the cut no longer counts as persisted.
  CHECK(f.context().persisted_index == 2);
}

TEST_CASE("Figure 2 AppendEntries: append any new entries not already in the log",
          "[paper][follower]") {
  follower_logic f(context_for("n2", 3, 2, {1}));
  auto request = append("n1", "n2", 2, 1, 1, {entry(2, 2), entry(3, 2)});
  auto first = f.step(request);
  CHECK(first.entries_to_persist.size() == 2);
  CHECK_FALSE(first.truncate_from);
  // The same request again (a duplicate) changes nothing but is acknowledged again.
  auto again = f.step(request);
  CHECK(again.entries_to_persist.empty());
  CHECK_FALSE(again.truncate_from);
  auto acks = sent<append_entries_response>(again.messages_after_persist, "n1");
  REQUIRE(acks.size() == 1);
  CHECK(acks[0].success);
  CHECK(acks[0].match_index == 3);
  // An older, shorter request arriving late never truncates the newer entries.
  auto late = f.step(append("n1", "n2", 2, 1, 1, {entry(2, 2)}));
  CHECK_FALSE(late.truncate_from);
  CHECK(f.context().log.last_index() == 3);
}

TEST_CASE("Figure 2 AppendEntries: commitIndex = min(leaderCommit, index of last new entry)",
          "[paper][follower]") {
  follower_logic f(context_for("n2", 3, 2, {1}));
  auto fx = f.step(append("n1", "n2", 2, 1, 1, {entry(2, 2)}, 5));
  CHECK(f.context().commit_index == 2);
  REQUIRE(fx.committed.size() == 2);
  CHECK(fx.committed[0].index == 1);
  CHECK(fx.committed[1].index == 2);
  CHECK(f.context().applied_index == 2);
  // A heartbeat anchored lower only commits what it proves.
  follower_logic g(context_for("n2", 3, 2, {1, 1, 1}));
  g.step(append("n1", "n2", 2, 1, 1, {}, 3));
  CHECK(g.context().commit_index == 1);
}

TEST_CASE("follower success response only in messages_after_persist", "[paper][follower]") {
  follower_logic f(context_for("n2", 3, 2, {1}));
  auto fx = f.step(append("n1", "n2", 2, 1, 1, {entry(2, 2)}, 0, 9));
  CHECK(sent<append_entries_response>(fx.messages).empty());
  auto acks = sent<append_entries_response>(fx.messages_after_persist, "n1");
  REQUIRE(acks.size() == 1);
  CHECK(acks[0].success);
  CHECK(acks[0].match_index == 2);
  CHECK(acks[0].heartbeat_seq == 9);
  // Even a pure heartbeat (no writes) acknowledges only after a sync barrier.
  auto hb = f.step(append("n1", "n2", 2, 2, 2, {}, 0, 10));
  CHECK_FALSE(hb.has_writes());
  CHECK(sent<append_entries_response>(hb.messages).empty());
  CHECK(sent<append_entries_response>(hb.messages_after_persist).size() == 1);
}

TEST_CASE("Figure 2 all servers: a higher term is adopted, the vote cleared, the leader "
          "recorded",
          "[paper][follower]") {
  auto c = context_for("n2", 3, 2, {1});
  c.hard.voted_for = "n3";
  follower_logic f(std::move(c));
  auto fx = f.step(append("n1", "n2", 5, 1, 1));
  CHECK(fx.hard_state_changed);
  CHECK(f.context().hard.term == 5);
  CHECK(f.context().hard.voted_for.empty());
  CHECK(f.leader() == "n1");
  CHECK_FALSE(fx.next_role);
}

TEST_CASE("Figure 2 RequestVote: reply false if term < currentTerm", "[paper][follower]") {
  follower_logic f(context_for("n2", 3, 4, {1}));
  auto fx = f.step(vote("n3", "n2", 3, 9, 3));
  auto r = sent<vote_response>(fx.messages, "n3");
  REQUIRE(r.size() == 1);
  CHECK_FALSE(r[0].granted);
  CHECK(r[0].term == 4);
  CHECK(f.context().hard.voted_for.empty());
}

TEST_CASE("Figure 2 RequestVote: grant if votedFor is null or candidateId, once per term, "
          "durably",
          "[paper][follower]") {
  follower_logic f(context_for("n2", 3, 1, {1}));
  auto fx = f.step(vote("n3", "n2", 2, 1, 1));
  CHECK(fx.hard_state_changed);
  CHECK(f.context().hard.term == 2);
  CHECK(f.context().hard.voted_for == "n3");
  CHECK(sent<vote_response>(fx.messages).empty());
  auto granted = sent<vote_response>(fx.messages_after_persist, "n3");
  REQUIRE(granted.size() == 1);
  CHECK(granted[0].granted);
  // Asking again (a retry) is granted again; another candidate of the same term is refused.
  auto retry = f.step(vote("n3", "n2", 2, 1, 1));
  CHECK(sent<vote_response>(retry.messages_after_persist, "n3").at(0).granted);
  auto other = f.step(vote("n1", "n2", 2, 5, 2));
  auto refused = sent<vote_response>(other.messages, "n1");
  REQUIRE(refused.size() == 1);
  CHECK_FALSE(refused[0].granted);
  CHECK(f.context().hard.voted_for == "n3");
}

TEST_CASE("§5.4.1 election restriction", "[paper][follower]") {
  // Our log ends at (3, term 2).
  SECTION("candidate's last term is older: refused, even with a longer log") {
    follower_logic f(context_for("n2", 3, 2, {1, 2, 2}));
    auto fx = f.step(vote("n3", "n2", 3, 10, 1));
    // The refusal carries the newly adopted term, so it too waits for the hard state write.
    CHECK(sent<vote_response>(fx.messages).empty());
    CHECK_FALSE(sent<vote_response>(fx.messages_after_persist, "n3").at(0).granted);
    CHECK(f.context().hard.term == 3); // the term is still adopted
  }
  SECTION("same last term, shorter log: refused") {
    follower_logic f(context_for("n2", 3, 2, {1, 2, 2}));
    auto fx = f.step(vote("n3", "n2", 3, 2, 2));
    CHECK_FALSE(sent<vote_response>(fx.messages_after_persist, "n3").at(0).granted);
  }
  SECTION("same last term, same length: granted") {
    follower_logic f(context_for("n2", 3, 2, {1, 2, 2}));
    auto fx = f.step(vote("n3", "n2", 3, 3, 2));
    CHECK(sent<vote_response>(fx.messages_after_persist, "n3").at(0).granted);
  }
  SECTION("newer last term, shorter log: granted") {
    follower_logic f(context_for("n2", 3, 2, {1, 2, 2}));
    auto fx = f.step(vote("n3", "n2", 4, 1, 3));
    CHECK(sent<vote_response>(fx.messages_after_persist, "n3").at(0).granted);
  }
}

TEST_CASE("Figure 2 followers: election timeout in [T, 2T) ticks converts to candidate",
          "[paper][follower]") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    follower_logic f(context_for("n2", 3, 1, {}, seed));
    f.start();
    std::uint32_t ticks = 0;
    raft_effects fx;
    while (!fx.next_role && ticks < 100) {
      fx = f.tick();
      ++ticks;
    }
    CHECK(fx.next_role == role::candidate);
    CHECK(ticks >= 10);
    CHECK(ticks < 20);
  }
}

TEST_CASE("hearing from the leader resets the election timer", "[paper][follower]") {
  follower_logic f(context_for("n2", 3, 1, {}));
  for (int i = 0; i < 100; ++i) {
    auto fx = f.tick();
    REQUIRE_FALSE(fx.next_role);
    f.step(append("n1", "n2", 1, 0, 0));
  }
}

TEST_CASE("pre-vote refused while a leader is heard from (thesis §9.6 leader stickiness)",
          "[paper][follower][prevote]") {
  follower_logic f(context_for("n2", 3, 2, {1}));
  f.step(append("n1", "n2", 2, 1, 1));
  auto fx = f.step(vote("n3", "n2", 3, 1, 1, true));
  auto r = sent<vote_response>(fx.messages, "n3");
  REQUIRE(r.size() == 1);
  CHECK_FALSE(r[0].granted);
  CHECK(r[0].pre_vote);
  CHECK(r[0].term == 2);
  // Once the leader has been silent for an election timeout, the same probe is granted.
  for (int i = 0; i < 10; ++i)
    f.tick();
  auto later = f.step(vote("n3", "n2", 3, 1, 1, true));
  auto g = sent<vote_response>(later.messages, "n3");
  REQUIRE(g.size() == 1);
  CHECK(g[0].granted);
  CHECK(g[0].term == 3);
}

TEST_CASE("pre-vote does not bump term (voter side)", "[paper][follower][prevote]") {
  follower_logic f(context_for("n2", 3, 2, {1}));
  auto fx = f.step(vote("n3", "n2", 7, 1, 1, true));
  CHECK_FALSE(fx.hard_state_changed);
  CHECK(f.context().hard.term == 2);
  CHECK(f.context().hard.voted_for.empty());
  CHECK(sent<vote_response>(fx.messages, "n3").at(0).granted);
  // A pre-vote for a candidate with a stale log is refused.
  auto stale = f.step(vote("n3", "n2", 7, 0, 0, true));
  CHECK_FALSE(sent<vote_response>(stale.messages, "n3").at(0).granted);
}

TEST_CASE("persisted() advances persisted_index only for the entry still in the log",
          "[paper][follower]") {
  auto c = context_for("n2", 3, 2, {1});
  c.persisted_index = 0;
  follower_logic f(std::move(c));
  f.step(append("n1", "n2", 2, 1, 1, {entry(2, 2)}));
  f.persisted(2, 1); // wrong term: a report about an entry since replaced
  CHECK(f.context().persisted_index == 0);
  f.persisted(2, 2);
  CHECK(f.context().persisted_index == 2);
}

TEST_CASE("log matching: entries are accepted only after a matching predecessor",
          "[paper][follower][safety]") {
  // If two logs hold an entry with the same index and term, the logs are identical up to it:
  // the follower only appends after checking (prev_index, prev_term), so it never holds an
  // entry whose predecessor differs from the leader's.
  follower_logic f(context_for("n2", 3, 3, {1, 1, 2}));
  auto rejected = f.step(append("n1", "n2", 3, 3, 3, {entry(4, 3)}));
  CHECK(rejected.entries_to_persist.empty());
  CHECK(f.context().log.last_index() == 3);
  auto accepted = f.step(append("n1", "n2", 3, 2, 1, {entry(3, 3), entry(4, 3)}));
  CHECK(accepted.truncate_from == 3u);
  CHECK(f.context().log.term_at(3) == 3u);
  CHECK(f.context().log.term_at(4) == 3u);
}

TEST_CASE("state machine safety: committed entries reach the state machine once, in order",
          "[paper][follower][safety]") {
  follower_logic f(context_for("n2", 3, 2, {1, 1}));
  std::vector<std::uint64_t> applied;
  auto collect = [&](const raft_effects& fx) {
    for (const auto& e : fx.committed)
      applied.push_back(e.index);
  };
  collect(f.step(append("n1", "n2", 2, 2, 1, {}, 1)));
  collect(f.step(append("n1", "n2", 2, 2, 1, {entry(3, 2)}, 3)));
  collect(f.step(append("n1", "n2", 2, 2, 1, {entry(3, 2)}, 3))); // duplicate
  collect(f.step(append("n1", "n2", 2, 1, 1, {}, 3)));            // stale, lower anchor
  CHECK(applied == std::vector<std::uint64_t>{1, 2, 3});
}
