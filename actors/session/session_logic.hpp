#pragma once
// The session manager's decisions, as plain C++ (docs/architecture.md §6): where a client command
// goes (the local leader, the leader's session manager on another node, a redirect, or a wait for a
// leader), when it is tried again, and which answer its client gets. session_actor.cpp is the glue
// that feeds mailbox messages in and carries the effects out; the unit tests and the simulator
// drive the very same code. No clock (time comes in as milliseconds of a monotonic clock), no CAF.
//
// The one rule behind every answer (thesis §6.3): once a write has left this node (proposed to
// the local leader or forwarded to another node's), it may have been applied, so its client gets
// its result or `-UNKNOWN`, never a definite failure and never a redirect. A retry keeps the
// command's (client_id, seq), so the state machine's session table answers a duplicate from the
// reply it kept instead of applying it twice.

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "actors/raft/raft_types.hpp"
#include "messages/client_messages.hpp"

namespace prez::session {

/// A client connection on this node, named by a token the glue maps to its response promise.
struct local_origin {
  std::uint64_t token = 0;
  friend bool operator==(const local_origin&, const local_origin&) = default;
};

/// A command that another node's session manager forwarded here.
struct remote_origin {
  node_name peer;
  std::uint64_t forward_id = 0;
  friend bool operator==(const remote_origin&, const remote_origin&) = default;
};

/// Who waits for an answer.
using origin = std::variant<local_origin, remote_origin>;

/// Fixed settings of one session manager.
struct session_config {
  node_name self;
  /// This start's random number: forward ids start from it, so an answer meant for an earlier
  /// incarnation of this node never matches a command of this one.
  std::uint64_t incarnation = 0;
  /// A command waits this long (from acceptance) for a leader before it is given up.
  std::uint64_t leader_wait_ms = 3000;
  /// A write proposed or forwarded waits this long for its result before `-UNKNOWN`; a
  /// blocking command (BLPOP, ...) waits its timeout longer, and forever without one.
  std::uint64_t write_timeout_ms = 5000;
  /// Extra time a forwarded command is given: the leader's own write timeout runs inside it.
  std::uint64_t forward_slack_ms = 1000;
  /// follower-mode redirect: a command that never left this node is answered `-MOVED`.
  bool redirect = false;
  /// Commands pending at most (limits::pending_commands_max in the server).
  std::size_t pending_max = 256 * 1024;
  /// Back-off of a command that bounced (refused, link down): doubles from min to max.
  std::uint64_t retry_backoff_min_ms = 20;
  std::uint64_t retry_backoff_max_ms = 640;
};

/// What this node knows of the cluster's roles.
struct role_view {
  raft::role current = raft::role::follower;
  /// Increases with every role actor the node spawns; proposals and reads sent to an earlier one
  /// may have been dropped when it retired.
  std::uint64_t epoch = 0;
  node_name leader;           ///< empty when unknown
  std::string leader_address; ///< the leader's client address "host:port"; empty when unknown
  /// This node was removed from the cluster: every command is refused (replies::removed).
  bool removed = false;
};

/// An answer for a client or for a forwarding node.
struct answer {
  origin to;
  /// For a remote origin: how the command ended here. For a local origin always ok: the text is
  /// what the client gets.
  forward_status status = forward_status::ok;
  std::string text; ///< RESP bytes
};

/// A read whose ReadIndex round succeeded: serve `argv` once the state machine applied `index`,
/// then send the result to `to` (a read's answer is its result, whatever happens meanwhile).
struct serve_read {
  origin to;
  std::uint64_t index = 0;
  std::vector<std::string> argv;
};

/// What the glue must do after one input, in this order.
struct session_effects {
  std::vector<client_command> propose;   ///< to the local leader role actor
  std::vector<std::uint64_t> read_index; ///< read ids, to the local leader role actor
  std::vector<std::pair<node_name, forward_request>> forward; ///< to the named peer's session
  std::vector<serve_read> serve;
  std::vector<answer> answers;
};

/// Fixed answers, with Redis-style codes. Every "not applied" one is given only to a command
/// that never left this node, or whose every attempt was refused before it was proposed.
namespace replies {
inline const std::string clusterdown =
    "-CLUSTERDOWN no leader is available; the command was not applied, try again\r\n";
inline const std::string unknown = "-UNKNOWN the write was proposed but its outcome is unknown "
                                   "(timed out); it may or may not have been applied\r\n";
inline const std::string read_timeout =
    "-CLUSTERDOWN the read could not be confirmed by a quorum in time; try again\r\n";
inline const std::string apply_timeout =
    "-CLUSTERDOWN the read was confirmed but this node's state machine did not apply up to it in "
    "time; try again\r\n";
inline const std::string refused =
    "-TRYAGAIN too many uncommitted writes on the leader; the command was not applied\r\n";
inline const std::string busy = "-BUSY too many commands pending on this node\r\n";
inline const std::string removed =
    "-ERR this node was removed from the cluster (RAFT.NODE REMOVE) and serves no command; "
    "connect to a current member\r\n";
} // namespace replies

/// The session manager of one node. Owned by session_actor; not thread-safe.
class session_logic {
public:
  explicit session_logic(session_config config);

