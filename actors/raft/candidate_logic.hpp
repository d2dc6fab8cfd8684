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
  void handle_append_entries(const raft_message& message, const append_entries_request& request,
                             raft_effects& effects);

  raft_context context_;
  bool pre_vote_phase_ = true;
  std::set<node_name> granted_;
  std::set<node_name> refused_;
  std::uint32_t ticks_in_round_ = 0;
  std::uint32_t round_deadline_ticks_ = 0;
};

} // namespace prez::raft
