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
};

} // namespace prez::raft
