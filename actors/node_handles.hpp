#pragma once
// Handles of the actors that make up one node, given to every role actor at spawn.

#include <cstdint>
#include <map>
#include <string>

#include "caf/actor.hpp"

#include "messages/raft_messages.hpp"

namespace prez {

/// Addresses of one node's actors. Owned by raft_node_actor; copied into each role actor.
struct node_handles {
  caf::actor node;          ///< raft_node_actor: spawns roles, routes peer frames
  caf::actor log;           ///< log_actor: durable log and hard state
  caf::actor state_machine; ///< state_machine_actor: applies committed entries, serves reads
  caf::actor session;       ///< session_actor: client commands, forwarding, pending replies
  caf::actor snapshots;     ///< snapshot_actor: snapshot files (write, send, receive, load)
  std::map<node_name, caf::actor> peers; ///< one peer_link_actor per remote voter
};

} // namespace prez
