#include "actors/raft/role_executor.hpp"

#include <algorithm>

#include "actors/raft/rules.hpp"

namespace prez::raft {

persist_request role_executor::next_request() {
  persist_request request;
  request.seq = ++persist_seq_;
  return request;
}

persist_request role_executor::start() {
  return next_request();
}

role_outputs role_executor::run(raft_effects&& fx, const raft_context& context) {
  role_outputs out;
  if (retired_) return out;
  if (fx.has_writes()) {
    auto request = next_request();
    if (fx.hard_state_changed) request.hard = context.hard;
    request.reset_log_to = fx.reset_log_to;
    request.compact_to = fx.compact_to;
    request.truncate_from = fx.truncate_from;
    request.entries = std::move(fx.entries_to_persist);
    out.persist = std::move(request);
  }
  if (acked_seq_ == 0) {
    // Nothing a role says leaves before its start barrier is answered: what it says rests on
    // the term and vote the previous role wrote (a single voter that wins its election at once
    // must not send entries of a term it could lose in a crash and take again).
    if (after_persist_.empty()) after_persist_.emplace_back(1, std::vector<raft_message>{});
    auto& held = after_persist_.back().second;
    for (auto& m : fx.messages)
      held.push_back(std::move(m));
  } else {
    out.send = std::move(fx.messages);
  }
  if (!fx.messages_after_persist.empty()) {
    // With no write of its own, a barrier: answered once every earlier write is durable.
    if (!out.persist) out.persist = next_request();
    after_persist_.emplace_back(persist_seq_, std::move(fx.messages_after_persist));
  }
  out.restore = fx.restore;
  out.committed = std::move(fx.committed);
  out.snapshot_sends = std::move(fx.snapshot_sends);
  out.snapshot_writes = std::move(fx.snapshot_writes);
  out.reads = std::move(fx.reads);
  out.reads_failed = std::move(fx.reads_failed);
  if (fx.next_role) {
    retired_ = true;
    out.next_role = fx.next_role;
    out.redeliver = std::move(fx.redeliver);
    after_persist_.clear(); // a retired role's held replies die with it (D2)
  }
  return out;
}

std::vector<raft_message> role_executor::persisted(std::uint64_t seq) {
  std::vector<raft_message> release;
  if (retired_) return release;
  PREZ_ASSERT(seq <= persist_seq_);
  acked_seq_ = std::max(acked_seq_, seq);
  while (!after_persist_.empty() && after_persist_.front().first <= acked_seq_) {
    for (auto& m : after_persist_.front().second)
      release.push_back(std::move(m));
    after_persist_.pop_front();
  }
  return release;
}

std::size_t role_executor::held() const {
  std::size_t count = 0;
  for (const auto& [seq, messages] : after_persist_)
    count += messages.size();
  return count;
}

} // namespace prez::raft
