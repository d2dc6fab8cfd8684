// In-memory mirror of the replicated log. Pure: no CAF.
#include "actors/raft/raft_log.hpp"

#include <algorithm>

#include "actors/raft/rules.hpp"

namespace prez::raft {

raft_log::raft_log(std::vector<log_entry> entries) : entries_(std::move(entries)) {
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    PREZ_ASSERT(entries_[i].index == i + 1);
    PREZ_ASSERT(entries_[i].term >= 1);
    PREZ_ASSERT(i == 0 || entries_[i].term >= entries_[i - 1].term);
  }
}

std::uint64_t raft_log::last_index() const {
  return entries_.size();
}

std::uint64_t raft_log::last_term() const {
  return entries_.empty() ? 0 : entries_.back().term;
}

std::optional<std::uint64_t> raft_log::term_at(std::uint64_t index) const {
  if (index == 0) return 0;
  if (index > entries_.size()) return std::nullopt;
  return entries_[index - 1].term;
}

const log_entry& raft_log::at(std::uint64_t index) const {
  PREZ_ASSERT(index >= 1);
  PREZ_ASSERT(index <= entries_.size());
  return entries_[index - 1];
}

void raft_log::append(log_entry e) {
  PREZ_ASSERT(e.index == last_index() + 1);
  PREZ_ASSERT(e.term >= 1);
  PREZ_ASSERT(e.term >= last_term());
  entries_.push_back(std::move(e));
}

void raft_log::truncate_from(std::uint64_t index) {
  PREZ_ASSERT(index >= 1);
  if (index <= entries_.size()) entries_.resize(index - 1);
}

std::vector<log_entry> raft_log::slice(std::uint64_t from, std::size_t entries_max,
                                       std::size_t bytes_max) const {
  std::vector<log_entry> result;
  PREZ_ASSERT(from >= 1);
  std::size_t bytes = 0;
  for (auto index = from; index <= last_index() && result.size() < entries_max; ++index) {
    const auto& e = entries_[index - 1];
    // Always at least one entry, so an entry larger than the byte cap still goes out alone.
    if (!result.empty() && bytes + e.data.size() > bytes_max) break;
    bytes += e.data.size();
    result.push_back(e);
  }
  return result;
}

std::uint64_t raft_log::first_index_of_term_at(std::uint64_t index) const {
  PREZ_ASSERT(index >= 1);
  PREZ_ASSERT(index <= last_index());
  const auto term = entries_[index - 1].term;
  auto first = index;
  while (first > 1 && entries_[first - 2].term == term)
    --first;
  return first;
}

std::uint64_t raft_log::last_index_with_term_at_most(std::uint64_t term) const {
  // Terms never decrease along the log, so the entries with term <= `term` form a prefix.
  auto it = std::upper_bound(entries_.begin(), entries_.end(), term,
                             [](std::uint64_t t, const log_entry& e) { return t < e.term; });
  return static_cast<std::uint64_t>(it - entries_.begin());
}

bool raft_log::is_up_to_date(std::uint64_t other_last_index, std::uint64_t other_last_term) const {
  // Raft §5.4.1: compare the terms of the last entries, then the lengths.
  if (other_last_term != last_term()) return other_last_term > last_term();
  return other_last_index >= last_index();
}

} // namespace prez::raft
