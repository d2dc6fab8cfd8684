#pragma once
// Leader role: replicates the log with pipelined AppendEntries per peer, commits by counting only
// entries of its own term (Raft §5.4.2), confirms ReadIndex rounds (thesis §6.4), and steps down
// when it loses touch with a majority (thesis §6.2). Pure.

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/raft/raft_types.hpp"

namespace prez::raft {

/// Replication progress of one peer, seen from the leader.
struct peer_progress {
  /// Invariant: match_index < next_index.
  std::uint64_t next_index = 1;
  std::uint64_t match_index = 0;
  /// AppendEntries sent and not yet answered. Invariant: <= config.inflight_appends_max.
  std::size_t inflight = 0;
  /// false: probing (one request at a time until the logs match); true: pipelining.
  bool replicating = false;
  /// Highest heartbeat_seq this peer has answered in the current term.
  std::uint64_t acked_heartbeat_seq = 0;
  /// Heard from the peer since the last check-quorum round.
  bool recently_active = false;
  /// match_index at the last heartbeat; no progress with requests in flight means they were lost.
  std::uint64_t match_at_last_heartbeat = 0;
  /// One AppendEntries in flight: the last log index it carries and the heartbeat round it was
  /// sent in (lost-message detection waits at least one full heartbeat interval).
  struct inflight_append {
    std::uint64_t prev_index = 0;
    std::uint64_t last_index = 0;
    std::uint64_t sent_round = 0;
  };
  /// AppendEntries in flight, oldest first; a success response with match_index m retires every
  /// one with last_index <= m. Heartbeats are not tracked. Invariant:
  /// inflight == inflight_appends.size().
  std::deque<inflight_append> inflight_appends;
  /// InstallSnapshot in progress (Raft §7): the peer needs entries we compacted away, so it gets
  /// our snapshot file in chunks. Set exactly while next_index <= log.snapshot_index().
  struct snapshot_transfer {
    snapshot_ref snapshot; ///< the file being sent
    /// Bytes the peer confirmed holding, and bytes sent. Invariant: acked <= sent <= bytes.
    std::uint64_t acked = 0;
    std::uint64_t sent = 0;
    /// Heartbeat round of the last progress: two rounds without any restart the sending.
    std::uint64_t progress_round = 0;
  };
  std::optional<snapshot_transfer> snapshot;
  /// Heartbeat round after which a second answer saying the peer's log ends below match_index
  /// means it lost its disk (leader_logic.cpp, docs/decisions.md D19); 0: none seen.
  std::uint64_t loss_suspected_round = 0;
};

class leader_logic {
public:
  explicit leader_logic(raft_context context);

  /// Takes office: appends a no-op of the new term (Raft §8) and sends it to every peer.
  raft_effects start();
  raft_effects step(const raft_message& message);
  raft_effects tick();
  raft_effects persisted(std::uint64_t index, std::uint64_t term);
  /// A snapshot of this node's state machine is durable (rules.hpp note_snapshot_taken).
  raft_effects snapshot_taken(const snapshot_ref& snapshot);
  /// A snapshot this node received as a follower finished storing after it became leader:
  /// nothing to do (the file stays on disk; our state machine already holds more).
  raft_effects snapshot_received(const snapshot_ref&, bool, const membership&) { return {}; }

  /// Appends client commands (entry data, see messages/wire_codec.hpp) as one batch. Returns
  /// false and changes nothing when the uncommitted bytes would exceed the limit.
  bool propose(std::vector<std::string> commands, raft_effects& effects);
  /// Starts (or joins) a ReadIndex round for each id; ready ids come back in effects.reads,
  /// possibly in this call (single-node cluster) or a later one. Each read's index is at least
  /// `index_floor` (an entry of this leader's log the reads must see, such as a clock entry).
  /// Precondition: index_floor <= the last log index.
  raft_effects read_index(const std::vector<std::uint64_t>& read_ids,
                          std::uint64_t index_floor = 0);

  /// Appends a configuration entry (thesis §4, one server at a time). Returns the refusal as a
  /// RESP error text without the leading '-' ("TRYAGAIN ..." while the new leader has not
  /// committed an entry of its term or another change is uncommitted; "ERR ..." for a bad
  /// configuration), empty when appended.
  std::string propose_config(config_change change, raft_effects& effects);

  /// Leadership transfer (thesis §3.10) to voter `target`, or to the most up-to-date voter when
  /// `target` is empty: the target is caught up, then sent TimeoutNow; new proposals should wait
  /// meanwhile (transferring()). Gives up after an election timeout. Returns the refusal as a
  /// RESP error text without the '-', empty when started.
  std::string transfer_leadership(const node_name& target, raft_effects& effects);
  /// A transfer is under way (TimeoutNow not yet answered by an election, or not yet sent).
  bool transferring() const { return transfer_.has_value(); }
  /// Whether the last transfer gave up (reset by the next transfer); for the caller's reply.
  const std::optional<node_name>& transfer_target() const { return transfer_target_; }
  bool transfer_sent() const { return transfer_ && transfer_->sent; }

