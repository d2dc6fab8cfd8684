#pragma once
// Client commands as they travel between nodes (forwarding) and inside log entries. Pure: no CAF.

#include <cstdint>
#include <string>
#include <vector>

#include <msgpack.hpp>

namespace prez {

/// A client command with its exactly-once identity (thesis §6.3): (client_id, seq) is unique in
/// the cluster. client_id is drawn from the originating node's random incarnation plus a counter.
struct client_command {
  std::uint64_t client_id = 0;
  std::uint64_t seq = 0;
  /// Leader's clock when the entry was proposed, milliseconds since the epoch; 0 when unset.
  /// Stamped by the leader so every replica sees the same time at the same log position.
  std::uint64_t time_ms = 0;
  std::vector<std::string> argv;
  /// MULTI ... EXEC: the queued commands, applied atomically as one log entry (argv is {"EXEC"}).
  std::vector<std::vector<std::string>> transaction;
  /// WATCH: (key, version) pairs read before MULTI; EXEC aborts if any version changed. Checked at
  /// apply time, identically on every replica.
  std::vector<std::pair<std::string, std::uint64_t>> watched;
  MSGPACK_DEFINE(client_id, seq, time_ms, argv, transaction, watched)

  /// True when the command changes state and so goes through the log.
  bool is_transaction() const { return !transaction.empty(); }
  friend bool operator==(const client_command&, const client_command&) = default;
};

/// How a forwarded command ended on the leader.
enum class forward_status : std::uint8_t {
  ok = 0,         ///< reply holds the RESP bytes to give the client
  not_leader = 1, ///< the receiver is not (or no longer) the leader: retry elsewhere
  unknown = 2,    ///< proposed, outcome unknown (timed out or leadership lost after proposing)
};

/// A follower's session manager asks the leader's to run a command (DESIGN §2).
struct forward_request {
  std::uint64_t forward_id = 0; ///< chosen by the sender; echoed in the response
  client_command command;
  MSGPACK_DEFINE(forward_id, command)
  friend bool operator==(const forward_request&, const forward_request&) = default;
};

struct forward_response {
  std::uint64_t forward_id = 0;
  std::uint8_t status = static_cast<std::uint8_t>(forward_status::ok);
  std::string reply; ///< RESP-encoded reply when status == ok
  MSGPACK_DEFINE(forward_id, status, reply)
  friend bool operator==(const forward_response&, const forward_response&) = default;
};

} // namespace prez
