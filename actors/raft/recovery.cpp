// Start-up recovery rules (recovery.hpp). Pure: no CAF, no I/O.
#include "actors/raft/recovery.hpp"

namespace prez::raft {

std::variant<recovery_plan, std::string> plan_recovery(const snapshot_ref& snapshot,
                                                       std::uint64_t first_index,
                                                       std::vector<log_entry> entries) {
  recovery_plan plan;
  if (!entries.empty() && entries.front().index != first_index)
    return "the recovered log starts at " + std::to_string(entries.front().index) +
           ", not at its first index " + std::to_string(first_index);
  const std::uint64_t first = first_index;
  const std::uint64_t last = entries.empty() ? 0 : entries.back().index;
  for (std::size_t i = 1; i < entries.size(); ++i)
    if (entries[i].index != entries[i - 1].index + 1 || entries[i].term < entries[i - 1].term)
      return std::string("the recovered log is not consecutive at index ") +
             std::to_string(entries[i].index);
  if (snapshot.index == 0) {
    if (first != 1)
      return "the log starts at index " + std::to_string(first) +
             " but there is no valid snapshot to cover 1.." + std::to_string(first - 1);
    plan.log = raft_log(std::move(entries));
    return plan;
  }
  if (first > snapshot.index + 1)
    return "the log starts at index " + std::to_string(first) +
           " but the newest valid snapshot ends at " + std::to_string(snapshot.index) +
           ": entries " + std::to_string(snapshot.index + 1) + ".." + std::to_string(first - 1) +
           " are in neither";
  bool keep = first == snapshot.index + 1;
  if (!entries.empty() && first <= snapshot.index && snapshot.index <= last)
    keep = entries[snapshot.index - first].term == snapshot.term;
  if (keep && !entries.empty() && first == snapshot.index + 1 &&
      entries.front().term < snapshot.term)
    keep = false; // terms never decrease along a log: this one is not a continuation
  std::vector<log_entry> after;
  if (keep)
    for (auto& e : entries)
      if (e.index > snapshot.index) after.push_back(std::move(e));
  plan.reset_log = !keep;
  plan.log = raft_log(snapshot.index, snapshot.term, std::move(after));
  return plan;
}

} // namespace prez::raft
