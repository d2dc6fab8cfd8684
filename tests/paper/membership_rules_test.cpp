// Raft thesis §4 (membership changes, one server at a time, with the fix of July 2015), §4.2.1
// (learners catch up before they vote), §4.2.2 (removing the leader) and §3.10 (leadership
// transfer with TimeoutNow): one rule per test case, on the pure role logics.
#include <catch2/catch.hpp>

#include "actors/raft/candidate_logic.hpp"
#include "actors/raft/follower_logic.hpp"
#include "actors/raft/leader_logic.hpp"
#include "actors/raft/membership_change.hpp"
#include "actors/raft/rules.hpp"
#include "tests/paper/raft_test_support.hpp"

using namespace prez;
using namespace prez::raft;
using namespace prez::raft::test;

namespace {

member_info voter(const std::string& name) {
  return {name, "127.0.0.1:" + std::to_string(7000 + name.back() - '0'), true, false};
}
member_info learner(const std::string& name, bool promote = false) {
  auto m = voter(name);
  m.voter = false;
  m.promote = promote;
  return m;
}

log_entry config_entry(std::uint64_t index, std::uint64_t term, membership m) {
  log_entry e;
  e.index = index;
  e.term = term;
  e.type = static_cast<std::uint8_t>(entry_type::config);
  e.data = encode_config_change(config_change{std::move(m), {}});
  return e;
}

/// A started leader n1 at `term` whose configuration is `m` (empty log before its no-op).
leader_logic leader_with(membership m, std::uint64_t term = 2) {
  auto c = context_for("n1", 0, term);
  c.hard.voted_for = "n1";
  c.log.set_base_config(std::move(m));
  leader_logic l(std::move(c));
  l.start();
  l.persisted(1, term);
  return l;
}

std::vector<std::string> planned(const membership& current, std::vector<std::string> argv,
                                 membership* out = nullptr) {
  auto result = plan_membership_change(current, argv);
  if (auto* m = std::get_if<membership>(&result)) {
    if (out) *out = *m;
    return {};
  }
  return {std::get<std::string>(result)};
}

config_change change_to(membership m) {
  return config_change{std::move(m), {}};
}

} // namespace

TEST_CASE("a configuration entry is in effect as soon as it is in the log, and leaves with it",
          "[membership]") {
  raft_log log(std::vector<log_entry>{entry(1, 1), entry(2, 1)});
  log.set_base_config(membership{{voter("n1"), voter("n2"), voter("n3")}, {}});
  const auto before = log.config_version();
  log.append(config_entry(3, 1, membership{{voter("n1"), voter("n2")}, {"n3"}}));
  CHECK(log.config().voter_count() == 2);
  CHECK(log.config().was_removed("n3"));
  CHECK(log.config_index() == 3);
  CHECK(log.config_version() > before);
  // Uncommitted and overwritten by a new leader: the configuration before it is back (§4.1).
  log.truncate_from(3);
  CHECK(log.config().voter_count() == 3);
  CHECK(log.config_index() == 0);
  // Compacted: the configuration of the dropped entries becomes the base.
  log.append(config_entry(3, 2, membership{{voter("n1"), voter("n2")}, {"n3"}}));
  log.append(entry(4, 2));
  log.compact_to(4);
  CHECK(log.config().voter_count() == 2);
  CHECK(log.config_index() == 0);
  // An entry whose data is not a configuration changes nothing.
  log_entry junk = config_entry(5, 2, {});
  junk.data = "not msgpack";
  log.append(junk);
  CHECK(log.config().voter_count() == 2);
}

TEST_CASE("a follower refuses AppendEntries carrying an unreadable configuration entry",
          "[membership]") {
  follower_logic f(context_for("n2", 3, 2));
  log_entry junk = config_entry(1, 2, {});
  junk.data = "\xc1";
  auto fx = f.step(append("n1", "n2", 2, 0, 0, {junk}));
  CHECK(fx.entries_to_persist.empty());
  CHECK(f.context().log.last_index() == 0);
}

