#pragma once
// The metrics port (prez.conf metrics-port): a listening broker that forks one short-lived broker
// per HTTP connection. Each reads one request (http_request.hpp decides what it is), gathers the
// INFO figures (info_gather.hpp) for GET /metrics or GET /health, answers, and closes.

#include <cstdint>
#include <string>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

namespace prez {

struct metrics_settings {
  std::string bind = "127.0.0.1"; ///< the client port's bind address
  std::uint16_t port = 0;         ///< 1..65535
  caf::actor node;                ///< raft node: answers status_atom with node_status
  caf::actor gateway; ///< RESP gateway acceptor: answers status_atom with gateway_status
};

/// Opens the listening socket and spawns the metrics server. Fails (port in use, bad address) with
/// a readable message instead of an actor.
caf::expected<caf::actor> spawn_metrics_server(caf::actor_system& system,
                                               const metrics_settings& settings);

} // namespace prez
