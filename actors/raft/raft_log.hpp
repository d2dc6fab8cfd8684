#pragma once
// In-memory mirror of the replicated log, used by the pure role logics. Durability is the log
// actor's job; this class only answers "which term is at index i" and hands out slices. Pure.

#include <cstdint>
#include <optional>
#include <vector>

#include "messages/raft_messages.hpp"

namespace prez::raft {

/// Entries 1..last_index() in order (snapshots will later move the first index up).
class raft_log {
public:
  raft_log() = default;
  /// Builds a log from entries recovered from disk. Precondition: indexes are 1, 2, 3, ...
  explicit raft_log(std::vector<log_entry> entries);

  std::uint64_t last_index() const;
  std::uint64_t last_term() const;
  /// Term at `index`; 0 for index 0; nullopt past the end.
  std::optional<std::uint64_t> term_at(std::uint64_t index) const;
  /// Precondition: 1 <= index <= last_index().
  const log_entry& at(std::uint64_t index) const;
  /// Precondition: e.index == last_index() + 1 and e.term >= last_term().
  void append(log_entry e);
  /// Removes every entry with index >= `index`. Precondition: index >= 1.
  void truncate_from(std::uint64_t index);
  /// Entries [from, last_index()] capped at `entries_max` entries and about `bytes_max` bytes of
  /// data (at least one entry when any exists).
  std::vector<log_entry> slice(std::uint64_t from, std::size_t entries_max,
                               std::size_t bytes_max) const;
  /// First index of the run of entries with the same term as the entry at `index` (fast
  /// back-off hint). Precondition: 1 <= index <= last_index().
  std::uint64_t first_index_of_term_at(std::uint64_t index) const;
  /// Last index whose term is <= `term`; 0 when none (leader side of fast back-off).
  std::uint64_t last_index_with_term_at_most(std::uint64_t term) const;
  /// Raft §5.4.1: is a log ending at (last_index, last_term) at least as up-to-date as ours?
  bool is_up_to_date(std::uint64_t other_last_index, std::uint64_t other_last_term) const;

private:
  // Invariant: entries_[i].index == i + 1; terms never decrease.
  std::vector<log_entry> entries_;
};

} // namespace prez::raft
