// Leader role (Raft §5.3, §5.4.2, §8; thesis §6.2, §6.4). Pure: no CAF.
#include "actors/raft/leader_logic.hpp"

#include <algorithm>

#include "actors/raft/rules.hpp"
#include "config/limits.hpp"

namespace prez::raft {

leader_logic::leader_logic(raft_context context) : context_(std::move(context)) {
  ensure_config(context_);
  check_context(context_);
  sync_peers();
}

void leader_logic::sync_peers() {
  // Every member but self gets the log: voters and learners alike (thesis §4.2.1). A node the
  // configuration dropped gets nothing more.
  const auto& config = config_of(context_);
  std::erase_if(departing_, [&](const auto& d) { return config.is_member(d.first); });
  std::erase_if(peers_, [&](const auto& p) {
    return !config.is_member(p.first) && !departing_.count(p.first);
  });
  for (const auto& m : config.members) {
    if (m.name == context_.config.self || peers_.count(m.name)) continue;
    peer_progress progress;
    progress.next_index = context_.log.last_index() + 1;
    progress.recently_active = true; // not yet heard from, but no reason to step down over it
    peers_.emplace(m.name, std::move(progress));
  }
}

bool leader_logic::counts(const node_name& name) const {
  return config_of(context_).is_voter(name);
}

std::string leader_logic::propose_config(config_change change, raft_effects& effects) {
  // The fix of July 2015 (raft-dev, "bug in single-server membership changes"): a new leader
  // first commits an entry of its own term, so no change of an earlier leader that it never saw
  // can still commit beside its own.
  if (!committed_in_term())
    return "TRYAGAIN the new leader has not committed an entry of its term yet; retry shortly";
  if (transfer_) return "TRYAGAIN a leadership transfer is in progress; retry shortly";
  // Thesis §4.1: one change at a time; the next only once the last is committed.
  if (context_.log.config_index() > context_.commit_index)
    return "TRYAGAIN a configuration change is in progress; retry once it is committed";
  if (auto reason = check_membership(change.config); !reason.empty())
    return "ERR invalid configuration: " + reason;
  if (change.config.voter_count() == 0) return "ERR the cluster must keep at least one voter";
  // Who this change removes keeps getting the log for a while, so it learns it was removed.
  departing_.clear();
  for (const auto& m : config_of(context_).members)
    if (!change.config.is_member(m.name) && m.name != context_.config.self)
      departing_[m.name] =
          departing_node{context_.log.last_index() + 1, heartbeat_round_ + departing_rounds};
  log_entry e;
  e.term = context_.hard.term;
  e.index = context_.log.last_index() + 1;
  e.type = static_cast<std::uint8_t>(entry_type::config);
  e.data = encode_config_change(change);
  context_.log.append(e); // in effect from now on (thesis §4.1)
  uncommitted_bytes_ += e.data.size();
  effects.entries_to_persist.push_back(std::move(e));
  sync_peers();
  for (auto& [name, progress] : peers_)
    send_entries(name, progress, effects);
  // A change that leaves a single voter (this node) commits on its own write.
  maybe_commit(effects);
  return {};
}

std::string leader_logic::transfer_leadership(const node_name& target, raft_effects& effects) {
  const auto& config = config_of(context_);
  node_name to = target;
  if (to.empty()) {
    // The most up-to-date voter (a graceful stop hands over to it).
    std::uint64_t best = 0;
    for (const auto& [name, progress] : peers_)
      if (counts(name) && (to.empty() || progress.match_index > best)) {
        to = name;
        best = progress.match_index;
      }
    if (to.empty()) return "ERR no other voter to hand leadership to";
  }
  if (to == context_.config.self) return {};
  if (!config.is_voter(to) || !peers_.count(to))
    return "ERR node '" + to + "' is not a voter of this cluster";
  transfer_ = transfer_state{to, context_.config.election_timeout_ticks, false};
  transfer_target_ = to;
  maybe_send_timeout_now(effects);
  if (!transfer_->sent) send_entries(to, peers_.at(to), effects);
  return {};
}

void leader_logic::maybe_send_timeout_now(raft_effects& effects) {
  if (!transfer_ || transfer_->sent) return;
  const auto& progress = peers_.at(transfer_->target);
  if (progress.match_index < context_.log.last_index()) return;
  transfer_->sent = true;
  effects.messages.push_back(
      make_message(context_, transfer_->target, timeout_now{context_.hard.term}));
}

void leader_logic::maybe_promote(raft_effects& effects) {
  if (!committed_in_term() || context_.log.config_index() > context_.commit_index || transfer_)
    return;
  const auto& config = config_of(context_);
  for (const auto& m : config.members) {
    if (!m.promote) continue;
    auto p = peers_.find(m.name);
    if (p == peers_.end()) continue;
    const auto& progress = p->second;
    // Caught up (thesis §4.2.1): replicating, no snapshot in flight, and within one append of
    // our log's end, so adding its vote does not leave the cluster waiting on it.
    if (!progress.replicating || progress.snapshot ||
        progress.match_index + context_.config.append_entries_max < context_.log.last_index())
      continue;
    config_change change;
    change.config = config;
    for (auto& member : change.config.members)
      if (member.name == m.name) {
        member.voter = true;
        member.promote = false;
      }
    change.origin.argv = {"RAFT.NODE", "PROMOTE", m.name};
    propose_config(std::move(change), effects);
    return; // one change at a time
  }
}

raft_effects leader_logic::start() {
  raft_effects effects;
  PREZ_ASSERT(context_.hard.term >= 1);
  PREZ_ASSERT(context_.hard.voted_for == context_.config.self);
  PREZ_ASSERT(context_.log.last_term() <= context_.hard.term);
  for (auto& [name, progress] : peers_) {
    progress = peer_progress{};
    progress.next_index = context_.log.last_index() + 1;
  }
  // Raft §8: a no-op of our own term, so that committing it commits everything before it
  // (§5.4.2) and tells us our commit index.
  log_entry noop;
  noop.term = context_.hard.term;
  noop.index = context_.log.last_index() + 1;
  noop.type = static_cast<std::uint8_t>(entry_type::noop);
  noop_index_ = noop.index;
  context_.log.append(noop);
  effects.entries_to_persist.push_back(std::move(noop));
  for (auto& [name, progress] : peers_)
    send_entries(name, progress, effects);
  return effects;
}

bool leader_logic::committed_in_term() const {
  return noop_index_ != 0 && context_.commit_index >= noop_index_;
}

void leader_logic::send_append(const node_name& peer, peer_progress& progress, bool with_entries,
                               raft_effects& effects) {
  auto request = make_append_request(context_, progress.next_index, with_entries, heartbeat_seq_);
  const auto last = request.prev_log_index + request.entries.size();
  progress.inflight_appends.push_back(
      peer_progress::inflight_append{request.prev_log_index, last, heartbeat_round_});
  progress.inflight = progress.inflight_appends.size();
  if (progress.replicating)
    progress.next_index = last + 1; // optimistic: pipelining (etcd's "replicate" state)
  effects.messages.push_back(make_message(context_, peer, std::move(request)));
}

bool leader_logic::needs_snapshot(const peer_progress& progress) const {
  return progress.next_index <= context_.log.snapshot_index();
}

void leader_logic::send_snapshot(const node_name& peer, peer_progress& progress,
                                 raft_effects& effects) {
  if (!progress.snapshot) {
    // The log is compacted only up to a durable snapshot, so there is one.
    PREZ_ASSERT(context_.snapshot.index >= context_.log.snapshot_index());
    PREZ_ASSERT(context_.snapshot.bytes > 0);
    progress.snapshot = peer_progress::snapshot_transfer{context_.snapshot, 0, 0, heartbeat_round_};
  }
  auto& t = *progress.snapshot;
  const auto chunk = std::max<std::uint64_t>(context_.config.snapshot_chunk_bytes, 1);
  const auto window =
      chunk * std::max<std::uint64_t>(context_.config.snapshot_chunks_inflight_max, 1);
  while (t.sent < t.snapshot.bytes && t.sent - t.acked < window) {
    const auto length = std::min(chunk, t.snapshot.bytes - t.sent);
    install_snapshot_request request;
    request.term = context_.hard.term;
    request.last_index = t.snapshot.index;
    request.last_term = t.snapshot.term;
    request.offset = t.sent;
    effects.snapshot_sends.push_back(snapshot_send{peer, std::move(request), length});
    t.sent += length;
  }
}

void leader_logic::handle_snapshot_response(const node_name& from,
                                            const install_snapshot_response& response,
                                            raft_effects& effects) {
  auto& progress = peers_.at(from);
  progress.recently_active = true;
  if (!progress.snapshot || response.last_index != progress.snapshot->snapshot.index) return;
  auto& t = *progress.snapshot;
  if (response.installed) {
    // The peer's log now matches ours up to the snapshot's last index.
    progress.snapshot.reset();
    progress.match_index = std::max(progress.match_index, response.last_index);
    progress.next_index = progress.match_index + 1;
    progress.inflight_appends.clear();
    progress.inflight = 0;
    progress.replicating = true;
    check_progress(progress);
    maybe_commit(effects);
    send_entries(from, progress, effects);
    return;
  }
  const auto offset = std::min(response.next_offset, t.snapshot.bytes);
  if (offset > t.acked) {
    t.acked = offset;
    t.progress_round = heartbeat_round_;
  } else if (offset < t.acked) {
    // The peer lost what it had (it restarted or began again): resend from where it is.
    t.acked = offset;
    t.sent = offset;
    t.progress_round = heartbeat_round_;
  }
  t.sent = std::max(t.sent, t.acked);
  send_snapshot(from, progress, effects);
}

void leader_logic::send_entries(const node_name& peer, peer_progress& progress,
                                raft_effects& effects) {
  if (needs_snapshot(progress)) {
    send_snapshot(peer, progress, effects);
    return;
  }
  progress.snapshot.reset();
  if (!progress.replicating) {
    // Probing: one request at a time until a response tells us where the logs match.
    if (progress.inflight == 0) send_append(peer, progress, true, effects);
    return;
  }
  while (progress.inflight < context_.config.inflight_appends_max &&
         progress.next_index <= context_.log.last_index())
    send_append(peer, progress, true, effects);
}

void leader_logic::send_heartbeat(const node_name& peer, const peer_progress& progress,
                                  raft_effects& effects) {
  // Anchored at match_index, which the peer is known to hold, so it can never be refused for a
  // log mismatch and never disturbs the pipeline; the peer commits min(commit, match_index).
  // A peer behind our snapshot gets it anchored at the snapshot's end instead: it may refuse it
  // (ignored, no append is in flight) but still acknowledges the round, and it keeps its
  // election timer quiet.
  const auto anchor = std::max(progress.match_index, context_.log.snapshot_index());
  auto request = make_append_request(context_, anchor + 1, false, heartbeat_seq_);
  effects.messages.push_back(make_message(context_, peer, std::move(request)));
}

void leader_logic::heartbeat_round(bool detect_lost, raft_effects& effects) {
  if (detect_lost) ++heartbeat_round_;
  forget_departed();
  for (auto& [name, progress] : peers_) {
    if (detect_lost) {
      // The oldest request in flight has had a whole heartbeat interval to be answered and the
      // peer made no progress since the previous heartbeat: assume the requests were lost and
      // probe again from what the peer is known to hold.
      if (progress.inflight > 0 && progress.match_index == progress.match_at_last_heartbeat &&
          progress.inflight_appends.front().sent_round + 1 < heartbeat_round_)
        become_probing(progress, progress.match_index + 1);
      progress.match_at_last_heartbeat = progress.match_index;
      if (progress.snapshot && progress.snapshot->progress_round + 2 < heartbeat_round_) {
        // No chunk confirmed for two rounds: chunks or answers were lost. Resend from what the
        // peer confirmed, or from the start with our newest snapshot when the transfer was done
        // (its installation's answer was lost) or a newer snapshot exists.
        auto& t = *progress.snapshot;
        if (t.acked >= t.snapshot.bytes || !(t.snapshot == context_.snapshot))
          progress.snapshot.reset();
        else
          t.sent = t.acked;
        if (progress.snapshot) t.progress_round = heartbeat_round_;
      }
    }
    if (needs_snapshot(progress)) {
      send_heartbeat(name, progress, effects);
      send_snapshot(name, progress, effects);
    } else if (!progress.replicating && progress.inflight == 0) {
      send_append(name, progress, true, effects);
    } else {
      send_heartbeat(name, progress, effects);
      send_entries(name, progress, effects);
    }
  }
}

void leader_logic::forget_departed() {
  bool changed = false;
  for (auto i = departing_.begin(); i != departing_.end();) {
    auto p = peers_.find(i->first);
    const bool holds = p != peers_.end() && p->second.match_index >= i->second.config_index;
    if (holds || heartbeat_round_ > i->second.until_round) {
      i = departing_.erase(i);
      changed = true;
    } else {
      ++i;
    }
  }
  if (changed) sync_peers();
}

void leader_logic::become_probing(peer_progress& progress, std::uint64_t next_index) {
  progress.replicating = false;
  progress.inflight_appends.clear();
  progress.inflight = 0;
  progress.next_index = std::clamp<std::uint64_t>(next_index, progress.match_index + 1,
                                                  context_.log.last_index() + 1);
  check_progress(progress);
}

void leader_logic::check_progress(const peer_progress& progress) const {
  PREZ_ASSERT(progress.match_index < progress.next_index);
  PREZ_ASSERT(progress.next_index <= context_.log.last_index() + 1);
  PREZ_ASSERT(progress.inflight == progress.inflight_appends.size());
  PREZ_ASSERT(progress.inflight <= std::max<std::size_t>(context_.config.inflight_appends_max, 1));
}

raft_effects leader_logic::tick() {
  raft_effects effects;
  if (++ticks_since_heartbeat_ >= context_.config.heartbeat_ticks) {
    ticks_since_heartbeat_ = 0;
    heartbeat_round(true, effects);
  }
  if (++ticks_since_quorum_check_ >= context_.config.election_timeout_ticks) {
    ticks_since_quorum_check_ = 0;
    std::size_t active = counts(context_.config.self) ? 1 : 0;
    for (auto& [name, progress] : peers_) {
      active += progress.recently_active && counts(name) ? 1 : 0;
      progress.recently_active = false;
    }
    // Thesis §6.2: a leader cut off from a majority of the voters steps down (term unchanged).
    if (context_.config.check_quorum && active < quorum_of(context_)) {
      step_down(effects, std::nullopt);
      return effects;
    }
  }
  if (transfer_ && --transfer_->ticks_left == 0) transfer_.reset(); // gave up: lead on
  if (transfer_ && !peers_.count(transfer_->target)) transfer_.reset();
  maybe_promote(effects);
  return effects;
}

raft_effects leader_logic::snapshot_taken(const snapshot_ref& snapshot) {
  raft_effects effects;
  note_snapshot_taken(context_, snapshot, effects);
  return effects;
}

raft_effects leader_logic::persisted(std::uint64_t index, std::uint64_t term) {
  raft_effects effects;
  note_persisted(context_, index, term);
  maybe_commit(effects);
  maybe_confirm_reads(effects);
  return effects;
}

void leader_logic::step_down(raft_effects& effects, std::optional<raft_message> redeliver) {
  effects.next_role = role::follower;
  effects.redeliver = std::move(redeliver);
  for (auto id : reads_waiting_for_commit_)
    effects.reads_failed.push_back(id);
  for (const auto& read : pending_reads_)
    effects.reads_failed.push_back(read.read_id);
  reads_waiting_for_commit_.clear();
  pending_reads_.clear();
}

raft_effects leader_logic::step(const raft_message& message) {
  raft_effects effects;
  // A departing node is still heard (its answers tell us it holds its removal).
  if (!heard_from(context_, message.from) && !departing_.count(message.from)) return effects;
  const auto term = message.term();
  const bool is_request = std::holds_alternative<vote_request>(message.payload) ||
                          std::holds_alternative<append_entries_request>(message.payload) ||
                          std::holds_alternative<install_snapshot_request>(message.payload);
  if (const auto* vote = std::get_if<vote_request>(&message.payload); vote && vote->pre_vote) {
    // A live leader refuses pre-votes (thesis §9.6); check-quorum removes a dead one.
    effects.messages.push_back(pre_vote_reply(context_, message, false));
    return effects;
  }
  if (term > context_.hard.term && carries_real_term(message)) {
    // Figure 2, "all servers": a newer term ends our leadership; requests are handled again by
    // the follower we become.
    maybe_adopt_term(context_, term, effects);
    step_down(effects, is_request ? std::optional<raft_message>{message} : std::nullopt);
    return effects;
  }
  if (is_request) {
    // Older term, or (only through a bug elsewhere) another leader of ours: refuse.
    effects.messages.push_back(stale_refusal(context_, message));
    return effects;
  }
  // Responses count only from nodes we replicate to.
  if (!peers_.count(message.from)) return effects;
  if (const auto* response = std::get_if<append_entries_response>(&message.payload))
    if (response->term == context_.hard.term)
      handle_append_response(message.from, *response, effects);
  if (const auto* response = std::get_if<install_snapshot_response>(&message.payload))
    if (response->term == context_.hard.term)
      handle_snapshot_response(message.from, *response, effects);
  // Vote responses of our term are late answers from our own election: ignored.
  return effects;
}

void leader_logic::handle_append_response(const node_name& from,
                                          const append_entries_response& response,
                                          raft_effects& effects) {
  auto& progress = peers_.at(from);
  progress.recently_active = true;
  progress.acked_heartbeat_seq = std::max(progress.acked_heartbeat_seq, response.heartbeat_seq);
  if (response.success) {
    if (response.match_index > context_.log.last_index())
      return; // claims entries we never sent: a bad peer, drop
    progress.match_index = std::max(progress.match_index, response.match_index);
    progress.next_index = std::max(progress.next_index, progress.match_index + 1);
    progress.loss_suspected_round = 0;
    auto& inflight = progress.inflight_appends;
    std::erase_if(inflight, [&](const peer_progress::inflight_append& a) {
      return a.last_index <= progress.match_index;
    });
    progress.inflight = inflight.size();
    // Only an answer that covers the probe (the logs are known to match at next_index - 1) may
    // switch to pipelining; a heartbeat's success below it proves nothing about next_index.
    if (response.match_index + 1 >= progress.next_index) progress.replicating = true;
    check_progress(progress);
    maybe_commit(effects);
    send_entries(from, progress, effects);
    if (transfer_ && transfer_->target == from) maybe_send_timeout_now(effects);
  } else {
    // A request sent at or after what the peer acknowledged (a heartbeat anchored there, or a
    // probe) found its log ending before it. Either the answer is older than the acknowledgement
    // (overtaken on the way), or the peer lost its disk (restarted with an empty data dir).
    // Raft assumes a disk is never lost; rather than wait forever above what the peer holds,
    // once a later heartbeat round says the same, start it over from what it has (by
    // InstallSnapshot when we compacted that far). docs/decisions.md D19. (A refusal of an older
    // term's request carries no conflict index: it says nothing here.)
    const bool below_match = response.conflict_term == 0 && response.conflict_index >= 1 &&
                             response.conflict_index <= progress.match_index &&
                             response.rejected_index >= progress.match_index;
    if (below_match && progress.loss_suspected_round == 0) {
      progress.loss_suspected_round = heartbeat_round_ + 1;
    } else if (below_match && heartbeat_round_ > progress.loss_suspected_round) {
      progress.loss_suspected_round = 0;
      progress.match_index = response.conflict_index - 1;
      progress.match_at_last_heartbeat = progress.match_index;
      progress.snapshot.reset();
      become_probing(progress, response.conflict_index);
      send_entries(from, progress, effects);
      maybe_confirm_reads(effects);
      return;
    }
    // A rejection of a request no longer in flight (answered, or given up by become_probing) is
    // stale: acting on it would send a fresh probe per stale answer.
    const auto& inflight = progress.inflight_appends;
    const bool current = std::any_of(inflight.begin(), inflight.end(), [&](const auto& a) {
      return a.prev_index == response.rejected_index;
    });
    if (!current) {
      maybe_confirm_reads(effects);
      return;
    }
    // Fast back-off (§5.3): skip the whole conflicting term when we have entries of it.
    auto next = response.conflict_index;
    if (response.conflict_term != 0) {
      const auto last = context_.log.last_index_with_term_at_most(response.conflict_term);
      if (last > 0 && context_.log.term_at(last) == response.conflict_term) next = last + 1;
    }
    become_probing(progress, next);
    send_entries(from, progress, effects);
  }
  maybe_confirm_reads(effects);
}

void leader_logic::maybe_commit(raft_effects& effects) {
  // Thesis §4.1: only the voters of the configuration in effect count, self included only when
  // it is one (a leader removing itself commits that change without its own vote).
  std::vector<std::uint64_t> indexes;
  if (counts(context_.config.self)) indexes.push_back(context_.persisted_index);
  for (const auto& [name, progress] : peers_)
    if (counts(name)) indexes.push_back(progress.match_index);
  if (indexes.size() < quorum_of(context_)) return;
  const auto candidate = quorum_index(std::move(indexes), quorum_of(context_));
  // Raft §5.4.2: only an entry of our own term is committed by counting replicas.
  if (candidate <= context_.commit_index || context_.log.term_at(candidate) != context_.hard.term)
    return;
  const bool first_commit = !committed_in_term();
  for (auto index = context_.commit_index + 1; index <= candidate; ++index) {
    const auto& e = context_.log.at(index);
    if (e.term == context_.hard.term) {
      PREZ_ASSERT(uncommitted_bytes_ >= e.data.size());
      uncommitted_bytes_ -= e.data.size();
    }
  }
  context_.commit_index = candidate;
  emit_committed(context_, effects);
  // Thesis §4.2.2: a leader that is not a voter of the committed configuration steps down.
  if (context_.log.config_index() <= context_.commit_index && !may_campaign(context_)) {
    step_down(effects, std::nullopt);
    return;
  }
  if (first_commit && committed_in_term() && !reads_waiting_for_commit_.empty()) {
    auto ids = std::move(reads_waiting_for_commit_);
    reads_waiting_for_commit_.clear();
    start_read_round(ids, effects);
  }
}

bool leader_logic::propose(std::vector<std::string> commands, raft_effects& effects) {
  std::size_t bytes = 0;
  for (const auto& c : commands)
    bytes += c.size();
  // A batch larger than the whole limit still goes alone, or it could never be written.
  if (uncommitted_bytes_ > 0 && uncommitted_bytes_ + bytes > context_.config.uncommitted_bytes_max)
    return false;
  for (auto& c : commands) {
    log_entry e;
    e.term = context_.hard.term;
    e.index = context_.log.last_index() + 1;
    e.type = static_cast<std::uint8_t>(entry_type::command);
    e.data = std::move(c);
    context_.log.append(e);
    effects.entries_to_persist.push_back(std::move(e));
  }
  uncommitted_bytes_ += bytes;
  for (auto& [name, progress] : peers_)
    send_entries(name, progress, effects);
  return true;
}

raft_effects leader_logic::read_index(const std::vector<std::uint64_t>& read_ids,
                                      std::uint64_t index_floor) {
  raft_effects effects;
  PREZ_ASSERT(index_floor <= context_.log.last_index());
  read_index_floor_ = std::max(read_index_floor_, index_floor);
  const auto pending = reads_waiting_for_commit_.size() + pending_reads_.size();
  if (pending + read_ids.size() > limits::pending_reads_max) {
    effects.reads_failed = read_ids;
    return effects;
  }
  if (!committed_in_term()) {
    // Thesis §6.4: until an entry of our term commits we do not know the commit index.
    reads_waiting_for_commit_.insert(reads_waiting_for_commit_.end(), read_ids.begin(),
                                     read_ids.end());
    return effects;
  }
  start_read_round(read_ids, effects);
  return effects;
}

void leader_logic::start_read_round(const std::vector<std::uint64_t>& read_ids,
                                    raft_effects& effects) {
  if (read_ids.empty()) return;
  ++heartbeat_seq_;
  for (auto id : read_ids)
    pending_reads_.push_back(
        pending_read{id, std::max(context_.commit_index, read_index_floor_), heartbeat_seq_});
  heartbeat_round(false, effects);
  maybe_confirm_reads(effects);
}

void leader_logic::maybe_confirm_reads(raft_effects& effects) {
  std::size_t confirmed = 0;
  for (const auto& read : pending_reads_) {
    std::size_t acks = counts(context_.config.self) ? 1 : 0;
    for (const auto& [name, progress] : peers_)
      acks += progress.acked_heartbeat_seq >= read.heartbeat_seq && counts(name) ? 1 : 0;
    // Sequence numbers grow along pending_reads_: once one is short, so are the rest.
    if (acks < quorum_of(context_)) break;
    effects.reads.push_back(read_ready{read.read_id, read.index});
    ++confirmed;
  }
  pending_reads_.erase(pending_reads_.begin(),
                       pending_reads_.begin() + static_cast<std::ptrdiff_t>(confirmed));
}

raft_status leader_logic::status() const {
  auto status = status_of(context_, role::leader, context_.config.self);
  status.leader_heard_recently = true; // itself; check-quorum retires a leader cut off (§6.2)
  return status;
}

} // namespace prez::raft
