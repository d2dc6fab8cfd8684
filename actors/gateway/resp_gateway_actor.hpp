#pragma once
// The RESP gateway: a listening broker that forks one broker per client connection. Each
// connection parses RESP (resp_parser), answers connection-level commands itself, sends data
// commands to the session manager, and writes replies back in command order (pipelining).

#include <chrono>
#include <cstdint>
#include <string>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

#include "config/limits.hpp"

namespace prez {

struct gateway_settings {
  std::string bind = "127.0.0.1";
  std::uint16_t port = 9000;
  std::uint64_t incarnation = 0; ///< seeds the cluster-unique client ids of this node
  caf::actor session;            ///< session manager
  caf::actor node;               ///< raft node (INFO raft)
  std::chrono::milliseconds reply_deadline{10000};
  std::string node_name;
  std::uint32_t node_timeout_ms = 1000;
  std::string requirepass; ///< empty: no AUTH needed
  bool protected_mode = true;
  /// Client connections served at once (prez.conf maxclients); one more is refused.
  std::uint64_t maxclients = limits::maxclients_default;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

/// Opens the listening socket and spawns the gateway. Fails (port in use, bad address) with a
/// readable message instead of an actor.
caf::expected<caf::actor> spawn_resp_gateway(caf::actor_system& system,
                                             const gateway_settings& settings);

} // namespace prez