TEST_CASE("a new leader changes the configuration only after committing an entry of its term",
          "[membership]") {
  auto l = leader_with(membership{{voter("n1"), voter("n2"), voter("n3")}, {}});
  membership grown;
  REQUIRE(planned(config_of(l.context()), {"RAFT.NODE", "ADD", "n4", "127.0.0.1:7004"}, &grown)
              .empty());
  raft_effects fx;
  // The July 2015 fix: the no-op of this term is not committed yet.
  CHECK_THAT(l.propose_config(change_to(grown), fx),
             Catch::Matchers::StartsWith("TRYAGAIN the new leader has not committed"));
  CHECK(fx.entries_to_persist.empty());
  l.step(append_reply("n2", "n1", 2, true, 1));
  REQUIRE(l.context().commit_index == 1);
  CHECK(l.propose_config(change_to(grown), fx).empty());
  REQUIRE(fx.entries_to_persist.size() == 1);
  CHECK(fx.entries_to_persist[0].kind() == entry_type::config);
  CHECK(l.progress().count("n4") == 1); // the learner gets the log at once
  // One change at a time: the next waits until this one commits.
  membership shrunk;
  REQUIRE(planned(config_of(l.context()), {"RAFT.NODE", "REMOVE", "n3"}, &shrunk).empty());
  raft_effects fx2;
  CHECK_THAT(l.propose_config(change_to(shrunk), fx2),
             Catch::Matchers::StartsWith("TRYAGAIN a configuration change is in progress"));
  l.persisted(2, 2);
  l.step(append_reply("n2", "n1", 2, true, 2));
  REQUIRE(l.context().commit_index == 2);
  CHECK(l.propose_config(change_to(shrunk), fx2).empty());
}

TEST_CASE("learners receive the log but never count toward a commit or a read quorum",
          "[membership]") {
  auto l = leader_with(membership{{voter("n1"), voter("n2"), learner("n3")}, {}});
  // Quorum is 2 of the voters n1, n2: n3's acknowledgement adds nothing.
  l.step(append_reply("n3", "n1", 2, true, 1));
  CHECK(l.context().commit_index == 0);
  l.step(append_reply("n2", "n1", 2, true, 1));
  CHECK(l.context().commit_index == 1);
  CHECK(l.progress().count("n3") == 1);
}

TEST_CASE("a learner added to be a voter is promoted by the leader once it has caught up",
          "[membership]") {
  auto l = leader_with(membership{{voter("n1"), voter("n2"), learner("n4", true)}, {}});
  l.step(append_reply("n2", "n1", 2, true, 1));
  REQUIRE(l.context().commit_index == 1);
  // Not caught up (never answered): no promotion.
  auto fx = l.tick();
  CHECK(fx.entries_to_persist.empty());
  CHECK_FALSE(config_of(l.context()).is_voter("n4"));
  l.step(append_reply("n4", "n1", 2, true, 1));
  fx = l.tick();
  REQUIRE(fx.entries_to_persist.size() == 1);
  CHECK(config_of(l.context()).is_voter("n4"));
  auto change = decode_config_change(fx.entries_to_persist[0].data);
  REQUIRE(change);
  CHECK(change->origin.argv == std::vector<std::string>{"RAFT.NODE", "PROMOTE", "n4"});
  // A permanent learner (no promote flag) stays one.
  auto l2 = leader_with(membership{{voter("n1"), learner("n4")}, {}});
  l2.step(append_reply("n4", "n1", 2, true, 1));
  CHECK(l2.tick().entries_to_persist.empty());
}

TEST_CASE("a leader that removes itself commits the change without its vote, then steps down",
          "[membership]") {
  auto l = leader_with(membership{{voter("n1"), voter("n2"), voter("n3")}, {}});
  l.step(append_reply("n2", "n1", 2, true, 1));
  membership without;
  REQUIRE(planned(config_of(l.context()), {"RAFT.NODE", "REMOVE", "n1"}, &without).empty());
  raft_effects fx;
  REQUIRE(l.propose_config(change_to(without), fx).empty());
  l.persisted(2, 2);
  // The new voters are n2 and n3: both are needed, our own copy does not count (thesis §4.2.2).
  auto one = l.step(append_reply("n2", "n1", 2, true, 2));
  CHECK(l.context().commit_index == 1);
  CHECK_FALSE(one.next_role);
  auto both = l.step(append_reply("n3", "n1", 2, true, 2));
  CHECK(l.context().commit_index == 2);
  REQUIRE(both.next_role);
  CHECK(*both.next_role == role::follower);
}

