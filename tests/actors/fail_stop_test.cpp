// The fail-stop watcher (actors/fail_stop_actor.hpp, docs/decisions.md D18).

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "actors/caf_messages.hpp"
#include "actors/fail_stop_actor.hpp"
#include "tests/actors/coordinator_fixture.hpp"

namespace {

using prez::testing::coordinator_fixture;
using stops = std::vector<std::pair<std::string, std::string>>;

struct watcher_fixture : coordinator_fixture {
  std::shared_ptr<stops> stopped = std::make_shared<stops>();
  caf::actor watcher = prez::spawn_fail_stop(
      *system, [s = stopped](const std::string& actor, const std::string& reason) {
        s->emplace_back(actor, reason);
      });

  caf::actor watched(const std::string& name) {
    auto whom = spawn_sink();
    caf::anon_send(watcher, prez::watch_atom::value, name, whom);
    run();
    return whom;
  }
};

} // namespace

TEST_CASE_METHOD(watcher_fixture, "a watched actor killed with an exit stops the process once") {
  auto log = watched("log_actor");
  auto session = watched("session_manager");
  REQUIRE(stopped->empty());
  caf::anon_send_exit(log, caf::exit_reason::kill);
  run();
  REQUIRE(stopped->size() == 1);
  CHECK(stopped->front().first == "log_actor");
  CHECK(stopped->front().second.find("kill") != std::string::npos);
  // The process is already stopping: a second end is not reported again.
  caf::anon_send_exit(session, caf::exit_reason::user_shutdown);
  run();
  CHECK(stopped->size() == 1);
}

TEST_CASE_METHOD(watcher_fixture, "an actor that throws stops the process with the reason") {
  auto crashing = spawn_fn([](caf::event_based_actor* self) -> caf::behavior {
    self->set_exception_handler(prez::exception_exit_reason);
    return {[](int) { throw std::runtime_error("invariant broken"); }};
  });
  caf::anon_send(watcher, prez::watch_atom::value, std::string("state_machine"), crashing);
  run();
  caf::anon_send(crashing, 1);
  run();
  REQUIRE(stopped->size() == 1);
  CHECK(stopped->front().first == "state_machine");
  CHECK(stopped->front().second.find("exception: invariant broken") != std::string::npos);
}

TEST_CASE_METHOD(watcher_fixture, "a watched actor that quits normally is a zombie too") {
  auto quitting = spawn_fn([](caf::event_based_actor* self) -> caf::behavior {
    return {[=](prez::stop_atom) { self->quit(); }};
  });
  caf::anon_send(watcher, prez::watch_atom::value, std::string("raft_node"), quitting);
  run();
  caf::anon_send(quitting, prez::stop_atom::value);
  run();
  REQUIRE(stopped->size() == 1);
  CHECK(stopped->front() == std::make_pair(std::string("raft_node"), std::string("normal exit")));
}

TEST_CASE_METHOD(watcher_fixture, "after the process says it is stopping, ends are not fatal") {
  auto log = watched("log_actor");
  caf::anon_send(watcher, prez::stop_atom::value);
  run();
  caf::anon_send_exit(log, caf::exit_reason::kill);
  run();
  CHECK(stopped->empty());
}
