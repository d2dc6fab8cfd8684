// Raft §5.2 elections and thesis §9.6 pre-vote, candidate side, one rule per test case.
#include <catch2/catch.hpp>

#include "actors/raft/candidate_logic.hpp"
#include "tests/paper/raft_test_support.hpp"

using namespace prez;
using namespace prez::raft;
using namespace prez::raft::test;

namespace {

/// A candidate of n1..n<size> that has won its pre-vote round and started the real election.
candidate_logic elected_phase(std::size_t size, std::uint64_t term,
                              raft_effects* fx_out = nullptr) {
  candidate_logic c(context_for("n1", size, term, {1}));
  c.start();
  auto fx = c.step(vote_reply("n2", "n1", term + 1, true, true));
  if (size == 5) fx.merge(c.step(vote_reply("n3", "n1", term + 1, true, true)));
  if (fx_out) *fx_out = std::move(fx);
  return c;
}

} // namespace

TEST_CASE("pre-vote does not bump term", "[paper][candidate][prevote]") {
  candidate_logic c(context_for("n1", 3, 4, {1, 4}));
  auto fx = c.start();
  CHECK(c.in_pre_vote());
  CHECK_FALSE(fx.hard_state_changed);
  CHECK(c.context().hard.term == 4);
  CHECK(c.context().hard.voted_for.empty());
  auto probes = sent<vote_request>(fx.messages);
  REQUIRE(probes.size() == 2);
  for (const auto& p : probes) {
    CHECK(p.pre_vote);
    CHECK(p.term == 5);
    CHECK(p.last_log_index == 2);
    CHECK(p.last_log_term == 4);
  }
  CHECK(fx.messages_after_persist.empty());
}

TEST_CASE("pre-vote majority starts the real election: term bump, self vote, requests after "
          "persist",
          "[paper][candidate][prevote]") {
  raft_effects fx;
  auto c = elected_phase(3, 4, &fx);
  CHECK_FALSE(c.in_pre_vote());
  CHECK(fx.hard_state_changed);
  CHECK(c.context().hard.term == 5);
  CHECK(c.context().hard.voted_for == "n1");
  CHECK(sent<vote_request>(fx.messages).empty());
  auto requests = sent<vote_request>(fx.messages_after_persist);
  REQUIRE(requests.size() == 2);
  CHECK_FALSE(requests[0].pre_vote);
  CHECK(requests[0].term == 5);
}

TEST_CASE("a pre-vote minority does not start the election", "[paper][candidate][prevote]") {
  candidate_logic c(context_for("n1", 5, 4, {1}));
  c.start();
  auto fx = c.step(vote_reply("n2", "n1", 5, true, true));
  fx.merge(c.step(vote_reply("n2", "n1", 5, true, true))); // duplicates count once
  CHECK(c.in_pre_vote());
  CHECK(c.context().hard.term == 4);
}

TEST_CASE("Figure 2 candidates: votes from a majority make a leader", "[paper][candidate]") {
  auto c = elected_phase(5, 1);
  auto fx = c.step(vote_reply("n2", "n1", 2, true));
  CHECK_FALSE(fx.next_role);
  fx = c.step(vote_reply("n2", "n1", 2, true)); // duplicate
  CHECK_FALSE(fx.next_role);
  fx = c.step(vote_reply("n4", "n1", 2, false));
  CHECK_FALSE(fx.next_role);
  fx = c.step(vote_reply("n3", "n1", 2, true));
  CHECK(fx.next_role == role::leader);
}

TEST_CASE("election safety: a candidate that voted for itself refuses rivals of its term",
          "[paper][candidate][safety]") {
  // Each server votes at most once per term, so two candidates cannot both hold a majority.
  auto c = elected_phase(3, 1);
  auto fx = c.step(vote("n2", "n1", 2, 9, 9));
  auto r = sent<vote_response>(fx.messages, "n2");
  REQUIRE(r.size() == 1);
  CHECK_FALSE(r[0].granted);
  CHECK(c.context().hard.voted_for == "n1");
  CHECK_FALSE(fx.next_role);
}

