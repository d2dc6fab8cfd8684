#pragma once
// The peer wire format: every message between nodes is one msgpack frame
//   [version, kind, from, incarnation, client_address, body]
// where body is the msgpack encoding of the struct named by kind. Decoding never trusts a
// declared size: explicit msgpack::unpack_limit values from config/limits.hpp and a maximum frame
// size. Pure: no CAF.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "messages/client_messages.hpp"
#include "messages/raft_messages.hpp"

namespace prez {

inline constexpr std::uint16_t wire_version = 1;

enum class frame_kind : std::uint8_t {
  raft = 1,
  forward_request = 2,
  forward_response = 3,
  link_ack_request = 4,
  link_ack_response = 5,
  /// Since 2026-12: forwards travel in batches (a node of an earlier version refuses these kinds;
  /// docs/decisions.md D38). Kinds 2 and 3 are still accepted.
  forward_request_batch = 6,
  forward_response_batch = 7,
};

/// A peer link's window question (actors/net/peer_link_actor.hpp): "have you handled every frame
/// I sent on this connection before this one?" It travels as a sealed frame like any other, so
/// the question and its answer are covered by the cluster secret and keep the connection's order.
struct link_ack_request {
  std::uint64_t upto = 0; ///< bytes the link had sent on this connection when it asked
  MSGPACK_DEFINE(upto)
  friend bool operator==(const link_ack_request&, const link_ack_request&) = default;
};

/// The node's answer to a link_ack_request, sent as the reply to that request: everything up to
/// `upto` has been handled.
struct link_ack_response {
  std::uint64_t upto = 0; ///< echoes the question's
  MSGPACK_DEFINE(upto)
  friend bool operator==(const link_ack_response&, const link_ack_response&) = default;
};

using frame_body = std::variant<raft_message, forward_request, forward_response, link_ack_request,
                                link_ack_response, forward_request_batch, forward_response_batch>;

/// A decoded peer frame. `incarnation` is the sender's random per-start number: a change means
/// the sender restarted (a CAF node id alone cannot tell, see docs/architecture.md §8).
struct peer_frame {
  node_name from;
  std::uint64_t incarnation = 0;
  /// The sender's client (RESP) address "host:port", so a follower can name its leader's.
  std::string client_address;
  frame_body body;
};

/// Encodes one frame. Never fails.
std::vector<char> encode_frame(const node_name& from, std::uint64_t incarnation,
                               const std::string& client_address, const frame_body& body);

/// Result of decoding untrusted bytes: a frame, or a short reason it was refused.
struct frame_decode_result {
  std::optional<peer_frame> frame;
  std::string error; ///< empty when frame is set
};

/// Decodes one frame from untrusted bytes. Refuses (never throws, never crashes): frames larger
/// than limits::peer_frame_bytes_max, msgpack over the unpack limits, a wrong version, an unknown
/// kind, a body that does not match its kind, trailing bytes.
frame_decode_result decode_frame(const char* data, std::size_t size);

/// Encodes a client command as the data of a log entry.
std::string encode_command(const client_command& command);

/// Decodes a log entry's command data; nullopt when the bytes are not a valid client_command.
std::optional<client_command> decode_command(const char* data, std::size_t size);

/// The unpack limits every decoder of untrusted msgpack in prez uses.
msgpack::unpack_limit default_unpack_limit();

} // namespace prez
