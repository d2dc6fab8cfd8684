// Shared vocabulary of the pure Raft logic. Pure: no CAF.
#include "actors/raft/raft_types.hpp"

#include <algorithm>
#include <iterator>

#include "actors/raft/rules.hpp"

namespace prez::raft {

const char* to_string(role r) {
  switch (r) {
    case role::follower:
      return "follower";
    case role::candidate:
      return "candidate";
    case role::leader:
      return "leader";
  }
  return "unknown";
}

namespace {

template <class T>
void append_all(std::vector<T>& to, std::vector<T>&& from) {
  if (to.empty()) {
    to = std::move(from);
    return;
  }
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

} // namespace

void raft_effects::merge(raft_effects&& other) {
  // A role that has ended produces no further effects (its successor's come separately).
  PREZ_ASSERT(!next_role);
  hard_state_changed = hard_state_changed || other.hard_state_changed;
  if (other.reset_log_to) {
    // A reset drops everything written before it in the same request.
    entries_to_persist.clear();
    truncate_from.reset();
    compact_to.reset();
    reset_log_to = other.reset_log_to;
  }
  if (other.compact_to)
    compact_to = compact_to ? std::max(*compact_to, *other.compact_to) : other.compact_to;
  if (other.truncate_from) {
    // "truncate t1, append E1, truncate t2, append E2" equals "truncate min(t1, t2), append the
    // part of E1 below t2, append E2".
    const auto cut = *other.truncate_from;
    std::erase_if(entries_to_persist, [cut](const log_entry& e) { return e.index >= cut; });
    truncate_from = truncate_from ? std::min(*truncate_from, cut) : cut;
  }
  append_all(entries_to_persist, std::move(other.entries_to_persist));
  append_all(messages, std::move(other.messages));
  append_all(messages_after_persist, std::move(other.messages_after_persist));
  if (other.restore) {
    committed.clear(); // entries the snapshot covers need not reach the state machine
    restore = other.restore;
  }
  append_all(committed, std::move(other.committed));
  append_all(snapshot_sends, std::move(other.snapshot_sends));
  append_all(snapshot_writes, std::move(other.snapshot_writes));
  append_all(reads, std::move(other.reads));
  append_all(reads_failed, std::move(other.reads_failed));
  next_role = other.next_role;
  redeliver = std::move(other.redeliver);
}

} // namespace prez::raft
