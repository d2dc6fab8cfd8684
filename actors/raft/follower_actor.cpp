// Follower role actor: runs follower_logic (actors/raft/follower_logic.hpp) with role_actor glue.

#include "actors/raft/follower_logic.hpp"
#include "actors/raft/role_actor.hpp"

namespace prez::raft {

namespace {

caf::behavior follower_actor(role_actor<follower_logic>* self, role_args args) {
  return role_behavior(self, std::move(args));
}

} // namespace

caf::actor spawn_follower(caf::local_actor* parent, role_args args) {
  return parent->spawn(follower_actor, std::move(args));
}

} // namespace prez::raft
