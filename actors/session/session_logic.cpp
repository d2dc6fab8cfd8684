#include "actors/session/session_logic.hpp"

#include <algorithm>
#include <limits>
#include <type_traits>
#include <utility>

#include "actors/state_machine/kv_state.hpp"

namespace prez::session {

namespace {

/// How much longer than a write a command may wait for its result: a blocking command's timeout,
/// or about forever without one (it is answered when data arrives or its client goes).
std::uint64_t block_allowance_ms(const client_command& command) {
  if (!command.through_log || command.is_transaction()) return 0;
  const auto timeout = blocking_timeout_ms(command.argv);
  if (!timeout) return 0;
  return *timeout == 0 ? std::numeric_limits<std::uint64_t>::max() / 4 : *timeout;
}

} // namespace

session_logic::session_logic(session_config config)
    : config_(std::move(config)), next_forward_id_(config_.incarnation) {}

std::size_t session_logic::pending() const {
  return writes_.size() + reads_.size() + forwarded_.size() + waiting_.size();
}

void session_logic::reply(const origin& to, forward_status status, std::string text,
                          session_effects& fx) {
  if (std::holds_alternative<local_origin>(to)) {
    if (status == forward_status::not_leader)
      text = replies::clusterdown;
    else if (status == forward_status::unknown)
      text = replies::unknown;
    status = forward_status::ok;
  }
  fx.answers.push_back({to, status, std::move(text)});
}

/// The final answer of a command that is given up. A command that may have been applied gets
/// -UNKNOWN; only one that certainly was not gets `not_applied_text`.
void session_logic::give_up(pending_command& pc, const std::string& not_applied_text,
                            session_effects& fx) {
  if (pc.command.through_log && pc.maybe_applied()) {
    reply(pc.from, forward_status::unknown, {}, fx);
    return;
  }
  if (auto* remote = std::get_if<remote_origin>(&pc.from); remote && pc.command.through_log) {
    // The forwarding node decides what its client hears; this attempt was not applied.
    fx.answers.push_back({*remote, forward_status::refused, not_applied_text});
    return;
  }
  reply(pc.from, forward_status::ok, not_applied_text, fx);
}

void session_logic::wait_for_retry(pending_command&& pc, std::uint64_t now_ms) {
  pc.backoff_ms = pc.backoff_ms == 0 ? config_.retry_backoff_min_ms
                                     : std::min(config_.retry_backoff_max_ms, pc.backoff_ms * 2);
  pc.not_before_ms = now_ms + pc.backoff_ms;
  waiting_.push_back(std::move(pc));
}

void session_logic::route(pending_command&& pc, std::uint64_t now_ms, session_effects& fx) {
  if (role_.current == raft::role::leader) {
    pc.epoch = role_.epoch;
    if (pc.command.through_log) {
      auto key = std::make_pair(pc.command.client_id, pc.command.seq);
      pc.deadline_ms = now_ms + config_.write_timeout_ms + block_allowance_ms(pc.command);
      ++pc.sent;
      fx.propose.push_back(pc.command);
      writes_.insert_or_assign(key, std::move(pc));
    } else {
      auto id = ++next_read_id_;
      pc.deadline_ms = std::min(pc.leader_deadline_ms, now_ms + config_.write_timeout_ms);
      fx.read_index.push_back(id);
      reads_.emplace(id, std::move(pc));
    }
    return;
  }
  if (std::holds_alternative<remote_origin>(pc.from)) {
    // Not the leader (any more): nothing was proposed here; the origin retries elsewhere.
    reply(pc.from, forward_status::not_leader, {}, fx);
    return;
  }
  if (role_.leader.empty() || role_.leader == config_.self) {
    waiting_.push_back(std::move(pc));
    return;
  }
  // A command that left this node once may have been applied: never redirect it (the client
  // would send it again as a new command); it follows the leader here instead.
  if (config_.redirect && pc.sent == 0 && !role_.leader_address.empty()) {
    reply(pc.from, forward_status::ok, "-MOVED 0 " + role_.leader_address + "\r\n", fx);
    return;
  }
  auto id = ++next_forward_id_;
  pc.deadline_ms =
      now_ms + config_.write_timeout_ms + config_.forward_slack_ms + block_allowance_ms(pc.command);
  pc.forwarded_to = role_.leader;
  ++pc.sent;
  fx.forward.push_back({role_.leader, forward_request{id, pc.command}});
  if (pc.command.through_log) forward_ids_[{pc.command.client_id, pc.command.seq}] = id;
  forwarded_.emplace(id, std::move(pc));
}

void session_logic::forget_forward(const pending_command& pc, std::uint64_t id) {
  const auto i = forward_ids_.find({pc.command.client_id, pc.command.seq});
  if (i != forward_ids_.end() && i->second == id) forward_ids_.erase(i);
}

session_effects session_logic::accept(client_command command, origin from, std::uint64_t now_ms) {
  session_effects fx;
  pending_command pc;
  pc.command = std::move(command);
  pc.from = std::move(from);
  if (role_.removed) {
    give_up(pc, replies::removed, fx);
    return fx;
  }
  if (pending() >= config_.pending_max) {
    give_up(pc, replies::busy, fx);
    return fx;
  }
  pc.leader_deadline_ms = now_ms + config_.leader_wait_ms;
  pc.deadline_ms = pc.leader_deadline_ms;
  route(std::move(pc), now_ms, fx);
  return fx;
}

/// After a role change, sends again what went to a role actor or leader that is gone: forwards
/// (their leader changed), and proposals and reads made through an earlier role actor of this
/// node, which dropped what it had not appended when it retired (case 8: the same node elected
/// again must not let them stall). Writes keep their (client_id, seq), so one that was applied
/// already is answered from the state machine's session table (thesis §6.3).
void session_logic::retry_stale(std::uint64_t now_ms, session_effects& fx) {
  std::vector<pending_command> again;
  // Only a known new leader is worth a retry: until then the old one's answer may still come.
  // This node elected counts: what the old leader held may be lost with it (a blocking pop with
  // no timeout would wait for it forever), and the retry keeps (client_id, seq).
  const bool other_leader_known = !role_.leader.empty() && role_.leader != config_.self;
  const bool leader_known = other_leader_known || role_.current == raft::role::leader;
  for (auto i = forwarded_.begin(); i != forwarded_.end();) {
    if (leader_known && i->second.forwarded_to != role_.leader) {
      forget_forward(i->second, i->first);
      again.push_back(std::move(i->second));
      i = forwarded_.erase(i);
    } else {
      ++i;
    }
  }
  for (auto i = writes_.begin(); i != writes_.end();) {
    auto& pc = i->second;
    const bool stale = pc.epoch != role_.epoch;
    // A remote origin's write stays while this node is not leader: its result may still be
    // applied here; the origin follows the new leader itself.
    const bool movable = role_.current == raft::role::leader ||
                         (other_leader_known && std::holds_alternative<local_origin>(pc.from));
    if (stale && movable) {
      again.push_back(std::move(pc));
      i = writes_.erase(i);
    } else {
      ++i;
    }
  }
  for (auto i = reads_.begin(); i != reads_.end();) {
    if (i->second.epoch != role_.epoch) {
      again.push_back(std::move(i->second)); // reads are idempotent
      i = reads_.erase(i);
    } else {
      ++i;
    }
  }
  // Keep each client's commands in their order: (client_id, seq) order is send order.
  std::stable_sort(again.begin(), again.end(), [](const auto& a, const auto& b) {
    return std::pair(a.command.client_id, a.command.seq) <
           std::pair(b.command.client_id, b.command.seq);
  });
  for (auto& pc : again)
    route(std::move(pc), now_ms, fx);
}

void session_logic::drain_waiting(std::uint64_t now_ms, session_effects& fx) {
  if (role_.leader.empty()) return;
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& pc : waiting) {
    if (pc.not_before_ms > now_ms)
      waiting_.push_back(std::move(pc));
    else
      route(std::move(pc), now_ms, fx);
  }
}

