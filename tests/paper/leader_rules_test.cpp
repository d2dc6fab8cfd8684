// Raft §5.3, §5.4.2, §8 and thesis §6.2, §6.4, leader side, one rule per test case.
#include <catch2/catch.hpp>

#include "actors/raft/follower_logic.hpp"
#include "actors/raft/leader_logic.hpp"
#include "tests/paper/raft_test_support.hpp"

using namespace prez;
using namespace prez::raft;
using namespace prez::raft::test;

namespace {

raft_context leader_context(std::size_t size, std::uint64_t term,
                            const std::vector<std::uint64_t>& terms) {
  auto c = context_for("n1", size, term, terms);
  c.hard.voted_for = "n1";
  return c;
}

/// A leader of n1..n<size> at `term` over `terms`, started, its no-op durable.
leader_logic started_leader(std::size_t size, std::uint64_t term,
                            const std::vector<std::uint64_t>& terms,
                            raft_effects* start_fx = nullptr) {
  leader_logic l(leader_context(size, term, terms));
  auto fx = l.start();
  fx.merge(l.persisted(terms.size() + 1, term));
  if (start_fx) *start_fx = std::move(fx);
  return l;
}

/// Same, with the no-op also acknowledged by n2 (so committed in a 3-node cluster).
leader_logic committed_leader(std::size_t size, std::uint64_t term,
                              const std::vector<std::uint64_t>& terms) {
  auto l = started_leader(size, term, terms);
  l.step(append_reply("n2", "n1", term, true, terms.size() + 1));
  return l;
}

} // namespace

TEST_CASE("§8 leader appends a no-op of its term on start and sends it to every peer",
          "[paper][leader]") {
  leader_logic l(leader_context(3, 3, {1, 2}));
  auto fx = l.start();
  REQUIRE(fx.entries_to_persist.size() == 1);
  CHECK(fx.entries_to_persist[0].index == 3);
  CHECK(fx.entries_to_persist[0].term == 3);
  CHECK(fx.entries_to_persist[0].kind() == entry_type::noop);
  for (const auto* peer : {"n2", "n3"}) {
    auto requests = sent<append_entries_request>(fx.messages, peer);
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].prev_log_index == 2);
    CHECK(requests[0].prev_log_term == 2);
    REQUIRE(requests[0].entries.size() == 1);
    CHECK(l.progress().at(peer).next_index == 3);
    CHECK(l.progress().at(peer).match_index == 0);
    CHECK_FALSE(l.progress().at(peer).replicating);
  }
}

TEST_CASE("leader counts itself only after persisted()", "[paper][leader]") {
  leader_logic l(leader_context(3, 2, {1}));
  l.start();
  auto fx = l.step(append_reply("n2", "n1", 2, true, 2));
  CHECK(l.context().commit_index == 0); // n2 has it, our own copy is not durable yet
  CHECK(fx.committed.empty());
  fx = l.persisted(2, 2);
  CHECK(l.context().commit_index == 2);
  REQUIRE(fx.committed.size() == 2);
  CHECK(fx.committed[1].kind() == entry_type::noop);
}

TEST_CASE("§5.4.2 leader commits only entries of its own term (Figure 8)", "[paper][leader]") {
  // Figure 8 (c): S1 leads term 4 with [1, 2]; the term-2 entry at index 2 reaches a majority,
  // yet it must not be committed by counting: a server with a term-3 entry could still win
  // and overwrite it (d). Only once an entry of term 4 is on a majority is index 2 committed (e).
  leader_logic l(leader_context(5, 4, {1, 2}));
  l.start();
  l.persisted(3, 4);
  auto fx = l.step(append_reply("n2", "n1", 4, true, 2));
  fx.merge(l.step(append_reply("n3", "n1", 4, true, 2)));
  CHECK(l.context().commit_index == 0);
  CHECK(fx.committed.empty());
  fx = l.step(append_reply("n2", "n1", 4, true, 3));
  CHECK(l.context().commit_index == 0); // self + n2 only
  fx = l.step(append_reply("n3", "n1", 4, true, 3));
  CHECK(l.context().commit_index == 3);
  CHECK(fx.committed.size() == 3);
}

