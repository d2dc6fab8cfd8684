#pragma once
// One peer link per remote voter: owns the CAF remote handle of that node's published
// raft_node_actor, encodes outgoing messages as msgpack frames, reconnects after failures.

#include <cstdint>
#include <string>

#include "caf/actor.hpp"

#include "config/limits.hpp"
#include "messages/raft_messages.hpp"

namespace prez {

struct peer_link_args {
  node_name self;              ///< our name, stamped on every frame
  std::uint64_t incarnation{}; ///< our random per-start number, stamped on every frame
  node_name peer;
  std::string host;
  std::uint16_t port{};
  std::string client_address; ///< our client (RESP) address, carried so peers can redirect
  std::string cluster_secret; ///< when set, every frame is sealed with its HMAC
  /// Bytes sent and not yet acknowledged by the peer node before the link drops frames.
  std::uint64_t window_bytes = limits::link_window_bytes_default;
  /// Test builds only (PREZ_FAULT_INJECTION): a file `partition-<peer>` here cuts this link.
  std::string fault_dir;
  /// Connect through CAF's openssl manager (TLS with certificates, docs/decisions.md D24) instead
  /// of the plain middleman. The process must have loaded caf::openssl::manager.
  bool tls = false;
  /// The actor that makes connections: it answers `(caf::connect_atom, host, port)` as CAF's
  /// middleman does. Invalid (the default) means the middleman, or the openssl manager with
  /// `tls`; actor tests under CAF's test_coordinator pass a stand-in, since no network runs there.
  caf::actor connector = caf::actor{};
};

/// Spawns a peer link. It takes `(peer_send_atom, raft_message | forward_request_batch |
/// forward_response_batch)` and delivers `(frame_atom, std::vector<char>)` to the remote node; it
/// answers `(status_atom)` with a peer_link_info. While
/// the peer is unreachable, messages are dropped and counted (Raft retries; forwarded commands
/// time out at their origin), so nothing queues without bound.
///
/// The window: CAF 0.17 buffers remote sends without limit, so the link bounds them itself.
/// After every few frames it asks the remote node, with a sealed link_ack_request frame sent as a
/// request, whether it has handled everything sent before (one connection keeps order); the node
/// answers with a sealed link_ack_response frame. Bytes sent past the last answer
/// are "in flight"; over `window_bytes` the link drops frames like a lossy network until an
/// answer arrives. A question unanswered for ack_timeout counts as a lost connection.
caf::actor spawn_peer_link(caf::actor_system& system, peer_link_args args);

} // namespace prez
