// In-memory mirror of the replicated log. Pure: no CAF.
#include "actors/raft/raft_log.hpp"

#include <algorithm>

#include "actors/raft/rules.hpp"

namespace prez::raft {

raft_log::raft_log(std::vector<log_entry> entries) : raft_log(0, 0, std::move(entries)) {}

raft_log::raft_log(std::uint64_t snapshot_index, std::uint64_t snapshot_term,
                   std::vector<log_entry> entries)
    : snapshot_index_(snapshot_index), snapshot_term_(snapshot_term) {
  PREZ_ASSERT(snapshot_index == 0 ? snapshot_term == 0 : snapshot_term >= 1);
  for (auto& e : entries)
    append(std::move(e));
}

std::uint64_t raft_log::last_index() const {
  return snapshot_index_ + entries_.size();
}

std::uint64_t raft_log::last_term() const {
  return entries_.empty() ? snapshot_term_ : entries_.back().term;
}

std::optional<std::uint64_t> raft_log::term_at(std::uint64_t index) const {
  if (index == 0) return 0;
  if (index == snapshot_index_) return snapshot_term_;
  if (index < snapshot_index_ || index > last_index()) return std::nullopt;
  return entries_[index - snapshot_index_ - 1].term;
}

const log_entry& raft_log::at(std::uint64_t index) const {
  PREZ_ASSERT(index > snapshot_index_);
  PREZ_ASSERT(index <= last_index());
  return entries_[index - snapshot_index_ - 1];
}

void raft_log::append(log_entry e) {
  PREZ_ASSERT(e.index == last_index() + 1);
  PREZ_ASSERT(e.term >= 1);
  PREZ_ASSERT(e.term >= last_term());
  bytes_ += e.data.size();
  if (e.kind() == entry_type::config) {
    // A configuration entry that does not decode changes nothing (the leader never makes one;
    // accept_append refuses them from a peer; a damaged disk is caught by the checksums first).
    if (auto change = decode_config_change(e.data)) {
      configs_.push_back(
          {e.index, std::move(change->config), change->origin.client_id, change->origin.seq});
      ++config_version_;
    }
  }
  entries_.push_back(std::move(e));
}

bool raft_log::has_config_from(std::uint64_t client_id, std::uint64_t seq) const {
  return std::any_of(configs_.begin(), configs_.end(), [&](const config_point& c) {
    return c.client_id == client_id && c.seq == seq;
  });
}

const membership& raft_log::config_at(std::uint64_t index) const {
  for (auto it = configs_.rbegin(); it != configs_.rend(); ++it)
    if (it->index <= index) return it->config;
  return base_config_;
}

void raft_log::set_base_config(membership config) {
  base_config_ = std::move(config);
  has_base_config_ = true;
  ++config_version_;
}

void raft_log::truncate_from(std::uint64_t index) {
  PREZ_ASSERT(index > snapshot_index_);
  while (last_index() >= index) {
    bytes_ -= entries_.back().data.size();
    entries_.pop_back();
  }
  // Thesis §4.1: a configuration entry removed from the log takes its configuration with it.
  bool changed = false;
  while (!configs_.empty() && configs_.back().index >= index) {
    configs_.pop_back();
    changed = true;
  }
  if (changed) ++config_version_;
}

void raft_log::compact_to(std::uint64_t index) {
  if (index <= snapshot_index_) return;
  PREZ_ASSERT(index <= last_index());
  const auto term = *term_at(index);
  while (snapshot_index_ < index) {
    bytes_ -= entries_.front().data.size();
    entries_.pop_front();
    ++snapshot_index_;
  }
  snapshot_term_ = term;
  // Configurations of dropped entries: the newest of them is where the log now starts from.
  while (!configs_.empty() && configs_.front().index <= index) {
    base_config_ = std::move(configs_.front().config);
    has_base_config_ = true;
    configs_.pop_front();
  }
}

void raft_log::reset_to_snapshot(std::uint64_t index, std::uint64_t term, membership config) {
  PREZ_ASSERT(index >= 1 && term >= 1);
  entries_.clear();
  configs_.clear();
  set_base_config(std::move(config));
  bytes_ = 0;
  snapshot_index_ = index;
  snapshot_term_ = term;
}

std::vector<log_entry> raft_log::slice(std::uint64_t from, std::size_t entries_max,
                                       std::size_t bytes_max) const {
  std::vector<log_entry> result;
  PREZ_ASSERT(from > snapshot_index_);
  std::size_t bytes = 0;
  for (auto index = from; index <= last_index() && result.size() < entries_max; ++index) {
    const auto& e = at(index);
    // Always at least one entry, so an entry larger than the byte cap still goes out alone.
    if (!result.empty() && bytes + e.data.size() > bytes_max) break;
    bytes += e.data.size();
    result.push_back(e);
  }
  return result;
}

std::uint64_t raft_log::first_index_of_term_at(std::uint64_t index) const {
  PREZ_ASSERT(index > snapshot_index_);
  PREZ_ASSERT(index <= last_index());
  const auto term = at(index).term;
  auto first = index;
  while (first > first_index() && at(first - 1).term == term)
    --first;
  return first;
}

std::uint64_t raft_log::last_index_with_term_at_most(std::uint64_t term) const {
  // Terms never decrease along the log, so the entries with term <= `term` form a prefix.
  if (term < snapshot_term_) return 0; // somewhere inside the snapshot: unknown here
  auto it = std::upper_bound(entries_.begin(), entries_.end(), term,
                             [](std::uint64_t t, const log_entry& e) { return t < e.term; });
  return snapshot_index_ + static_cast<std::uint64_t>(it - entries_.begin());
}

bool raft_log::is_up_to_date(std::uint64_t other_last_index, std::uint64_t other_last_term) const {
  // Raft §5.4.1: compare the terms of the last entries, then the lengths.
  if (other_last_term != last_term()) return other_last_term > last_term();
  return other_last_index >= last_index();
}

} // namespace prez::raft
