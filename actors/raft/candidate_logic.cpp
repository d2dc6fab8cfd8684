// Candidate role: pre-vote (thesis §9.6), then election (Raft §5.2). Pure: no CAF.
#include "actors/raft/candidate_logic.hpp"

#include "actors/raft/rules.hpp"

namespace prez::raft {

candidate_logic::candidate_logic(raft_context context) : context_(std::move(context)) {
  ensure_config(context_);
  check_context(context_);
}

raft_effects candidate_logic::start() {
  raft_effects effects;
  // A TimeoutNow handed on by the follower we were may have started the election already (it
  // can reach the role before its start); that election stands.
  if (election_started_) return effects;
  // Learners, nodes not yet added and removed nodes never campaign (thesis §4).
  if (!may_campaign(context_)) {
    step_down(effects, std::nullopt);
    return effects;
  }
  // A single voter needs nobody's agreement: straight to the election, which it wins at once.
  if (context_.config.pre_vote && !voter_peers(context_).empty())
    start_pre_vote(effects);
  else
    start_election(effects);
  return effects;
}

void candidate_logic::start_round() {
  granted_.clear();
  refused_.clear();
  if (counts_own_vote(context_)) granted_.insert(context_.config.self);
  ticks_in_round_ = 0;
  round_deadline_ticks_ = random_election_timeout(context_);
}

void candidate_logic::start_pre_vote(raft_effects& effects) {
  pre_vote_phase_ = true;
  start_round();
  // No term bump and nothing to persist: the probe goes out at once.
  const auto request = make_vote_request(context_, true);
  for (const auto& peer : voter_peers(context_))
    effects.messages.push_back(make_message(context_, peer, request));
}

void candidate_logic::start_election(raft_effects& effects) {
  pre_vote_phase_ = false;
  election_started_ = true;
  context_.hard.term += 1;
  context_.hard.voted_for = context_.config.self;
  effects.hard_state_changed = true;
  start_round();
  // Our term and self-vote must be durable before anyone can count on them.
  const auto request = make_vote_request(context_, false);
  for (const auto& peer : voter_peers(context_))
    effects.messages_after_persist.push_back(make_message(context_, peer, request));
  if (granted_.size() >= quorum_of(context_)) effects.next_role = role::leader;
}

raft_effects candidate_logic::tick() {
  raft_effects effects;
  ++ticks_in_round_;
  // Raft §5.2: a split vote ends with a timeout and a new round (again from the pre-vote).
  if (ticks_in_round_ >= round_deadline_ticks_) {
    if (context_.config.pre_vote)
      start_pre_vote(effects);
    else
      start_election(effects);
  }
  return effects;
}

raft_effects candidate_logic::snapshot_taken(const snapshot_ref& snapshot) {
  raft_effects effects;
  note_snapshot_taken(context_, snapshot, effects);
  return effects;
}

raft_effects candidate_logic::persisted(std::uint64_t index, std::uint64_t term) {
  note_persisted(context_, index, term);
  return {};
}

void candidate_logic::step_down(raft_effects& effects, std::optional<raft_message> redeliver) {
  effects.next_role = role::follower;
  effects.redeliver = std::move(redeliver);
}

raft_effects candidate_logic::step(const raft_message& message) {
  raft_effects effects;
  if (!heard_from(context_, message.from)) return effects;
  std::visit(
      [&](const auto& payload) {
        using T = std::decay_t<decltype(payload)>;
        if constexpr (std::is_same_v<T, vote_request>)
          handle_vote_request(message, payload, effects);
        else if constexpr (std::is_same_v<T, vote_response>)
          handle_vote_response(message, payload, effects);
        else if constexpr (std::is_same_v<T, append_entries_request> ||
                           std::is_same_v<T, install_snapshot_request>)
          handle_leader_request(message, payload.term, effects);
        else if constexpr (std::is_same_v<T, timeout_now>) {
          // Handed over by our term's leader (the follower we were passed it on): skip the
          // pre-vote and hold the real election now (thesis §3.10).
          if (payload.term == context_.hard.term && !election_started_ && may_campaign(context_))
            start_election(effects);
        } else if (payload.term > context_.hard.term) {
          // A late AppendEntries response of a newer term: adopt it and follow.
          maybe_adopt_term(context_, payload.term, effects);
          step_down(effects, std::nullopt);
        }
      },
      message.payload);
  return effects;
}

void candidate_logic::handle_vote_request(const raft_message& message, const vote_request& request,
                                          raft_effects& effects) {
  if (request.pre_vote) {
    // A candidate knows no leader: only the term, vote and log decide.
    const bool granted = should_grant_pre_vote(context_, message.from, request, false);
    effects.messages.push_back(pre_vote_reply(context_, message, granted));
    return;
  }
  if (request.term < context_.hard.term) {
    effects.messages.push_back(stale_refusal(context_, message));
    return;
  }
  // A real election of a newer term, or of our term while we only probe: let the follower
  // decide (Figure 2, "all servers"). In our own real election we voted for ourselves.
  if (request.term > context_.hard.term || pre_vote_phase_) {
    maybe_adopt_term(context_, request.term, effects);
    step_down(effects, message);
    return;
  }
  answer_vote_request(context_, message, effects);
}

void candidate_logic::handle_vote_response(const raft_message& message,
                                           const vote_response& response, raft_effects& effects) {
  if (response.pre_vote && response.granted) {
    // Granted pre-votes carry the term asked about, hard.term + 1.
    if (!pre_vote_phase_ || response.term != context_.hard.term + 1) return;
    if (!config_of(context_).is_voter(message.from)) return; // only voters' answers count
    granted_.insert(message.from);
    if (granted_.size() >= quorum_of(context_)) start_election(effects);
    return;
  }
  // A refusal (pre-vote or real) or a real vote: carries the voter's real term.
  if (response.term > context_.hard.term) {
    maybe_adopt_term(context_, response.term, effects);
    step_down(effects, std::nullopt);
    return;
  }
  if (response.pre_vote != pre_vote_phase_ || response.term < context_.hard.term)
    return; // from an earlier round or phase
  if (!response.granted) {
    refused_.insert(message.from);
    return;
  }
  if (!config_of(context_).is_voter(message.from)) return;
  granted_.insert(message.from);
  if (granted_.size() >= quorum_of(context_)) effects.next_role = role::leader;
}

void candidate_logic::handle_leader_request(const raft_message& message, std::uint64_t term,
                                            raft_effects& effects) {
  if (term < context_.hard.term) {
    effects.messages.push_back(stale_refusal(context_, message));
    return;
  }
  // Raft §5.2: a leader of our term (or newer) exists; follow it.
  maybe_adopt_term(context_, term, effects);
  step_down(effects, message);
}

raft_status candidate_logic::status() const {
  return status_of(context_, role::candidate, {});
}

} // namespace prez::raft
