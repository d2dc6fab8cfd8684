#pragma once
// The RESP gateway: a listening broker that forks one broker per client connection. Each
// connection parses RESP (resp_parser), answers connection-level commands itself, sends data
// commands to the session manager, and writes replies back in command order (pipelining).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

#include "config/limits.hpp"
#include "config/runtime_config.hpp"

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
  /// The node's CONFIG parameters (docs/decisions.md D27), shared by the acceptor and every
  /// connection of this node; when set, its requirepass, protected-mode and maxclients replace the
  /// three fields above (read at each accept and each AUTH, so CONFIG SET takes effect at once).
  std::shared_ptr<shared_runtime_config> runtime;
  /// prez.conf's path for CONFIG REWRITE; empty: started without a config file.
  std::string config_file;
  /// The node's pub/sub hub (pubsub_hub_actor.hpp): SUBSCRIBE registers there, PUBSUB and
  /// PUBLISH's count are answered from there. Null: pub/sub commands answer an error (tests).
  caf::actor pubsub;
};

/// Opens the listening socket and spawns the gateway. Fails (port in use, bad address) with a
/// readable message instead of an actor.
caf::expected<caf::actor> spawn_resp_gateway(caf::actor_system& system,
                                             const gateway_settings& settings);

} // namespace prez