TEST_CASE("fast back-off conflict hints", "[paper][leader]") {
  // Leader log: [1, 1, 2, 2, 5(no-op)].
  SECTION("conflict_term 0: retry at conflict_index") {
    leader_logic l(leader_context(3, 5, {1, 1, 2, 2}));
    l.start();
    auto fx = l.step(append_reply("n2", "n1", 5, false, 0, 0, 2, 0, 4));
    CHECK(l.progress().at("n2").next_index == 2);
    auto resent = sent<append_entries_request>(fx.messages, "n2");
    REQUIRE(resent.size() == 1);
    CHECK(resent[0].prev_log_index == 1);
    CHECK(resent[0].entries.size() == 4);
  }
  SECTION("a conflict term the leader has: after our last entry of that term") {
    leader_logic l(leader_context(3, 5, {1, 1, 2, 2}));
    l.start();
    l.step(append_reply("n2", "n1", 5, false, 0, 0, 3, 2, 4));
    CHECK(l.progress().at("n2").next_index == 5);
  }
  SECTION("a conflict term the leader lacks: at the follower's first index of it") {
    leader_logic l(leader_context(3, 5, {1, 1, 2, 2}));
    l.start();
    l.step(append_reply("n2", "n1", 5, false, 0, 0, 3, 3, 4));
    CHECK(l.progress().at("n2").next_index == 3);
  }
  SECTION("never below match_index + 1") {
    leader_logic l(leader_context(3, 5, {1, 1, 2, 2}));
    l.start();
    l.step(append_reply("n2", "n1", 5, true, 4));
    // A rejection of the no-op's append (prev 4, still in flight) hinting below match_index.
    l.step(append_reply("n2", "n1", 5, false, 0, 0, 1, 0, 4));
    CHECK(l.progress().at("n2").next_index == 5);
    CHECK(l.progress().at("n2").match_index == 4);
    CHECK_FALSE(l.progress().at("n2").replicating);
  }
}

TEST_CASE("probing: only an answer that covers the probe switches to pipelining",
          "[paper][leader]") {
  // Leader log: [1, 1, 2, 2, 5(no-op)]; n2 holds only [1] and rejects the first probe (prev 4).
  leader_logic l(leader_context(3, 5, {1, 1, 2, 2}));
  l.start();
  auto fx = l.step(append_reply("n2", "n1", 5, false, 0, 0, 2, 0, 4));
  REQUIRE(sent<append_entries_request>(fx.messages, "n2").size() == 1); // probe at prev 1
  CHECK(l.progress().at("n2").next_index == 2);
  // A heartbeat answer (anchored at match_index 0) proves nothing about index 1.
  fx = l.step(append_reply("n2", "n1", 5, true, 0));
  CHECK_FALSE(l.progress().at("n2").replicating);
  CHECK(sent<append_entries_request>(fx.messages, "n2").empty());
  // The probe's own answer does.
  fx = l.step(append_reply("n2", "n1", 5, true, 5));
  CHECK(l.progress().at("n2").replicating);
  CHECK(l.progress().at("n2").match_index == 5);
}

TEST_CASE("probing: a rejection of a request no longer in flight sends no new probe",
          "[paper][leader]") {
  leader_logic l(leader_context(3, 5, {1, 1, 2, 2}));
  l.start();
  l.step(append_reply("n2", "n1", 5, false, 0, 0, 2, 0, 4)); // probe now at prev 1
  // The first probe's rejection again (duplicated or late), and one for a pipeline long gone.
  auto fx = l.step(append_reply("n2", "n1", 5, false, 0, 0, 2, 0, 4));
  fx.merge(l.step(append_reply("n2", "n1", 5, false, 0, 0, 3, 0, 3)));
  CHECK(sent<append_entries_request>(fx.messages, "n2").empty());
  CHECK(l.progress().at("n2").next_index == 2);
  CHECK(l.progress().at("n2").inflight == 1);
}