  raft_status status() const;
  const raft_context& context() const { return context_; }
  const std::map<node_name, peer_progress>& progress() const { return peers_; }
  /// Hands the context to the next role; pending reads must be failed by the caller (their ids
  /// come back in reads_failed of the effects that ended the role).
  raft_context release() { return std::move(context_); }

private:
  void send_append(const node_name& peer, peer_progress& progress, bool with_entries,
                   raft_effects& effects);
  /// Sends what the window allows: one probe when probing, a pipeline when replicating.
  void send_entries(const node_name& peer, peer_progress& progress, raft_effects& effects);
  void send_heartbeat(const node_name& peer, const peer_progress& progress, raft_effects& effects);
  /// Whether the peer needs entries we no longer hold.
  bool needs_snapshot(const peer_progress& progress) const;
  /// Sends the next chunks of our snapshot that the window allows (starting a transfer if none).
  void send_snapshot(const node_name& peer, peer_progress& progress, raft_effects& effects);
  void handle_snapshot_response(const node_name& from, const install_snapshot_response& response,
                                raft_effects& effects);
  void heartbeat_round(bool detect_lost, raft_effects& effects);
  void become_probing(peer_progress& progress, std::uint64_t next_index);
  void check_progress(const peer_progress& progress) const;
  void step_down(raft_effects& effects, std::optional<raft_message> redeliver);
  /// Makes peers_ follow the configuration in effect: a progress for every member but self.
  void sync_peers();
  /// Whether `name` is a voter of the configuration in effect (its acknowledgements count).
  bool counts(const node_name& name) const;
  /// Promotes a learner marked `promote` once it has caught up (one change at a time).
  void maybe_promote(raft_effects& effects);
  /// Drops departing nodes that hold their removal or whose time is up.
  void forget_departed();
  /// Heartbeat rounds a departing node keeps getting the log (about two election timeouts).
  static constexpr std::uint64_t departing_rounds = 20;
  void handle_append_response(const node_name& from, const append_entries_response& response,
                              raft_effects& effects);
  void maybe_commit(raft_effects& effects);
  void start_read_round(const std::vector<std::uint64_t>& read_ids, raft_effects& effects);
  void maybe_confirm_reads(raft_effects& effects);
  /// An entry of our term (the no-op or later) is committed (thesis §6.4).
  bool committed_in_term() const;

  raft_context context_;
  std::map<node_name, peer_progress> peers_;
  std::uint64_t heartbeat_seq_ = 0;
  std::uint32_t ticks_since_heartbeat_ = 0;
  /// Heartbeat rounds sent since taking office (timer rounds only, not ReadIndex rounds).
  std::uint64_t heartbeat_round_ = 0;
  std::uint32_t ticks_since_quorum_check_ = 0;
  /// Reads waiting for an entry of this term to commit (the no-op) before they get an index.
  std::vector<std::uint64_t> reads_waiting_for_commit_;
  struct pending_read {
    std::uint64_t read_id;
    std::uint64_t index;
    std::uint64_t heartbeat_seq;
  };
  /// Reads waiting for a quorum to acknowledge heartbeat_seq. Ordered by heartbeat_seq.
  std::vector<pending_read> pending_reads_;
  /// The least index a read started from now is served at. Only grows.
  std::uint64_t read_index_floor_ = 0;
  /// Bytes of command data of our term appended and not yet committed.
  std::size_t uncommitted_bytes_ = 0;
  /// Index of the no-op appended by start(); 0 before start().
  std::uint64_t noop_index_ = 0;
  /// Nodes our last configuration entry removed: still sent the log, so they learn of their
  /// removal, until they hold that entry (its index here) or a while has passed (the heartbeat
  /// round given). They never count toward a quorum.
  struct departing_node {
    std::uint64_t config_index = 0;
    std::uint64_t until_round = 0;
  };
  std::map<node_name, departing_node> departing_;
  /// The leadership transfer under way.
  struct transfer_state {
    node_name target;
    std::uint32_t ticks_left = 0;
    bool sent = false; ///< TimeoutNow went out
  };
  std::optional<transfer_state> transfer_;
  std::optional<node_name> transfer_target_;
  /// Sends TimeoutNow once the target holds our whole log.
  void maybe_send_timeout_now(raft_effects& effects);
};

} // namespace prez::raft
