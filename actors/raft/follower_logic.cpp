// Follower role (Raft §5.2, §5.3). Pure: no CAF.
#include "actors/raft/follower_logic.hpp"

#include "actors/raft/rules.hpp"

namespace prez::raft {

follower_logic::follower_logic(raft_context context, node_name leader)
    : context_(std::move(context)), leader_(std::move(leader)) {
  ensure_config(context_);
  check_context(context_);
  election_deadline_ticks_ = random_election_timeout(context_);
}

raft_effects follower_logic::start() {
  return {};
}

raft_effects follower_logic::tick() {
  raft_effects effects;
  ++ticks_since_leader_;
  // Figure 2, "followers": no AppendEntries from the leader and no vote granted for an election
  // timeout: campaign. Only a voter does (thesis §4); the others wait to hear from a leader.
  if (ticks_since_leader_ >= election_deadline_ticks_ && may_campaign(context_))
    effects.next_role = role::candidate;
  return effects;
}

raft_effects follower_logic::persisted(std::uint64_t index, std::uint64_t term) {
  note_persisted(context_, index, term);
  return {};
}

void follower_logic::reset_election_timer() {
  ticks_since_leader_ = 0;
  election_deadline_ticks_ = random_election_timeout(context_);
}

bool follower_logic::leader_recently_heard() const {
  return !leader_.empty() && ticks_since_leader_ < context_.config.election_timeout_ticks;
}

raft_effects follower_logic::step(const raft_message& message) {
  raft_effects effects;
  if (!heard_from(context_, message.from)) return effects;
  // A request older than our term is refused with our term (Figure 2); a stale response is
  // dropped.
  if (message.term() < context_.hard.term) {
    const bool is_request = std::holds_alternative<vote_request>(message.payload) ||
                            std::holds_alternative<append_entries_request>(message.payload) ||
                            std::holds_alternative<install_snapshot_request>(message.payload);
    if (is_request) effects.messages.push_back(stale_refusal(context_, message));
    return effects;
  }
  if (carries_real_term(message) && maybe_adopt_term(context_, message.term(), effects))
    leader_.clear();
  std::visit(
      [&](const auto& payload) {
        using T = std::decay_t<decltype(payload)>;
        if constexpr (std::is_same_v<T, append_entries_request>)
          handle_append_entries(message, payload, effects);
        else if constexpr (std::is_same_v<T, vote_request>)
          handle_vote_request(message, payload, effects);
        else if constexpr (std::is_same_v<T, install_snapshot_request>)
          handle_install_snapshot(message, payload, effects);
        else if constexpr (std::is_same_v<T, timeout_now>)
          handle_timeout_now(message, payload, effects);
        // Responses of our term reach a follower only late, from a role it left: ignored.
      },
      message.payload);
  return effects;
}

void follower_logic::handle_append_entries(const raft_message& message,
                                           const append_entries_request& request,
                                           raft_effects& effects) {
  PREZ_ASSERT(request.term == context_.hard.term);
  auto outcome = accept_append(context_, request, effects);
  if (outcome.malformed) return;
  leader_ = message.from;
  reset_election_timer();
  auto reply = make_message(context_, message.from, outcome.response);
  // A success claims the entries are durable: it always waits for persistence (the actor layer
  // issues a sync barrier when this step wrote nothing).
  if (outcome.response.success)
    effects.messages_after_persist.push_back(std::move(reply));
  else
    send_reply(effects, std::move(reply));
}

void follower_logic::handle_install_snapshot(const raft_message& message,
                                             const install_snapshot_request& request,
                                             raft_effects& effects) {
  PREZ_ASSERT(request.term == context_.hard.term);
  if (request.last_index == 0 || request.last_term == 0 || request.last_term > request.term)
    return; // malformed: drop
  leader_ = message.from;
  reset_election_timer();
  install_snapshot_response response{context_.hard.term, request.last_index, 0, false};
  if (request.last_index <= context_.commit_index) {
    // We hold everything it covers already: committed entries equal the leader's (§5.4.3).
    receiving_.reset();
    response.installed = true;
    effects.messages_after_persist.push_back(make_message(context_, message.from, response));
    return;
  }
  if (request.offset == 0)
    receiving_ = receive_state{request.last_index, request.last_term, 0, false};
  const bool expected =
      receiving_ && !receiving_->finishing && receiving_->index == request.last_index &&
      receiving_->term == request.last_term && receiving_->next_offset == request.offset;
  if (!expected) {
    // Out of order, or a snapshot we are not receiving: say where we are (0: start over).
    const bool same = receiving_ && receiving_->index == request.last_index &&
                      receiving_->term == request.last_term;
    response.next_offset = same ? receiving_->next_offset : 0;
    effects.messages.push_back(make_message(context_, message.from, response));
    return;
  }
  receiving_->next_offset += request.data.size();
  effects.snapshot_writes.push_back(snapshot_write{request});
  if (request.done) {
    receiving_->finishing = true; // answered by snapshot_received
    return;
  }
  response.next_offset = receiving_->next_offset;
  effects.messages.push_back(make_message(context_, message.from, response));
}

raft_effects follower_logic::snapshot_taken(const snapshot_ref& snapshot) {
  raft_effects effects;
  note_snapshot_taken(context_, snapshot, effects);
  return effects;
}

raft_effects follower_logic::snapshot_received(const snapshot_ref& snapshot, bool ok,
                                               const membership& config) {
  raft_effects effects;
  const bool ours =
      receiving_ && receiving_->index == snapshot.index && receiving_->term == snapshot.term;
  if (ours) receiving_.reset();
  install_snapshot_response response{context_.hard.term, snapshot.index, 0, false};
  if (!ok) {
    if (ours && !leader_.empty())
      effects.messages.push_back(make_message(context_, leader_, response));
    return effects;
  }
  if (snapshot.index <= context_.applied_index) {
    // Our state machine is already past it; keep it only as the newest file if it is.
    if (snapshot.index > context_.snapshot.index &&
        context_.log.term_at(snapshot.index) == snapshot.term)
      context_.snapshot = snapshot;
  } else {
    if (context_.log.term_at(snapshot.index) == snapshot.term) {
      // Figure 13, step 6: the log holds the snapshot's last entry; keep what follows it. The
      // entries up to it are not applied one by one: the state machine loads the snapshot.
      context_.snapshot = snapshot;
    } else {
      // Figure 13, step 7: discard the whole log.
      // The snapshot's configuration is the one at its last index (§7); a file from before
      // membership changes carries none, and the configuration then has not changed.
      context_.log.reset_to_snapshot(snapshot.index, snapshot.term,
                                     config.members.empty() ? config_of(context_) : config);
      effects.reset_log_to = snapshot.index + 1;
      context_.snapshot = snapshot;
      context_.persisted_index = snapshot.index; // the snapshot is durable; nothing follows it
    }
    context_.commit_index = std::max(context_.commit_index, snapshot.index);
    context_.applied_index = snapshot.index;
    // Durable up to the snapshot's end: in the snapshot, whatever the log file holds.
    context_.persisted_index = std::max(context_.persisted_index, snapshot.index);
    effects.restore = snapshot;
    // What follows the snapshot in our log and is committed can be applied after it.
    emit_committed(context_, effects);
  }
  check_context(context_);
  if (ours && !leader_.empty()) {
    response.installed = true;
    response.next_offset = snapshot.bytes;
    // Claims the log matches up to the snapshot: only once the log change is durable.
    effects.messages_after_persist.push_back(make_message(context_, leader_, response));
  }
  return effects;
}

void follower_logic::handle_vote_request(const raft_message& message, const vote_request& request,
                                         raft_effects& effects) {
  if (request.pre_vote) {
    const bool granted =
        should_grant_pre_vote(context_, message.from, request, leader_recently_heard());
    effects.messages.push_back(pre_vote_reply(context_, message, granted));
    return;
  }
  // A real vote request at a higher term is not ignored here even if a leader was heard from
  // recently (the second half of thesis §9.6): with pre-vote, a candidate only reaches a real
  // election after a majority, leader included or not, agreed it may, so it is not a disruption.
  if (answer_vote_request(context_, message, effects)) reset_election_timer();
}

void follower_logic::handle_timeout_now(const raft_message& message, const timeout_now& request,
                                        raft_effects& effects) {
  // Thesis §3.10: our leader hands leadership over. Campaign at once; the candidate gets the
  // message again and skips the pre-vote (the leader asked, so nobody is disrupted).
  if (request.term != context_.hard.term || message.from != leader_ || !may_campaign(context_))
    return;
  effects.next_role = role::candidate;
  effects.redeliver = message;
}

raft_status follower_logic::status() const {
  auto status = status_of(context_, role::follower, leader_);
  status.leader_heard_recently = leader_recently_heard();
  return status;
}

} // namespace prez::raft