TEST_CASE("inflight window bound", "[paper][leader]") {
  auto c = leader_context(3, 2, {1});
  c.config.inflight_appends_max = 2;
  c.config.append_entries_max = 1;
  leader_logic l(std::move(c));
  auto fx = l.start();
  // Probing: exactly one request in flight, whatever is proposed meanwhile.
  raft_effects px;
  REQUIRE(l.propose({"a", "b"}, px));
  CHECK(sent<append_entries_request>(px.messages, "n2").empty());
  CHECK(l.progress().at("n2").inflight == 1);
  // The probe succeeds: pipelining, at most two requests of one entry each.
  fx = l.step(append_reply("n2", "n1", 2, true, 2));
  CHECK(l.progress().at("n2").replicating);
  auto pipelined = sent<append_entries_request>(fx.messages, "n2");
  REQUIRE(pipelined.size() == 2);
  CHECK(pipelined[0].entries.size() == 1);
  CHECK(pipelined[0].prev_log_index == 2);
  CHECK(pipelined[1].prev_log_index == 3);
  CHECK(l.progress().at("n2").inflight == 2);
  CHECK(l.progress().at("n2").next_index == 5);
  raft_effects more;
  REQUIRE(l.propose({"c"}, more));
  CHECK(sent<append_entries_request>(more.messages, "n2").empty()); // window full
  fx = l.step(append_reply("n2", "n1", 2, true, 3));
  CHECK(l.progress().at("n2").inflight == 2); // one retired, the next one sent
  CHECK(sent<append_entries_request>(fx.messages, "n2").size() == 1);
}

TEST_CASE("lost appends recovered after heartbeat", "[paper][leader]") {
  auto c = leader_context(3, 2, {1});
  c.config.append_entries_max = 1;
  leader_logic l(std::move(c));
  l.start();
  l.step(append_reply("n2", "n1", 2, true, 2)); // n2 matches up to the no-op
  raft_effects px;
  REQUIRE(l.propose({"a", "b"}, px));
  REQUIRE(sent<append_entries_request>(px.messages, "n2").size() == 2); // both will be lost
  CHECK(l.progress().at("n2").next_index == 5);
  // First heartbeat: the requests have not had a full interval yet.
  auto fx = l.tick();
  CHECK(l.progress().at("n2").replicating);
  // Second heartbeat: no progress since the first, requests older than an interval: re-probe
  // from match_index + 1, carrying the entries again.
  fx = l.tick();
  fx.merge(l.tick());
  CHECK_FALSE(l.progress().at("n2").replicating);
  auto resent = sent<append_entries_request>(fx.messages, "n2");
  bool carries_entry_3 = false;
  for (const auto& r : resent)
    carries_entry_3 = carries_entry_3 || (r.prev_log_index == 2 && !r.entries.empty());
  CHECK(carries_entry_3);
  CHECK(l.progress().at("n2").inflight == 1);
}

TEST_CASE("Figure 2 leaders: heartbeats to every peer every heartbeat_ticks", "[paper][leader]") {
  auto c = leader_context(3, 2, {1});
  c.config.heartbeat_ticks = 3;
  leader_logic l(std::move(c));
  l.start();
  CHECK(l.tick().messages.empty());
  CHECK(l.tick().messages.empty());
  auto fx = l.tick();
  CHECK(sent<append_entries_request>(fx.messages, "n2").size() >= 1);
  CHECK(sent<append_entries_request>(fx.messages, "n3").size() >= 1);
}

