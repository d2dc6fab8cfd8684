#pragma once
// The state machine actor: applies committed entries in log order to a kv_state and serves reads
// once it has applied far enough (ReadIndex, thesis §6.4).

#include "caf/fwd.hpp"

namespace prez {

/// Spawns the state machine actor. Messages:
///   (apply_atom, std::vector<log_entry>)   committed entries, in order, each exactly once;
///                                           results go to `session` as (applied_atom, ...)
///   (read_atom, index, argv) -> std::string  answered once last_applied >= index
///   (status_atom) -> apply_status
caf::actor spawn_state_machine(caf::actor_system& system, caf::actor session);

} // namespace prez
