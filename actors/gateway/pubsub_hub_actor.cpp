#include "actors/gateway/pubsub_hub_actor.hpp"

#include <map>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "caf/all.hpp"

#include "actors/caf_messages.hpp"
#include "actors/gateway/pubsub.hpp"

namespace prez {

namespace {

struct hub_state {
  pubsub::registry registry;
  std::map<pubsub::subscriber, caf::actor> connections;
  std::map<caf::actor_addr, pubsub::subscriber> ids;
  static inline const char* name = "pubsub_hub";
};

caf::behavior hub_actor(caf::stateful_actor<hub_state>* self, const std::string& node_name) {
  spdlog::debug("{}: pub/sub hub started", node_name);
  // A stray error (an answer a connection that ended could not take) must not end the hub.
  self->set_error_handler([](caf::error&) {});
  self->set_down_handler([=](const caf::down_msg& down) {
    auto& st = self->state;
    const auto it = st.ids.find(down.source);
    if (it == st.ids.end()) return;
    st.registry.remove(it->second);
    st.connections.erase(it->second);
    st.ids.erase(it);
  });
  return {
      [=](subscribe_atom, pubsub::subscriber id, bool pattern,
          const std::vector<std::string>& names, const caf::actor& connection) {
        auto& st = self->state;
        if (st.connections.emplace(id, connection).second) {
          st.ids.emplace(connection.address(), id);
          self->monitor(connection);
        }
        for (const auto& name : names)
          pattern ? st.registry.psubscribe(id, name) : st.registry.subscribe(id, name);
        return true;
      },
      [=](unsubscribe_atom, pubsub::subscriber id, bool pattern,
          const std::vector<std::string>& names) {
        auto& st = self->state;
        for (const auto& name : names)
          pattern ? st.registry.punsubscribe(id, name) : st.registry.unsubscribe(id, name);
        return true;
      },
      [=](publish_atom, const std::vector<std::string>& messages) {
        auto& st = self->state;
        for (std::size_t i = 0; i + 1 < messages.size(); i += 2)
          for (const auto& delivery : st.registry.receivers(messages[i])) {
            const auto it = st.connections.find(delivery.to);
            if (it != st.connections.end())
              self->send(it->second, message_atom::value, delivery.pattern, messages[i],
                         messages[i + 1]);
          }
      },
      [=](pubcount_atom, const std::string& channel) {
        return static_cast<std::uint64_t>(self->state.registry.count(channel));
      },
      [=](pubsub_atom, const std::vector<std::string>& argv) {
        return self->state.registry.command(argv);
      },
  };
}

} // namespace

caf::actor spawn_pubsub_hub(caf::actor_system& system, const std::string& node_name) {
  // CAF 0.17 spawns a function actor that takes no argument through a null tuple pointer
  // (UBSan: reference binding to null pointer, init_fun_factory.hpp:85): it gets one.
  return system.spawn(hub_actor, node_name);
}

} // namespace prez