session_effects session_logic::set_role(const role_view& role, std::uint64_t now_ms) {
  session_effects fx;
  role_ = role;
  retry_stale(now_ms, fx);
  drain_waiting(now_ms, fx);
  return fx;
}

session_effects session_logic::applied(const std::vector<applied_result>& results,
                                       std::uint64_t now_ms) {
  session_effects fx;
  for (const auto& result : results) {
    auto i = writes_.find({result.client_id, result.seq});
    if (i == writes_.end()) {
      // Forwarded from here and applied by this node's own replica: the same result the
      // leader's would send (an out-of-order one is the leader's to retry).
      const auto f = forward_ids_.find({result.client_id, result.seq});
      if (f == forward_ids_.end() || result.out_of_order) continue;
      auto node = forwarded_.extract(f->second);
      forward_ids_.erase(f);
      if (!node.empty()) reply(node.mapped().from, forward_status::ok, result.reply, fx);
      continue;
    }
    auto pc = std::move(i->second);
    writes_.erase(i);
    if (result.out_of_order) {
      // Not applied: its connection's earlier command is not in yet. Send it again after it.
      ++pc.refused;
      wait_for_retry(std::move(pc), now_ms);
      continue;
    }
    reply(pc.from, forward_status::ok, result.reply, fx);
  }
  return fx;
}

