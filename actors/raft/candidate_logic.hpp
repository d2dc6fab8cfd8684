#pragma once
// Candidate role: first a pre-vote round (thesis §9.6) that changes no term, then, if a majority
// would vote, a real election (Raft §5.2) with a durable term bump and self-vote. Pure.

#include <optional>
#include <set>

#include "actors/raft/raft_types.hpp"

namespace prez::raft {

class candidate_logic {
public:
  explicit candidate_logic(raft_context context);

  /// Starts campaigning: the pre-vote round when config.pre_vote, else the real election.
  raft_effects start();
  raft_effects step(const raft_message& message);
  raft_effects tick();
  raft_effects persisted(std::uint64_t index, std::uint64_t term);
  /// A snapshot of this node's state machine is durable (rules.hpp note_snapshot_taken).
  raft_effects snapshot_taken(const snapshot_ref& snapshot);
  /// A snapshot received as a follower finished storing: not acted on by a candidate (the
  /// leader will send it again if the follower we become still needs it).
  raft_effects snapshot_received(const snapshot_ref&, bool, const membership&) { return {}; }

  bool in_pre_vote() const { return pre_vote_phase_; }
  raft_status status() const;
  const raft_context& context() const { return context_; }
  raft_context release() { return std::move(context_); }

private:
  void start_round();
  void start_pre_vote(raft_effects& effects);
  void start_election(raft_effects& effects);
  void step_down(raft_effects& effects, std::optional<raft_message> redeliver);
  void handle_vote_request(const raft_message& message, const vote_request& request,
                           raft_effects& effects);
  void handle_vote_response(const raft_message& message, const vote_response& response,
                            raft_effects& effects);
  /// AppendEntries or InstallSnapshot from a leader of `term`: refused when stale, else we follow.
  void handle_leader_request(const raft_message& message, std::uint64_t term,
                             raft_effects& effects);

  raft_context context_;
  bool pre_vote_phase_ = true;
  /// A real election (a term bump) has been started by this role.
  bool election_started_ = false;
  std::set<node_name> granted_;
  std::set<node_name> refused_;
  std::uint32_t ticks_in_round_ = 0;
  std::uint32_t round_deadline_ticks_ = 0;
};

} // namespace prez::raft
