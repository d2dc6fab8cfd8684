#pragma once
// Follower role (Raft §5.2, §5.3): accepts entries from the leader, grants votes, and turns into
// a candidate when it has not heard from a leader for an election timeout. Pure.

#include <optional>

#include "actors/raft/raft_types.hpp"

namespace prez::raft {

class follower_logic {
public:
  /// Takes over the context. `leader` is the leader already known in this term, if any.
  explicit follower_logic(raft_context context, node_name leader = {});

  /// Effects of taking office (none today, kept for symmetry with the other roles).
  raft_effects start();
  /// One message from a peer.
  raft_effects step(const raft_message& message);
  /// One unit of logical time.
  raft_effects tick();
  /// The log actor confirmed entries up to (index, term) durable.
  raft_effects persisted(std::uint64_t index, std::uint64_t term);
  /// A snapshot of this node's state machine is durable (rules.hpp note_snapshot_taken).
  raft_effects snapshot_taken(const snapshot_ref& snapshot);
  /// The storage finished the snapshot whose last chunk effects.snapshot_writes carried: `ok`
  /// means the file is valid and durable as snapshot `snapshot`. Installs it (Raft §7: keep the
  /// log after it when the log holds its last entry, else drop the whole log), tells the state
  /// machine to load it, and answers the leader once the log change is durable.
  /// `config` is the snapshot's configuration (empty: the file predates membership changes).
  raft_effects snapshot_received(const snapshot_ref& snapshot, bool ok, const membership& config);

  /// The leader of the current term, empty when unknown.
  const node_name& leader() const { return leader_; }
  raft_status status() const;
  const raft_context& context() const { return context_; }
  /// Hands the context to the next role. The logic must not be used afterwards.
  raft_context release() { return std::move(context_); }

private:
  void handle_append_entries(const raft_message& message, const append_entries_request& request,
                             raft_effects& effects);
  void handle_vote_request(const raft_message& message, const vote_request& request,
                           raft_effects& effects);
  void handle_install_snapshot(const raft_message& message, const install_snapshot_request& request,
                               raft_effects& effects);
  void handle_timeout_now(const raft_message& message, const timeout_now& request,
                          raft_effects& effects);
  void reset_election_timer();
  /// Leader stickiness (thesis §9.6): a leader of our term was heard from within the minimum
  /// election timeout, so pre-votes are refused.
  bool leader_recently_heard() const;

  raft_context context_;
  node_name leader_;
  // Ticks since the last valid message from the current leader (or since start).
  std::uint32_t ticks_since_leader_ = 0;
  // Randomised in [election_timeout_ticks, 2 * election_timeout_ticks); redrawn on every reset.
  std::uint32_t election_deadline_ticks_ = 0;
  /// The snapshot being received from the leader: which one and the next offset expected.
  struct receive_state {
    std::uint64_t index = 0;
    std::uint64_t term = 0;
    std::uint64_t next_offset = 0;
    bool finishing = false; ///< the last chunk went to storage; waiting for snapshot_received
  };
  std::optional<receive_state> receiving_;
};

} // namespace prez::raft
