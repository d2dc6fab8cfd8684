#pragma once
// The node supervisor: which role is alive (exactly one), its epoch, and the routing of peer
// frames. Never published itself: its in-process handlers (leader, status, role changes) are not
// covered by the cluster secret. The node door (actors/net/node_door_actor.hpp) is published on
// cluster-port in its place and passes it only `(frame_atom, std::vector<char>)`.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "caf/fwd.hpp"

#include "actors/raft/raft_types.hpp"
#include "config/limits.hpp"

namespace prez {

/// A node's cluster address from nodes.conf.
struct member_address {
  node_name name;
  std::string host;
  std::uint16_t port = 0;
};

struct node_settings {
  node_name self;
  /// nodes.conf's nodes, including self: where to reach a node that the configuration in effect
  /// gives no address for (a bootstrap configuration), and, while this node is not a member
  /// (joining), the nodes it links to so that it can answer a leader.
  std::vector<member_address> members;
  /// nodes.conf, rewritten from every committed configuration (empty: none).
  std::string nodes_file;
  std::string client_address;    ///< our RESP address "host:port"
  std::uint64_t incarnation = 0; ///< random per start
  std::string cluster_secret;    ///< when set, frames must carry a valid HMAC
  bool tls = false;     ///< peer links connect over TLS (the openssl manager is loaded, D24)
  std::string data_dir; ///< where test builds look for fault switches
  std::uint64_t link_window_bytes =
      limits::link_window_bytes_default; ///< each peer link's window (peer_link_actor)
  std::chrono::milliseconds tick{10};
};

/// Spawns the node supervisor and, through it, the peer links and the first role (a follower;
/// a single-node cluster elects itself within one election timeout).
caf::actor spawn_raft_node(caf::actor_system& system, node_settings settings,
                           std::shared_ptr<raft::raft_context> context, caf::actor log,
                           caf::actor state_machine, caf::actor session, caf::actor snapshots);

} // namespace prez
