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
  /// Decided once, by the gateway that parsed the command: it goes through the log (a write, a
  /// transaction, or a read that must take its place among its connection's writes) rather than
  /// being served after a ReadIndex round.
  bool through_log = false;
  /// The seq of this client's command through the log that was still unanswered when this one
  /// was sent (0: none). The state machine applies this one only after that one (per-connection
  /// order, docs/decisions.md D14); a command that would overtake it is not applied and retried.
  std::uint64_t after_seq = 0;
  MSGPACK_DEFINE(client_id, seq, time_ms, argv, transaction, watched, through_log, after_seq)

  bool is_transaction() const { return !transaction.empty(); }
  friend bool operator==(const client_command&, const client_command&) = default;
};

/// A clock entry: no client, no command, only the leader's time (time_ms). The leader appends one
/// before a ReadIndex round when its last stamp is older than limits::read_clock_refresh_ms, so
/// reads, served at the cluster clock, see time move (docs/expiry.md).
inline client_command make_clock_entry(std::uint64_t time_ms) {
  client_command c;
  c.time_ms = time_ms;
  c.through_log = true;
  return c;
}
inline bool is_clock_entry(const client_command& c) {
  return c.client_id == 0 && c.argv.empty() && c.transaction.empty();
}

/// The result of applying one client command, for the session that waits for it. In-process
/// only (state machine to session manager).
struct applied_result {
  std::uint64_t client_id = 0;
  std::uint64_t seq = 0;
  std::string reply; ///< RESP bytes
  /// Not applied: it would have overtaken its connection's earlier command (after_seq); the
  /// session sends it again.
  bool out_of_order = false;
};

/// How a forwarded command ended on the leader.
enum class forward_status : std::uint8_t {
  ok = 0,         ///< reply holds the RESP bytes to give the client
  not_leader = 1, ///< the receiver is not (or no longer) the leader: retry elsewhere
  unknown = 2,    ///< proposed, outcome unknown (timed out or leadership lost after proposing)
  refused = 3,    ///< refused before it was proposed (busy, too much uncommitted, out of order):
                  ///< this attempt was not applied; the origin decides whether to retry
};

/// A follower's session manager asks the leader's to run a command (docs/architecture.md §3.3).
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

/// The forwarded commands a session manager had for one peer at once, in their order: one frame.
struct forward_request_batch {
  std::vector<forward_request> requests;
  MSGPACK_DEFINE(requests)
  friend bool operator==(const forward_request_batch&, const forward_request_batch&) = default;
};

/// The answers a session manager had for one peer at once, in their order: one frame.
struct forward_response_batch {
  std::vector<forward_response> responses;
  MSGPACK_DEFINE(responses)
  friend bool operator==(const forward_response_batch&, const forward_response_batch&) = default;
};

} // namespace prez
