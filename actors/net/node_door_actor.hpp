#pragma once
// The node door: the one actor a node publishes on its cluster port (docs/decisions.md D15).
// Anything that can connect to that port can send a published actor any CAF message, so the door
// accepts exactly one shape, `(frame_atom, std::vector<char>)` (a sealed msgpack frame,
// messages/wire_codec.hpp), and passes it to the node unread; the node checks the seal and decodes
// it. Every other message is refused with an error and counted by the node (frames_refused, INFO
// raft). The node actor itself, with its in-process handlers (leader, status, role changes), is
// never published.

#include "caf/fwd.hpp"

namespace prez {

/// Spawns the door in front of `node` (a raft_node_actor). The door forwards frames with their
/// sender and request id intact, so a request's reply (a link window answer) comes from the node,
/// and one sender's frames reach the node in the order they were sent. It tells the node
/// `(refused_atom)` for each message it refuses, and terminates with the node.
caf::actor spawn_node_door(caf::actor_system& system, caf::actor node);

} // namespace prez