TEST_CASE("a removed node keeps getting the log until it holds its removal", "[membership]") {
  auto l = leader_with(membership{{voter("n1"), voter("n2"), voter("n3")}, {}});
  l.step(append_reply("n2", "n1", 2, true, 1));
  l.step(append_reply("n3", "n1", 2, true, 1));
  membership without;
  REQUIRE(planned(config_of(l.context()), {"RAFT.NODE", "REMOVE", "n3"}, &without).empty());
  raft_effects fx;
  REQUIRE(l.propose_config(change_to(without), fx).empty());
  CHECK_FALSE(sent<append_entries_request>(fx.messages, "n3").empty());
  CHECK(l.progress().count("n3") == 1);
  // Its answer counts for nothing (n3 is no voter) but shows it holds the entry.
  l.step(append_reply("n3", "n1", 2, true, 2));
  CHECK(l.context().commit_index == 1);
  l.tick();
  CHECK(l.progress().count("n3") == 0);
}

TEST_CASE("learners, nodes waiting to be added and removed nodes never campaign", "[membership]") {
  for (const auto& m : {membership{{voter("n1"), learner("n2")}, {}}, membership{{voter("n1")}, {}},
                        membership{}}) {
    auto c = context_for("n2", 0, 1);
    c.log.set_base_config(m);
    follower_logic f(std::move(c));
    for (int i = 0; i < 100; ++i)
      CHECK_FALSE(f.tick().next_role);
    // Not even a candidate it was turned into by mistake.
    auto c2 = context_for("n2", 0, 1);
    c2.log.set_base_config(m);
    candidate_logic candidate(std::move(c2));
    auto fx = candidate.start();
    REQUIRE(fx.next_role);
    CHECK(*fx.next_role == role::follower);
    CHECK(fx.messages.empty());
  }
}

TEST_CASE("nothing a removed node sends is heard", "[membership]") {
  auto c = context_for("n2", 0, 1);
  c.log.set_base_config(membership{{voter("n1"), voter("n2"), voter("n3")}, {"n4"}});
  follower_logic f(std::move(c));
  auto fx = f.step(vote("n4", "n2", 5, 100, 4));
  CHECK(fx.messages.empty());
  CHECK_FALSE(fx.hard_state_changed);
  CHECK(f.context().hard.term == 1);
  fx = f.step(append("n4", "n2", 5, 0, 0, {entry(1, 5)}));
  CHECK(fx.entries_to_persist.empty());
}

TEST_CASE("a node with no configuration accepts a leader's log and learns it is a member",
          "[membership]") {
  auto c = context_for("n4", 0, 0);
  c.log.set_base_config(membership{});
  follower_logic f(std::move(c));
  auto added = config_entry(1, 3, membership{{voter("n1"), learner("n4", true)}, {}});
  auto fx = f.step(append("n1", "n4", 3, 0, 0, {added}, 1));
  CHECK(fx.entries_to_persist.size() == 1);
  CHECK(config_of(f.context()).is_member("n4"));
  CHECK_FALSE(may_campaign(f.context()));
  REQUIRE(fx.messages_after_persist.size() == 1);
}