session_effects session_logic::refused(std::uint64_t client_id, std::uint64_t seq,
                                       std::uint64_t now_ms) {
  session_effects fx;
  auto i = writes_.find({client_id, seq});
  if (i == writes_.end()) return fx;
  auto pc = std::move(i->second);
  writes_.erase(i);
  ++pc.refused;
  if (pc.maybe_applied() && std::holds_alternative<local_origin>(pc.from)) {
    // An earlier attempt may be in the log: keep trying until its deadline, then -UNKNOWN.
    wait_for_retry(std::move(pc), now_ms);
    return fx;
  }
  give_up(pc, replies::refused, fx);
  return fx;
}

session_effects session_logic::read_ok(const std::vector<raft::read_ready>& ready) {
  session_effects fx;
  for (const auto& r : ready) {
    auto i = reads_.find(r.read_id);
    if (i == reads_.end()) continue;
    fx.serve.push_back({std::move(i->second.from), r.index, std::move(i->second.command.argv)});
    reads_.erase(i);
  }
  return fx;
}

session_effects session_logic::read_failed(const std::vector<std::uint64_t>& ids,
                                           std::uint64_t now_ms) {
  session_effects fx;
  for (auto id : ids) {
    auto i = reads_.find(id);
    if (i == reads_.end()) continue;
    auto pc = std::move(i->second);
    reads_.erase(i);
    wait_for_retry(std::move(pc), now_ms);
  }
  return fx;
}

session_effects session_logic::forwarded_answer(const node_name& from,
                                                const forward_response& response,
                                                std::uint64_t now_ms) {
  session_effects fx;
  auto i = forwarded_.find(response.forward_id);
  // Unknown id (timed out, retried under a new id, or meant for an earlier incarnation of this
  // node) or the wrong sender: not an answer to anything pending here.
  if (i == forwarded_.end() || i->second.forwarded_to != from) return fx;
  auto pc = std::move(i->second);
  forget_forward(pc, i->first);
  forwarded_.erase(i);
  switch (static_cast<forward_status>(response.status)) {
    case forward_status::ok:
      reply(pc.from, forward_status::ok, response.reply, fx);
      return fx;
    case forward_status::not_leader:
    case forward_status::refused:
      // That attempt was not proposed: retry (after a back-off) while the deadlines allow.
      ++pc.refused;
      if (!pc.maybe_applied() &&
          response.status == static_cast<std::uint8_t>(forward_status::refused)) {
        give_up(pc, response.reply.empty() ? replies::refused : response.reply, fx);
        return fx;
      }
      wait_for_retry(std::move(pc), now_ms);
      drain_waiting(now_ms, fx);
      return fx;
    case forward_status::unknown:
    default:
      reply(pc.from, forward_status::unknown, {}, fx);
      return fx;
  }
}

session_effects session_logic::tick(std::uint64_t now_ms) {
  session_effects fx;
  auto expire = [&](auto& pending, bool reads) {
    for (auto i = pending.begin(); i != pending.end();) {
      if (i->second.deadline_ms > now_ms) {
        ++i;
        continue;
      }
      auto& pc = i->second;
      if constexpr (std::is_same_v<std::decay_t<decltype(pending)>, decltype(forwarded_)>)
        if (&pending == &forwarded_) forget_forward(pc, i->first);
      if (pc.command.through_log)
        reply(pc.from, forward_status::unknown, {}, fx);
      else
        reply(pc.from, forward_status::ok, reads ? replies::read_timeout : replies::unknown, fx);
      i = pending.erase(i);
    }
  };
  expire(writes_, false);
  expire(reads_, true);
  expire(forwarded_, true);
  // Retried commands rejoin at the back, so deadlines are not ordered: scan them all.
  for (auto i = waiting_.begin(); i != waiting_.end();) {
    if (i->leader_deadline_ms > now_ms) {
      ++i;
      continue;
    }
    give_up(*i, replies::clusterdown, fx);
    i = waiting_.erase(i);
  }
  drain_waiting(now_ms, fx);
  return fx;
}

} // namespace prez::session
