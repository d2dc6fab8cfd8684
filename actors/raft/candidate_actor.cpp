// Candidate role actor: runs candidate_logic (pre-vote, then election) with role_actor glue.

#include "actors/raft/candidate_logic.hpp"
#include "actors/raft/role_actor.hpp"

namespace prez::raft {

namespace {

caf::behavior candidate_actor(role_actor<candidate_logic>* self, role_args args) {
  return role_behavior(self, std::move(args));
}

} // namespace

caf::actor spawn_candidate(caf::local_actor* parent, role_args args) {
  return parent->spawn(candidate_actor, std::move(args));
}

} // namespace prez::raft
