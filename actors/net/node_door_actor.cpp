#include "actors/net/node_door_actor.hpp"

#include "caf/all.hpp"
#include <spdlog/spdlog.h>

#include "actors/caf_messages.hpp"

namespace prez {

namespace {

struct node_door_state {
  caf::actor node;           ///< the raft_node_actor behind the door; the door dies with it
  std::uint64_t refused = 0; ///< messages refused here (the node keeps the total)
  static inline const char* name = "node_door";
};

using node_door = caf::stateful_actor<node_door_state>;

caf::behavior node_door_actor(node_door* self, caf::actor node) {
  self->state.node = node;
  self->link_to(node);
  self->set_default_handler(
      [](caf::scheduled_actor* actor, caf::message_view& x) -> caf::result<caf::message> {
        auto* door = static_cast<node_door*>(actor);
        auto& st = door->state;
        if (++st.refused % 1000 == 1)
          spdlog::warn("cluster port: refused a message that is not a sealed frame ({} so far): {}",
                       st.refused, x.content().stringify().substr(0, 80));
        door->send(st.node, refused_atom::value);
        return caf::make_error(caf::sec::unexpected_message);
      });
  return {
      [=](frame_atom atom, std::vector<char>& bytes) {
        // delegate keeps the sender and request id: the node answers a window question itself.
        return self->delegate(self->state.node, atom, std::move(bytes));
      },
  };
}

} // namespace

caf::actor spawn_node_door(caf::actor_system& system, caf::actor node) {
  return system.spawn(node_door_actor, std::move(node));
}

} // namespace prez