TEST_CASE("check-quorum step down", "[paper][leader]") {
  SECTION("no peer heard from for an election timeout: step down, term unchanged") {
    auto l = started_leader(3, 2, {1});
    raft_effects fx;
    for (int i = 0; i < 10 && !fx.next_role; ++i)
      fx = l.tick();
    CHECK(fx.next_role == role::follower);
    CHECK_FALSE(fx.hard_state_changed);
    CHECK(l.context().hard.term == 2);
  }
  SECTION("one peer of two answering keeps a majority") {
    auto l = started_leader(3, 2, {1});
    for (int i = 0; i < 50; ++i) {
      auto fx = l.tick();
      REQUIRE_FALSE(fx.next_role);
      l.step(append_reply("n2", "n1", 2, true, 2));
    }
  }
}

TEST_CASE("ReadIndex confirmed only after quorum heartbeat ack and only once an entry of the "
          "current term is committed",
          "[paper][leader][read]") {
  auto l = started_leader(3, 2, {1});
  // The no-op is not committed yet: the read waits without a round.
  auto fx = l.read_index({7});
  CHECK(fx.reads.empty());
  CHECK(fx.messages.empty());
  // Commit the no-op (n2 acknowledges it): a round starts with a fresh sequence number.
  fx = l.step(append_reply("n2", "n1", 2, true, 2));
  CHECK(l.context().commit_index == 2);
  CHECK(fx.reads.empty());
  auto beats = sent<append_entries_request>(fx.messages, "n3");
  REQUIRE_FALSE(beats.empty());
  const auto seq = beats.back().heartbeat_seq;
  CHECK(seq >= 1);
  // An ack of an older round does not confirm it.
  fx = l.step(append_reply("n3", "n1", 2, true, 2, seq - 1));
  CHECK(fx.reads.empty());
  // A rejection of our term with the right sequence still proves leadership.
  fx = l.step(append_reply("n3", "n1", 2, false, 0, seq, 3, 0));
  REQUIRE(fx.reads.size() == 1);
  CHECK(fx.reads[0] == read_ready{7, 2});
  // A later read needs a later round.
  fx = l.read_index({8});
  CHECK(fx.reads.empty());
  auto next = sent<append_entries_request>(fx.messages, "n2");
  REQUIRE_FALSE(next.empty());
  CHECK(next.back().heartbeat_seq == seq + 1);
  fx = l.step(append_reply("n2", "n1", 2, true, 2, seq + 1));
  REQUIRE(fx.reads.size() == 1);
  CHECK(fx.reads[0].read_id == 8);
}

TEST_CASE("ReadIndex on a single-node cluster is ready at once", "[paper][leader][read]") {
  leader_logic l(leader_context(1, 2, {1}));
  l.start();
  auto fx = l.read_index({1});
  CHECK(fx.reads.empty()); // no-op not durable, so not committed
  fx = l.persisted(2, 2);
  REQUIRE(fx.reads.size() == 1);
  CHECK(fx.reads[0] == read_ready{1, 2});
  fx = l.read_index({2});
  REQUIRE(fx.reads.size() == 1);
}

TEST_CASE("pending reads fail when the leader steps down", "[paper][leader][read]") {
  auto l = committed_leader(3, 2, {1});
  l.read_index({1, 2});
  auto fx = l.step(append_reply("n3", "n1", 5, false, 0));
  CHECK(fx.next_role == role::follower);
  CHECK(fx.reads_failed == std::vector<std::uint64_t>{1, 2});
  CHECK(l.context().hard.term == 5);
  CHECK_FALSE(fx.redeliver); // a response needs no second look
}

TEST_CASE("a higher-term request ends leadership and is redelivered to the follower",
          "[paper][leader]") {
  auto l = started_leader(3, 2, {1});
  auto msg = vote("n3", "n1", 3, 9, 2);
  auto fx = l.step(msg);
  CHECK(fx.next_role == role::follower);
  CHECK(fx.hard_state_changed);
  CHECK(l.context().hard.term == 3);
  CHECK(l.context().hard.voted_for.empty());
  REQUIRE(fx.redeliver);
  CHECK(*fx.redeliver == msg);
}

