#include "actors/fail_stop_actor.hpp"

#include <cstdlib>
#include <map>
#include <utility>

#include "caf/all.hpp"
#include <spdlog/spdlog.h>

#include "actors/caf_messages.hpp"

namespace prez {

namespace {

struct fail_stop_state {
  stop_process_fn stop;
  /// The watched actors by address, with the name each was watched under.
  std::map<caf::actor_addr, std::string> watched;
  /// True once `stop` was called or the process is stopping on purpose. Invariant: `stop` is
  /// called only while this is false, so at most once.
  bool done = false;
  static inline const char* name = "fail_stop";
};

using fail_stop_actor_type = caf::stateful_actor<fail_stop_state>;

caf::behavior fail_stop_actor(fail_stop_actor_type* self, stop_process_fn stop) {
  self->state.stop = std::move(stop);
  self->set_down_handler([=](caf::down_msg& down) {
    auto& st = self->state;
    auto i = st.watched.find(down.source);
    if (i == st.watched.end() || st.done) return;
    st.done = true;
    auto reason = down.reason ? self->system().render(down.reason) : std::string("normal exit");
    st.stop(i->second, reason);
  });
  return {
      [=](watch_atom, const std::string& name, const caf::actor& whom) {
        self->state.watched.emplace(whom.address(), name);
        self->monitor(whom);
      },
      [=](stop_atom) {
        self->state.done = true;
        self->quit();
      },
  };
}

} // namespace

caf::actor spawn_fail_stop(caf::actor_system& system, stop_process_fn stop) {
  return system.spawn(fail_stop_actor, std::move(stop));
}

caf::error exception_exit_reason(std::exception_ptr& thrown) {
  try {
    std::rethrow_exception(thrown);
  } catch (const std::exception& e) {
    return caf::make_error(caf::sec::runtime_error, std::string("exception: ") + e.what());
  } catch (...) {
    return caf::make_error(caf::sec::runtime_error, std::string("exception of unknown type"));
  }
}

void stop_process(const std::string& actor, const std::string& reason) {
  spdlog::critical("fail-stop: actor '{}' ended ({}); stopping this node so it does not serve "
                   "clients or count as a voter without it",
                   actor, reason);
  spdlog::shutdown();
  std::_Exit(70);
}

} // namespace prez
