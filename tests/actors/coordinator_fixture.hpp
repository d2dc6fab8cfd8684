#pragma once
// A Catch2 fixture for actor tests under CAF's test_coordinator (docs/architecture.md §8):
// every scheduled actor runs only when the test runs the scheduler, one job at a time, and time
// moves only when the test advances the clock. CAF's expect/allow DSL is not used.

#include <memory>

#include "caf/all.hpp"
#include "caf/io/middleman.hpp"
#include "caf/io/network/test_multiplexer.hpp"
#include "caf/scheduler/test_coordinator.hpp"

namespace prez::testing {

struct coordinator_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> system;
  caf::scheduler::test_coordinator* sched = nullptr;
  caf::io::network::test_multiplexer* mpx = nullptr; ///< with the test network only

  /// `with_test_network`: also loads CAF's middleman with its test multiplexer, which runs
  /// brokers (the RESP gateway) on made-up connections driven by the test.
  explicit coordinator_fixture(bool with_test_network = false) {
    if (with_test_network) {
      cfg.load<caf::io::middleman>();
      cfg.set("middleman.network-backend", caf::atom("testing"));
      cfg.set("middleman.manual-multiplexing", true);
      cfg.set("middleman.attach-utility-actors", true);
    }
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.verbosity", caf::atom("quiet"));
    cfg.set("logger.file-verbosity", caf::atom("quiet"));
    system = std::make_unique<caf::actor_system>(cfg);
    // Actors left alive at the end of a test never run again: do not wait for them.
    system->await_actors_before_shutdown(false);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(system->scheduler());
    if (with_test_network)
      mpx = &dynamic_cast<caf::io::network::test_multiplexer&>(system->middleman().backend());
  }

  ~coordinator_fixture() { run(); }

  /// Runs queued jobs until none is left; returns how many ran. With the test network, the
  /// brokers' jobs (on the test multiplexer) too, until neither has work.
  std::size_t run() {
    std::size_t ran = 0;
    for (bool progress = true; progress;) {
      progress = false;
      for (; sched->try_run_once(); progress = true)
        ++ran;
      for (; mpx != nullptr && mpx->try_exec_runnable(); progress = true)
        ++ran;
    }
    return ran;
  }

  /// A default handler that drops a message without answering. CAF's `caf::drop` answers
  /// `unexpected_message`, and that error, sent back to an actor that did not ask, ends it.
  static caf::result<caf::message> ignore(caf::scheduled_actor*, caf::message_view&) {
    return caf::delegated<caf::message>{};
  }

  /// Spawns a function-based actor from `fun(self)`. CAF 0.17 dereferences a null argument tuple
  /// when a function actor takes no arguments (UBSan: "reference binding to null pointer" in
  /// init_fun_factory_helper), so the actor is given one unused argument. The server's actors all
  /// take arguments.
  template <class F>
  caf::actor spawn_fn(F fun) {
    return system->spawn(
        [fun](caf::event_based_actor* self, int) -> caf::behavior { return fun(self); }, 0);
  }

  /// An actor that takes any message and does nothing (a stand-in for a node's other actors).
  caf::actor spawn_sink() {
    return spawn_fn([](caf::event_based_actor* self) -> caf::behavior {
      self->set_default_handler(ignore);
      return {[](caf::unit_t) {}};
    });
  }
};

} // namespace prez::testing
