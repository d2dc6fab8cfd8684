#pragma once
// The session manager: takes parsed client commands, routes them to the local leader role (writes
// as proposals, reads as ReadIndex rounds) or forwards them to the leader's session manager, and
// holds every pending reply until the command is applied, times out, or the leader changes. Every
// decision is in session_logic.hpp; this actor only carries messages in and effects out.

#include <chrono>
#include <cstdint>

#include "caf/fwd.hpp"

#include "messages/raft_messages.hpp"

namespace prez {

struct session_settings {
  node_name self;
  /// This start's random incarnation (forward ids start from it).
  std::uint64_t incarnation = 0;
  /// A command waits this long for a leader to be known before -CLUSTERDOWN.
  std::chrono::milliseconds leader_wait{3000};
  /// A write proposed (here or by a forward) waits this long for its result before its outcome
  /// is reported unknown.
  std::chrono::milliseconds write_timeout{5000};
  /// follower-mode redirect: a follower answers `-MOVED 0 <leader host>:<port>` instead of
  /// forwarding, so `redis-cli -c` and cluster-aware clients go to the leader themselves.
  bool redirect = false;
};

/// Spawns the session manager. Messages:
///   (command_atom, std::vector<client_command>), from a gateway connection: its commands in its
///       order; answered with (reply_atom, std::vector<connection_reply>) messages to the sender,
///       the answers this manager has at once gathered in one message
///   (start_atom, state_machine)                  once, from the server's start-up
///   (peer_send_atom, std::map<node_name, actor>)  once, the peer links, from the node
///   (role_atom, role_info, actor role)            on every role/leader change, from the node
///   (frame_atom, from, forward_request_batch|forward_response_batch), from the node (one frame)
///   (applied_atom, ...), (read_ok_atom, ...), (read_fail_atom, ...), (refused_atom, ...)
caf::actor spawn_session_manager(caf::actor_system& system, session_settings settings);

/// How long a gateway connection should wait for the session manager's answer at most.
std::chrono::milliseconds session_reply_deadline(const session_settings& settings);

} // namespace prez