TEST_CASE("a live leader refuses pre-votes and keeps its term", "[paper][leader][prevote]") {
  auto l = started_leader(3, 2, {1});
  auto fx = l.step(vote("n3", "n1", 3, 9, 2, true));
  auto r = sent<vote_response>(fx.messages, "n3");
  REQUIRE(r.size() == 1);
  CHECK_FALSE(r[0].granted);
  CHECK(r[0].term == 2);
  CHECK_FALSE(fx.next_role);
  CHECK(l.context().hard.term == 2);
}

TEST_CASE("stale messages: responses ignored, requests refused with our term", "[paper][leader]") {
  auto l = started_leader(3, 4, {1});
  auto fx = l.step(append_reply("n2", "n1", 3, true, 2));
  CHECK(l.progress().at("n2").match_index == 0);
  CHECK(fx.messages.empty());
  fx = l.step(append("n2", "n1", 3, 0, 0));
  auto r = sent<append_entries_response>(fx.messages, "n2");
  REQUIRE(r.size() == 1);
  CHECK_FALSE(r[0].success);
  CHECK(r[0].term == 4);
  CHECK_FALSE(fx.next_role);
}

TEST_CASE("propose is refused over the uncommitted bytes limit", "[paper][leader]") {
  auto c = leader_context(3, 2, {1});
  c.config.uncommitted_bytes_max = 10;
  leader_logic l(std::move(c));
  l.start();
  raft_effects fx;
  CHECK(l.propose({"12345678"}, fx));
  const auto last = l.context().log.last_index();
  CHECK_FALSE(l.propose({"abc"}, fx));
  CHECK(l.context().log.last_index() == last);
  // Once committed, the bytes are released.
  l.persisted(last, 2);
  l.step(append_reply("n2", "n1", 2, true, last));
  CHECK(l.context().commit_index == last);
  CHECK(l.propose({"abc"}, fx));
}

TEST_CASE("ReadIndex with a floor: the read is served at or after the floor entry",
          "[paper][leader][read]") {
  auto l = committed_leader(3, 2, {1});
  raft_effects px;
  REQUIRE(l.propose({"clock"}, px)); // index 3: an entry the reads must see (a clock entry)
  auto fx = l.read_index({9}, 3);
  CHECK(fx.reads.empty());
  // n2 answers the round's heartbeat (seq 1) without having index 3 yet: quorum confirmed.
  auto reads = l.step(append_reply("n2", "n1", 2, true, 2, 1)).reads;
  REQUIRE(reads.size() == 1);
  CHECK(reads[0].read_id == 9);
  CHECK(reads[0].index == 3); // not the commit index 2
}

TEST_CASE("ReadIndex: a refusal of an older term's request acknowledges no heartbeat round",
          "[paper][leader][read]") {
  // n1 led term 7 and sent heartbeats up to seq 33; one arrives late at n2, which is in term 9
  // now, and refuses it. n1 leads term 9 too: the refusal carries term 9, ours. Found by the
  // simulator (late messages, seed 965): the echoed seq 33 confirmed every read round up to it.
  auto n2 = follower_logic(context_for("n2", 3, 9, {1}));
  auto late = n2.step(append("n1", "n2", 7, 1, 1, {}, 1, 33));
  auto refusals = sent<append_entries_response>(late.messages, "n1");
  REQUIRE(refusals.size() == 1);
  CHECK(refusals[0].term == 9);
  auto l = committed_leader(3, 9, {1});
  l.step(raft_message{"n2", "n1", refusals[0]});
  auto fx = l.read_index({5});
  CHECK(fx.reads.empty()); // n3 and n2 must answer this round first
  auto acked = l.step(append_reply("n3", "n1", 9, true, 2, 1));
  REQUIRE(acked.reads.size() == 1);
}
