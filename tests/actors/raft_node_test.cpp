// The node supervisor's role swap (actors/raft/raft_node_actor.cpp): a retired role's late word is
// ignored, a retired role quitting after its handoff is normal, and the live role ending without a
// handoff ends the node so that the fail-stop watcher stops the process (docs/decisions.md D18).
// Background expiry (D33): the node hands the state machine's deadline report to the leader role,
// which appends one clock entry once the deadline has passed, and no second one before a report
// shows it applied.

#include <catch2/catch.hpp>

#include <chrono>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "actors/caf_messages.hpp"
#include "actors/fail_stop_actor.hpp"
#include "actors/raft/raft_node_actor.hpp"
#include "config/limits.hpp"
#include "messages/wire_codec.hpp"
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
  /// Every entry the log was asked to persist.
  std::shared_ptr<std::vector<prez::log_entry>> persisted =
      std::make_shared<std::vector<prez::log_entry>>();
  caf::actor node;
  caf::actor watcher; ///< held here: an actor nobody refers to ends

  /// Clock entries among the persisted entries.
  std::size_t clock_entries() const {
    std::size_t n = 0;
    for (const auto& e : *persisted) {
      if (e.kind() != prez::entry_type::command) continue;
      auto command = prez::decode_command(e.data.data(), e.data.size());
      if (command && prez::is_clock_entry(*command)) ++n;
    }
    return n;
  }

  /// Delivers what was sent, then lets the roles tick `ticks` times.
  void tick(int ticks) {
    run();
    for (int i = 0; i < ticks; ++i) {
      sched->advance_time(std::chrono::milliseconds(10));
      run();
    }
  }

  node_fixture() {
    // A log that makes every write durable at once.
    auto log = spawn_fn([p = persisted](caf::event_based_actor* self) -> caf::behavior {
      auto last = std::make_shared<std::pair<std::uint64_t, std::uint64_t>>();
      return {[=](prez::persist_atom, const prez::persist_request& request) {
        p->insert(p->end(), request.entries.begin(), request.entries.end());
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

TEST_CASE_METHOD(node_fixture,
                 "the leader appends a clock entry once the reported deadline passed") {
  REQUIRE(told->size() == 2); // the leader is live
  tick(3);
  CHECK(clock_entries() == 0); // nothing reported: nothing due
  const auto last = persisted->back().index;
  // A deadline far in the future: nothing to do.
  caf::anon_send(
      node, prez::deadline_atom::value,
      prez::raft::deadline_report{last, 1000, std::numeric_limits<std::uint64_t>::max()});
  tick(3);
  CHECK(clock_entries() == 0);
  // A deadline long past on the leader's wall clock: one clock entry, and no second one while
  // no report shows it applied, however long the wait.
  caf::anon_send(node, prez::deadline_atom::value, prez::raft::deadline_report{last, 1000, 2000});
  tick(1);
  CHECK(clock_entries() == 1);
  std::this_thread::sleep_for(
      std::chrono::milliseconds(2 * prez::limits::background_expiry_interval_ms));
  tick(5);
  CHECK(clock_entries() == 1);
  // Applied, yet still due (a backlog past the per-entry bound): the next one, 20 ms later.
  caf::anon_send(node, prez::deadline_atom::value,
                 prez::raft::deadline_report{persisted->back().index, 3000, 2000});
  std::this_thread::sleep_for(
      std::chrono::milliseconds(2 * prez::limits::background_expiry_interval_ms));
  tick(1);
  CHECK(clock_entries() == 2);
  // Applied, nothing left: nothing more.
  caf::anon_send(node, prez::deadline_atom::value,
                 prez::raft::deadline_report{persisted->back().index, 3000, std::nullopt});
  std::this_thread::sleep_for(
      std::chrono::milliseconds(2 * prez::limits::background_expiry_interval_ms));
  tick(3);
  CHECK(clock_entries() == 2);
  CHECK(stopped->empty());
}
