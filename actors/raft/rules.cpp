// Rules of the Raft paper shared by the role logics. Pure: no CAF.
#include "actors/raft/rules.hpp"

#include <algorithm>
#include <functional>

namespace prez::raft {

std::uint64_t quorum_index(std::vector<std::uint64_t> indexes, std::size_t quorum) {
  PREZ_ASSERT(quorum >= 1);
  PREZ_ASSERT(quorum <= indexes.size());
  std::sort(indexes.begin(), indexes.end(), std::greater<>{});
  return indexes[quorum - 1];
}

raft_status status_of(const raft_context& context, role current, const node_name& leader) {
  raft_status s;
  s.current_role = current;
  s.term = context.hard.term;
  s.leader = leader;
  s.commit_index = context.commit_index;
  s.last_log_index = context.log.last_index();
  s.persisted_index = context.persisted_index;
  s.first_log_index = context.log.first_index();
  s.log_bytes = context.log.bytes();
  s.log_entries = context.log.size();
  s.snapshot = context.snapshot;
  return s;
}

void ensure_config(raft_context& context) {
  if (context.log.has_config()) return;
  membership bootstrap;
  for (const auto& name : context.config.voters)
    bootstrap.members.push_back(member_info{name, "", true, false});
  for (const auto& name : context.config.learners)
    bootstrap.members.push_back(member_info{name, "", false, false});
  std::sort(bootstrap.members.begin(), bootstrap.members.end(),
            [](const member_info& a, const member_info& b) { return a.name < b.name; });
  context.log.set_base_config(std::move(bootstrap));
}

std::vector<node_name> voter_peers(const raft_context& context) {
  std::vector<node_name> result;
  for (const auto& m : config_of(context).members)
    if (m.voter && m.name != context.config.self) result.push_back(m.name);
  return result;
}

bool heard_from(const raft_context& context, const node_name& name) {
  // Only a removal known committed silences a node. An uncommitted one may yet be undone, by a
  // leader elected without it, and that leader may be the very node it removes: ignoring it
  // would cut this node off from its cluster for good.
  return name != context.config.self &&
         !context.log.config_at(context.commit_index).was_removed(name);
}

bool maybe_adopt_term(raft_context& context, std::uint64_t term, raft_effects& effects) {
  if (term <= context.hard.term) return false;
  context.hard.term = term;
  context.hard.voted_for.clear();
  effects.hard_state_changed = true;
  return true;
}

bool carries_real_term(const raft_message& message) {
  if (const auto* request = std::get_if<vote_request>(&message.payload)) return !request->pre_vote;
  if (const auto* response = std::get_if<vote_response>(&message.payload))
    return !response->pre_vote || !response->granted;
  return true;
}

raft_message make_message(const raft_context& context, const node_name& to, raft_payload payload) {
  return raft_message{context.config.self, to, std::move(payload)};
}

raft_message stale_refusal(const raft_context& context, const raft_message& request) {
  if (const auto* vote = std::get_if<vote_request>(&request.payload))
    return make_message(context, request.from,
                        vote_response{context.hard.term, false, vote->pre_vote});
  if (const auto* install = std::get_if<install_snapshot_request>(&request.payload))
    return make_message(
        context, request.from,
        install_snapshot_response{context.hard.term, install->last_index, 0, false});
  const auto* append = std::get_if<append_entries_request>(&request.payload);
  PREZ_ASSERT(append != nullptr);
  append_entries_response response;
  response.term = context.hard.term;
  response.success = false;
  // No heartbeat_seq: this answers a request of an older term, but carries our term, which may
  // be the term the sender leads now; echoing the old round's seq would acknowledge rounds of its
  // new leadership that nobody answered (a stale ReadIndex confirmation).
  response.heartbeat_seq = 0;
  response.rejected_index = append->prev_log_index;
  return make_message(context, request.from, response);
}

void send_reply(raft_effects& effects, raft_message reply) {
  if (effects.has_writes())
    effects.messages_after_persist.push_back(std::move(reply));
  else
    effects.messages.push_back(std::move(reply));
}

bool should_grant_vote(const raft_context& context, const node_name& candidate,
                       const vote_request& request) {
  PREZ_ASSERT(request.term <= context.hard.term);
  if (request.term != context.hard.term) return false;
  if (!context.hard.voted_for.empty() && context.hard.voted_for != candidate) return false;
  return context.log.is_up_to_date(request.last_log_index, request.last_log_term);
}

bool should_grant_pre_vote(const raft_context& context, const node_name& candidate,
                           const vote_request& request, bool leader_known) {
  if (request.term < context.hard.term) return false;
  if (!context.log.is_up_to_date(request.last_log_index, request.last_log_term)) return false;
  if (leader_known) return false; // leader stickiness, thesis §9.6
  if (request.term > context.hard.term) return true;
  // Same term: we could still vote for it there only if our vote is free or already its.
  return context.hard.voted_for.empty() || context.hard.voted_for == candidate;
}

raft_message pre_vote_reply(const raft_context& context, const raft_message& request,
                            bool granted) {
  const auto& vote = std::get<vote_request>(request.payload);
  PREZ_ASSERT(vote.pre_vote);
  return make_message(context, request.from,
                      vote_response{granted ? vote.term : context.hard.term, granted, true});
}

bool answer_vote_request(raft_context& context, const raft_message& request,
                         raft_effects& effects) {
  const auto& vote = std::get<vote_request>(request.payload);
  PREZ_ASSERT(!vote.pre_vote);
  PREZ_ASSERT(vote.term == context.hard.term);
  const bool granted = should_grant_vote(context, request.from, vote);
  if (granted && context.hard.voted_for != request.from) {
    context.hard.voted_for = request.from;
    effects.hard_state_changed = true;
  }
  // A grant must be durable before the candidate can count it (Figure 2, "persistent state").
  auto reply =
      make_message(context, request.from, vote_response{context.hard.term, granted, false});
  if (granted)
    effects.messages_after_persist.push_back(std::move(reply));
  else
    send_reply(effects, std::move(reply));
  return granted;
}

vote_request make_vote_request(const raft_context& context, bool pre_vote) {
  vote_request request;
  request.term = pre_vote ? context.hard.term + 1 : context.hard.term;
  request.last_log_index = context.log.last_index();
  request.last_log_term = context.log.last_term();
  request.pre_vote = pre_vote;
  return request;
}

append_entries_request make_append_request(const raft_context& context, std::uint64_t next_index,
                                           bool with_entries, std::uint64_t heartbeat_seq) {
  PREZ_ASSERT(next_index >= context.log.first_index());
  PREZ_ASSERT(next_index <= context.log.last_index() + 1);
  append_entries_request request;
  request.term = context.hard.term;
  request.prev_log_index = next_index - 1;
  request.prev_log_term = *context.log.term_at(next_index - 1);
  if (with_entries)
    request.entries = context.log.slice(next_index, context.config.append_entries_max,
                                        context.config.append_bytes_max);
  request.leader_commit = context.commit_index;
  request.heartbeat_seq = heartbeat_seq;
  return request;
}

namespace {

bool is_well_formed(const append_entries_request& request) {
  if (request.prev_log_term > request.term ||
      (request.prev_log_index == 0 && request.prev_log_term != 0))
    return false;
  auto previous_term = request.prev_log_term;
  for (std::size_t k = 0; k < request.entries.size(); ++k) {
    const auto& e = request.entries[k];
    if (e.index != request.prev_log_index + 1 + k || e.term < 1 || e.term < previous_term ||
        e.term > request.term)
      return false;
    // A configuration entry takes effect on arrival (thesis §4.1): one we cannot read would
    // leave us with a configuration different from the leader's.
    if (e.kind() == entry_type::config && !decode_config_change(e.data)) return false;
    previous_term = e.term;
  }
  return true;
}

} // namespace

append_outcome accept_append(raft_context& context, const append_entries_request& original,
                             raft_effects& effects) {
  PREZ_ASSERT(original.term == context.hard.term);
  // Entries up to our snapshot are committed, so they equal the leader's (Log Matching, §5.4.3):
  // a request starting inside the snapshot is checked from its end instead.
  std::optional<append_entries_request> trimmed;
  if (original.prev_log_index < context.log.snapshot_index() && is_well_formed(original)) {
    trimmed = original;
    const auto snap = context.log.snapshot_index();
    std::erase_if(trimmed->entries, [snap](const log_entry& e) { return e.index <= snap; });
    trimmed->prev_log_index = snap;
    trimmed->prev_log_term = context.log.snapshot_term();
  }
  const auto& request = trimmed ? *trimmed : original;
  append_outcome outcome;
  auto& response = outcome.response;
  response.term = context.hard.term;
  response.heartbeat_seq = request.heartbeat_seq;
  if (!is_well_formed(request)) {
    outcome.malformed = true;
    return outcome;
  }
  auto& log = context.log;
  const auto prev = request.prev_log_index;
  response.rejected_index = original.prev_log_index; // read only on a rejection
  // Receiver rule 2, with the fast back-off hints of §5.3.
  if (prev > log.last_index()) {
    response.conflict_index = log.last_index() + 1;
    response.conflict_term = 0;
    return outcome;
  }
  if (const auto term = *log.term_at(prev); term != request.prev_log_term) {
    response.conflict_term = term;
    response.conflict_index = log.first_index_of_term_at(prev);
    return outcome;
  }
  // Receiver rules 3 and 4: skip what we have, cut at the first conflict, append the rest.
  for (const auto& e : request.entries) {
    const auto existing = log.term_at(e.index);
    if (existing && *existing == e.term) continue;
    if (existing) {
      PREZ_ASSERT(e.index > context.commit_index); // committed entries are never overwritten
      log.truncate_from(e.index);
      std::erase_if(effects.entries_to_persist,
                    [&](const log_entry& pending) { return pending.index >= e.index; });
      effects.truncate_from =
          effects.truncate_from ? std::min(*effects.truncate_from, e.index) : e.index;
      context.persisted_index = std::min(context.persisted_index, e.index - 1);
    }
    log.append(e);
    effects.entries_to_persist.push_back(e);
  }
  const auto last_new = prev + request.entries.size();
  response.success = true;
  // (A request that ended inside our snapshot matches up to the snapshot's end.)
  response.match_index = last_new;
  // Receiver rule 5.
  const auto commit = std::min(request.leader_commit, last_new);
  if (commit > context.commit_index) {
    context.commit_index = commit;
    emit_committed(context, effects);
  }
  check_context(context);
  return outcome;
}

void emit_committed(raft_context& context, raft_effects& effects) {
  PREZ_ASSERT(context.commit_index <= context.log.last_index());
  for (auto index = context.applied_index + 1; index <= context.commit_index; ++index)
    effects.committed.push_back(context.log.at(index));
  context.applied_index = std::max(context.applied_index, context.commit_index);
}

void note_persisted(raft_context& context, std::uint64_t index, std::uint64_t term) {
  const auto ours = context.log.term_at(index);
  if (ours && *ours == term) context.persisted_index = std::max(context.persisted_index, index);
  check_context(context);
}

void note_snapshot_taken(raft_context& context, const snapshot_ref& snapshot,
                         raft_effects& effects) {
  if (snapshot.index <= context.snapshot.index) return;
  // The state machine snapshots only what it was given, and a leader change never undoes that.
  PREZ_ASSERT(snapshot.index <= context.applied_index);
  PREZ_ASSERT(context.log.term_at(snapshot.index) == snapshot.term ||
              snapshot.index < context.log.snapshot_index());
  // Keep the log back to the previous snapshot too: if the newest file is ever found damaged,
  // the previous one plus the log still rebuild the state (two snapshot files are kept).
  const auto previous = context.snapshot.index;
  context.snapshot = snapshot;
  const auto trailing = context.config.snapshot_trailing_entries;
  const auto upto = std::min(snapshot.index > trailing ? snapshot.index - trailing : 0, previous);
  if (upto <= context.log.snapshot_index()) return;
  context.log.compact_to(upto);
  effects.compact_to = effects.compact_to ? std::max(*effects.compact_to, upto) : upto;
  check_context(context);
}

void check_context(const raft_context& context) {
  PREZ_ASSERT(context.log.snapshot_index() <= context.snapshot.index);
  PREZ_ASSERT(context.snapshot.index <= context.applied_index);
  PREZ_ASSERT(context.applied_index <= context.commit_index);
  PREZ_ASSERT(context.commit_index <= context.log.last_index());
  PREZ_ASSERT(context.persisted_index <= context.log.last_index());
}

std::uint32_t random_election_timeout(raft_context& context) {
  const std::uint64_t base = context.config.election_timeout_ticks;
  PREZ_ASSERT(base >= 1);
  return static_cast<std::uint32_t>(context.random.between(base, 2 * base));
}

} // namespace prez::raft