  /// A client command from a local connection (`token`) or a forwarding node.
  /// `command.through_log` says whether it goes through the log (a write, a transaction, or a
  /// read that must keep its place among the connection's writes) or is served by ReadIndex.
  session_effects accept(client_command command, origin from, std::uint64_t now_ms);
  /// The node's role, epoch or known leader changed.
  session_effects set_role(const role_view& role, std::uint64_t now_ms);
  /// The state machine applied these commands (client_id, seq, reply).
  session_effects applied(const std::vector<applied_result>& results, std::uint64_t now_ms);
  /// The local leader refused a proposal before appending it (too many uncommitted bytes).
  session_effects refused(std::uint64_t client_id, std::uint64_t seq, std::uint64_t now_ms);
  /// ReadIndex rounds that succeeded, and ones that failed (leadership lost).
  session_effects read_ok(const std::vector<raft::read_ready>& ready);
  session_effects read_failed(const std::vector<std::uint64_t>& ids, std::uint64_t now_ms);
  /// Another node's answer to a forward. Ignored unless it comes from the node the command was
  /// forwarded to, with the id of its latest attempt.
  session_effects forwarded_answer(const node_name& from, const forward_response& response,
                                   std::uint64_t now_ms);
  /// Time passed: commands past their deadline are answered; waiting ones are retried.
  session_effects tick(std::uint64_t now_ms);

  /// Commands held now (the gateway's back-pressure and tests).
  std::size_t pending() const;
  const role_view& role() const { return role_; }

private:
  struct pending_command {
    client_command command;
    origin from;
    /// When the current proposal, read or forward gives up (reset on every attempt).
    std::uint64_t deadline_ms = 0;
    /// When waiting for a leader gives up: fixed at acceptance, so retries cannot extend it.
    std::uint64_t leader_deadline_ms = 0;
    /// Attempts that left this node (proposed here or forwarded), and how many of those were
    /// refused before anything was proposed. Invariant: refused <= sent. sent > refused means
    /// the command may have been applied: only its result or -UNKNOWN may answer it.
    std::uint32_t sent = 0;
    std::uint32_t refused = 0;
    /// The epoch of the role actor it was proposed or read through.
    std::uint64_t epoch = 0;
    /// The node it was forwarded to (its latest attempt).
    node_name forwarded_to;
    /// A bounced command is not retried before this time; the back-off doubles per bounce.
    std::uint64_t not_before_ms = 0;
    std::uint64_t backoff_ms = 0;

    bool maybe_applied() const { return sent > refused; }
  };

  void route(pending_command&& pc, std::uint64_t now_ms, session_effects& fx);
  void wait_for_retry(pending_command&& pc, std::uint64_t now_ms);
  void give_up(pending_command& pc, const std::string& not_applied_text, session_effects& fx);
  void reply(const origin& to, forward_status status, std::string text, session_effects& fx);
  void retry_stale(std::uint64_t now_ms, session_effects& fx);
  void drain_waiting(std::uint64_t now_ms, session_effects& fx);
  /// Drops forward_ids_'s item for `pc`, forwarded under `id`, when it names that forward.
  void forget_forward(const pending_command& pc, std::uint64_t id);

  session_config config_;
  role_view role_;
  std::uint64_t next_read_id_ = 0;
  /// Starts at the incarnation: ids are unique across this node's restarts.
  std::uint64_t next_forward_id_ = 0;
  /// Commands through the log, proposed to the local leader, by (client_id, seq).
  std::map<std::pair<std::uint64_t, std::uint64_t>, pending_command> writes_;
  /// Reads waiting for their ReadIndex round, by read id.
  std::map<std::uint64_t, pending_command> reads_;
  /// Commands sent to the leader's session manager, by forward id.
  std::map<std::uint64_t, pending_command> forwarded_;
  /// (client_id, seq) -> forward id, for each command in forwarded_ that goes through the log:
  /// this node's own state machine applies it too, and its result answers the client as the
  /// leader's would (a blocked command served long after its leader changed, or restarted).
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::uint64_t> forward_ids_;
  /// Commands waiting for a leader to be known, or for their back-off to pass. FIFO, so a
  /// connection's commands that bounce together are retried in their order.
  std::deque<pending_command> waiting_;
};

} // namespace prez::session