TEST_CASE("RAFT.NODE ADD and REMOVE are checked against the configuration in effect",
          "[membership]") {
  const membership m{{voter("n1"), voter("n2"), learner("n3")}, {"old"}};
  membership out;
  CHECK(planned(m, {"RAFT.NODE", "ADD", "n4", "10.0.0.4:7000"}, &out).empty());
  CHECK(out.find("n4")->promote);
  CHECK_FALSE(out.find("n4")->voter);
  CHECK(planned(m, {"raft.node", "add", "n5", "10.0.0.5:7000", "learner"}, &out).empty());
  CHECK_FALSE(out.find("n5")->promote);
  CHECK(planned(m, {"RAFT.NODE", "REMOVE", "n3"}, &out).empty());
  CHECK(out.was_removed("n3"));
  CHECK(out.removed == std::vector<std::string>{"n3", "old"});
  auto refused = [&](std::vector<std::string> argv, const std::string& why) {
    auto r = planned(m, std::move(argv));
    REQUIRE(r.size() == 1);
    CHECK_THAT(r[0], Catch::Matchers::Contains(why));
  };
  refused({"RAFT.NODE", "ADD", "n2", "10.0.0.9:7000"}, "already a member");
  refused({"RAFT.NODE", "ADD", "old", "10.0.0.9:7000"}, "names are never reused");
  refused({"RAFT.NODE", "ADD", "n9", voter("n1").address}, "belongs to node 'n1'");
  refused({"RAFT.NODE", "ADD", "n9", "no-port"}, "invalid address");
  refused({"RAFT.NODE", "ADD", "a/b", "10.0.0.9:7000"}, "invalid node name");
  refused({"RAFT.NODE", "ADD", "n9", "10.0.0.9:7000", "VOTER"}, "expected LEARNER");
  refused({"RAFT.NODE", "REMOVE", "ghost"}, "no node 'ghost'");
  const membership alone{{voter("n1"), learner("n2")}, {}};
  auto r = planned(alone, {"RAFT.NODE", "REMOVE", "n1"});
  REQUIRE(r.size() == 1);
  CHECK_THAT(r[0], Catch::Matchers::Contains("the last voter"));
}

TEST_CASE("leadership transfer: TimeoutNow once the target has caught up, then an election "
          "without a pre-vote",
          "[membership][transfer]") {
  auto l = leader_with(membership{{voter("n1"), voter("n2"), voter("n3")}, {}});
  l.step(append_reply("n3", "n1", 2, true, 1));
  raft_effects fx;
  CHECK_THAT(l.transfer_leadership("n9", fx), Catch::Matchers::Contains("not a voter"));
  REQUIRE(l.transfer_leadership("n2", fx).empty());
  CHECK(sent<timeout_now>(fx.messages).empty()); // n2 does not hold our log yet
  CHECK(l.transferring());
  // No configuration change meanwhile.
  raft_effects fx2;
  CHECK_THAT(l.propose_config(change_to(config_of(l.context())), fx2),
             Catch::Matchers::StartsWith("TRYAGAIN a leadership transfer"));
  auto caught_up = l.step(append_reply("n2", "n1", 2, true, 1));
  REQUIRE(sent<timeout_now>(caught_up.messages, "n2").size() == 1);
  CHECK(l.transfer_sent());

  // The follower campaigns at once, and its candidate goes straight to a real election.
  follower_logic f(context_for("n2", 3, 2, {2}), "n1");
  const raft_message now{"n1", "n2", timeout_now{2}};
  auto handed = f.step(now);
  REQUIRE(handed.next_role);
  CHECK(*handed.next_role == role::candidate);
  REQUIRE(handed.redeliver);
  candidate_logic candidate(f.release());
  auto first = candidate.step(*handed.redeliver); // may come before start()
  CHECK(first.hard_state_changed);
  auto votes = sent<vote_request>(first.messages_after_persist);
  REQUIRE(votes.size() == 2);
  CHECK_FALSE(votes[0].pre_vote);
  CHECK(votes[0].term == 3);
  CHECK(candidate.start().messages.empty()); // the election stands

  // Only the leader of our term can hand over.
  follower_logic other(context_for("n3", 3, 2, {2}), "n1");
  CHECK_FALSE(other.step(raft_message{"n2", "n3", timeout_now{2}}).next_role);
}

TEST_CASE("a transfer that does not complete within an election timeout is abandoned",
          "[membership][transfer]") {
  auto l = leader_with(membership{{voter("n1"), voter("n2"), voter("n3")}, {}});
  l.step(append_reply("n3", "n1", 2, true, 1));
  raft_effects fx;
  REQUIRE(l.transfer_leadership("n2", fx).empty());
  for (int i = 0; i < 10 && l.transferring(); ++i)
    l.tick();
  CHECK_FALSE(l.transferring());
  CHECK_FALSE(l.transfer_sent());
}