TEST_CASE("Figure 2 candidates: AppendEntries from a leader of the term converts to follower",
          "[paper][candidate]") {
  SECTION("real phase, same term") {
    auto c = elected_phase(3, 1);
    auto msg = append("n2", "n1", 2, 0, 0);
    auto fx = c.step(msg);
    CHECK(fx.next_role == role::follower);
    REQUIRE(fx.redeliver);
    CHECK(*fx.redeliver == msg);
    CHECK_FALSE(fx.hard_state_changed);
  }
  SECTION("pre-vote phase, current term") {
    candidate_logic c(context_for("n1", 3, 3, {1}));
    c.start();
    auto fx = c.step(append("n2", "n1", 3, 0, 0));
    CHECK(fx.next_role == role::follower);
    CHECK(fx.redeliver);
  }
  SECTION("higher term: hard state updated first") {
    auto c = elected_phase(3, 1);
    auto fx = c.step(append("n3", "n1", 9, 0, 0));
    CHECK(fx.next_role == role::follower);
    CHECK(fx.hard_state_changed);
    CHECK(c.context().hard.term == 9);
    CHECK(c.context().hard.voted_for.empty());
  }
  SECTION("older term: refused, still a candidate") {
    auto c = elected_phase(3, 4);
    auto fx = c.step(append("n3", "n1", 2, 0, 0));
    CHECK_FALSE(fx.next_role);
    auto r = sent<append_entries_response>(fx.messages, "n3");
    REQUIRE(r.size() == 1);
    CHECK_FALSE(r[0].success);
    CHECK(r[0].term == 5);
  }
}

TEST_CASE("a higher-term RequestVote ends the candidacy and is redelivered", "[paper][candidate]") {
  auto c = elected_phase(3, 1);
  auto msg = vote("n2", "n1", 7, 1, 1);
  auto fx = c.step(msg);
  CHECK(fx.next_role == role::follower);
  CHECK(fx.hard_state_changed);
  CHECK(c.context().hard.term == 7);
  CHECK(c.context().hard.voted_for.empty());
  REQUIRE(fx.redeliver);
  CHECK(*fx.redeliver == msg);
}

TEST_CASE("a refused pre-vote with a higher term steps down to that term",
          "[paper][candidate][prevote]") {
  candidate_logic c(context_for("n1", 3, 2, {1}));
  c.start();
  auto fx = c.step(vote_reply("n2", "n1", 6, false, true));
  CHECK(fx.next_role == role::follower);
  CHECK(fx.hard_state_changed);
  CHECK(c.context().hard.term == 6);
  // A refusal at our own term just counts as a refusal.
  candidate_logic d(context_for("n1", 3, 2, {1}));
  d.start();
  auto gx = d.step(vote_reply("n2", "n1", 2, false, true));
  CHECK_FALSE(gx.next_role);
  CHECK(d.context().hard.term == 2);
}

TEST_CASE("an unfinished round starts over from the pre-vote after a fresh timeout",
          "[paper][candidate][prevote]") {
  candidate_logic c(context_for("n1", 3, 2, {1}));
  c.start();
  c.step(vote_reply("n2", "n1", 3, true, true)); // into the real election, term 3
  REQUIRE_FALSE(c.in_pre_vote());
  raft_effects fx;
  int ticks = 0;
  while (sent<vote_request>(fx.messages).empty() && ticks < 100) {
    fx = c.tick();
    ++ticks;
  }
  CHECK(ticks >= 10);
  CHECK(ticks < 20);
  CHECK(c.in_pre_vote());
  CHECK(c.context().hard.term == 3);
  auto probes = sent<vote_request>(fx.messages);
  REQUIRE(probes.size() == 2);
  CHECK(probes[0].pre_vote);
  CHECK(probes[0].term == 4);
}

TEST_CASE("a single-node cluster becomes leader at once", "[paper][candidate]") {
  candidate_logic c(context_for("n1", 1, 3, {1}));
  auto fx = c.start();
  CHECK(fx.next_role == role::leader);
  CHECK(fx.hard_state_changed);
  CHECK(c.context().hard.term == 4);
  CHECK(c.context().hard.voted_for == "n1");
  CHECK(fx.messages.empty());
}

TEST_CASE("leader completeness: a candidate missing committed entries cannot win",
          "[paper][candidate][safety]") {
  // n1's log lacks entry 3 (term 2), which n2 and n3 hold (committed by a majority). Both refuse
  // it, pre-vote and real vote alike (§5.4.1 applied by the voters), so n1 never leads.
  candidate_logic c(context_for("n1", 3, 2, {1, 2}));
  c.start();
  auto fx = c.step(vote_reply("n2", "n1", 2, false, true));
  fx.merge(c.step(vote_reply("n3", "n1", 2, false, true)));
  CHECK(c.in_pre_vote());
  CHECK_FALSE(fx.next_role);
  CHECK(c.context().hard.term == 2);
}
