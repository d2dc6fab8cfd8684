// The node supervisor's role swap (actors/raft/raft_node_actor.cpp): a retired role's late word is
// ignored, a retired role quitting after its handoff is normal, and the live role ending without a
// handoff ends the node so that the fail-stop watcher stops the process (docs/decisions.md D18).

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "actors/caf_messages.hpp"
#include "actors/fail_stop_actor.hpp"
#include "actors/raft/raft_node_actor.hpp"
#include "tests/actors/coordinator_fixture.hpp"

namespace {

using prez::testing::coordinator_fixture;

std::shared_ptr<prez::raft::raft_context> single_voter_context() {
  auto context = std::make_shared<prez::raft::raft_context>();
  context->config.self = "n1";
  context->config.voters = {"n1"};
  context->random.state = 1;
  return context;
}

/// Every role_info the node told the session manager, with the role actor it named.
using roles = std::vector<std::pair<prez::role_info, caf::actor>>;

struct node_fixture : coordinator_fixture {
  std::shared_ptr<roles> told = std::make_shared<roles>();
  std::shared_ptr<std::vector<std::string>> stopped = std::make_shared<std::vector<std::string>>();
  caf::actor node;
  caf::actor watcher; ///< held here: an actor nobody refers to ends

  node_fixture() {
    // A log that makes every write durable at once.
    auto log = spawn_fn([](caf::event_based_actor* self) -> caf::behavior {
      auto last = std::make_shared<std::pair<std::uint64_t, std::uint64_t>>();
      return {[=](prez::persist_atom, const prez::persist_request& request) {
        if (request.truncate_from) *last = {*request.truncate_from - 1, last->second};
        if (!request.entries.empty())
          *last = {request.entries.back().index, request.entries.back().term};
        self->send(caf::actor_cast<caf::actor>(self->current_sender()), prez::persisted_atom::value,
                   prez::persist_reply{request.seq, last->first, last->second});
      }};
    });
    auto session = spawn_fn([t = told](caf::event_based_actor* self) -> caf::behavior {
      self->set_default_handler(coordinator_fixture::ignore);
      return {[t](prez::role_atom, const prez::role_info& info, const caf::actor& role) {
        t->emplace_back(info, role);
      }};
    });
    prez::node_settings settings;
    settings.self = "n1";
    settings.members = {{"n1", "127.0.0.1", 0}};
    node = prez::spawn_raft_node(*system, settings, single_voter_context(), log, spawn_sink(),
                                 session, spawn_sink());
    watcher = prez::spawn_fail_stop(
        *system, [s = stopped](const std::string& actor, const std::string& reason) {
          s->push_back(actor + ": " + reason);
        });
    caf::anon_send(watcher, prez::watch_atom::value, std::string("raft_node"), node);
    run();
  }

  ~node_fixture() {
    // A role re-arms its tick forever, and the actor system's shutdown fires every timeout: end
    // the roles and the node first.
    for (const auto& [info, role] : *told)
      caf::anon_send_exit(role, caf::exit_reason::kill);
    caf::anon_send_exit(node, caf::exit_reason::kill);
    run();
  }
};

} // namespace

TEST_CASE_METHOD(node_fixture,
                 "a retired role quitting after its handoff leaves the node serving") {
  // A single voter starts as a candidate, wins at once and hands off to a leader; the candidate
  // then quits, and its down message reaches the node after its handoff.
  REQUIRE(told->size() == 2);
  CHECK(told->at(0).first.current == prez::raft::role::candidate);
  CHECK(told->at(1).first.current == prez::raft::role::leader);
  CHECK(told->at(1).first.epoch == told->at(0).first.epoch + 1);
  CHECK(stopped->empty());
}

TEST_CASE_METHOD(node_fixture, "a retired role's late handoff with an old epoch is ignored") {
  REQUIRE(told->size() == 2);
  prez::role_handoff late;
  late.epoch = told->at(0).first.epoch; // the candidate's
  late.next = prez::raft::role::follower;
  late.context = single_voter_context();
  caf::anon_send(node, prez::role_atom::value, std::move(late));
  run();
  CHECK(told->size() == 2); // no new role: the leader is still the live one
  CHECK(stopped->empty());
}

TEST_CASE_METHOD(node_fixture, "the live role ending without a handoff stops the process") {
  REQUIRE(told->size() == 2);
  caf::anon_send_exit(told->back().second, caf::exit_reason::kill);
  run();
  REQUIRE(stopped->size() == 1);
  CHECK(stopped->front().find("raft_node: ") == 0);
  CHECK(stopped->front().find("live leader role actor") != std::string::npos);
}
