#pragma once
// The launcher's side of remote spawning (prez-ctl up / add): one sealed spawn request to one
// agent through CAF's middleman (actors/agent/agent_actor.hpp).
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "caf/fwd.hpp"

namespace prez {

/// Connects to the agent at host:port (asynchronously, bounded by `timeout`: a port that accepts
/// TCP but never finishes CAF's handshake does not hang the launcher), remote-spawns "prez-node"
/// with `sealed` and asks the spawned actor whether the node started. Returns empty on success,
/// else the reason (the agent's own words when it refused).
std::string spawn_on_agent(caf::actor_system& system, const std::string& host, std::uint16_t port,
                           const std::vector<char>& sealed, std::chrono::milliseconds timeout);

} // namespace prez
