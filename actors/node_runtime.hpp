#pragma once
// Starting one node inside a running actor system: its data directory recovered (log, snapshot,
// configuration), its actors spawned and watched, its cluster door published and its client
// gateway listening. prez-server calls it once for its prez.conf; an agent (actors/agent) calls it
// when a launcher spawns a node there. Everything that belongs to the process (signals, the actor
// system's settings, the log line format) stays with the caller.
#include <cstdint>
#include <string>
#include <variant>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

#include "config/node_config.hpp"

namespace prez {

/// A node that runs: what the process needs to stop it well.
struct node_runtime {
  std::string name;
  caf::actor node; ///< the raft node actor (asked for a leadership handover on SIGTERM)
  std::uint32_t node_timeout_ms = 1000;
};

/// Starts the node `config` describes in `system`. Every actor a node cannot live without is
/// watched by `watcher` (actors/fail_stop_actor.hpp) once all of them started. On failure returns
/// the reason, ready to print, and stops what it had spawned: nothing of the node is left running
/// and its data directory's lock is released.
std::variant<node_runtime, std::string>
start_node(caf::actor_system& system, const node_config& config, const caf::actor& watcher);

/// Asks `runtime`'s node to hand leadership to another voter (thesis §3.10) and waits at most
/// about twice the election timeout. True when it was the leader and handed over.
bool hand_over_leadership(caf::actor_system& system, const node_runtime& runtime);

} // namespace prez
