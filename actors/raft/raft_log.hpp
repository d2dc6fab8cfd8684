#pragma once
// In-memory mirror of the replicated log, used by the pure role logics. Durability is the log
// actor's job; this class only answers "which term is at index i" and hands out slices. Pure.
//
// After a snapshot the log starts later: entries 1..snapshot_index() are gone (compacted) and
// only the snapshot's last index and term are remembered, which is all the consistency check of
// AppendEntries needs at the boundary (Raft §7).

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "messages/membership.hpp"
#include "messages/raft_messages.hpp"

namespace prez::raft {

/// Entries snapshot_index()+1 .. last_index() in order, and the cluster configuration they
/// imply: the newest configuration entry in the log, committed or not (thesis §4.1), else the
/// configuration the log starts from (a snapshot's, or the bootstrap one from nodes.conf).
class raft_log {
public:
  raft_log() = default;
  /// Builds a log from entries recovered from disk. Precondition: indexes are 1, 2, 3, ...
  explicit raft_log(std::vector<log_entry> entries);
  /// A log that continues a snapshot covering 1..snapshot_index (whose last entry had
  /// snapshot_term). Precondition: entries are snapshot_index + 1, + 2, ... with terms
  /// >= snapshot_term, never decreasing.
  raft_log(std::uint64_t snapshot_index, std::uint64_t snapshot_term,
           std::vector<log_entry> entries);

  std::uint64_t last_index() const;
  std::uint64_t last_term() const;
  /// Last index covered by the snapshot the log continues (0: none, the log starts at 1).
  std::uint64_t snapshot_index() const { return snapshot_index_; }
  std::uint64_t snapshot_term() const { return snapshot_term_; }
  /// Index of the first entry held: snapshot_index() + 1 (last_index() + 1 when none is held).
  std::uint64_t first_index() const { return snapshot_index_ + 1; }
  /// Term at `index`; 0 for index 0; the snapshot's term at snapshot_index(); nullopt past the
  /// end and for compacted indexes (0 < index < snapshot_index()).
  std::optional<std::uint64_t> term_at(std::uint64_t index) const;
  /// Precondition: first_index() <= index <= last_index().
  const log_entry& at(std::uint64_t index) const;
  /// Precondition: e.index == last_index() + 1 and e.term >= last_term().
  void append(log_entry e);
  /// Removes every entry with index >= `index`. Precondition: index > snapshot_index() (a
  /// snapshot only ever covers committed entries, which are never truncated).
  void truncate_from(std::uint64_t index);
  /// Drops the entries up to `index`, which becomes the new snapshot_index() (its term is kept).
  /// No-op when index <= snapshot_index(). Precondition: index <= last_index().
  void compact_to(std::uint64_t index);
  /// Replaces the whole log by a snapshot covering 1..index with last term `term` (a follower
  /// installing a snapshot that its log does not contain, Raft §7). No entries remain.
  void reset_to_snapshot(std::uint64_t index, std::uint64_t term, membership config);
  /// Entries [from, last_index()] capped at `entries_max` entries and about `bytes_max` bytes of
  /// data (at least one entry when any exists). Precondition: from >= first_index().
  std::vector<log_entry> slice(std::uint64_t from, std::size_t entries_max,
                               std::size_t bytes_max) const;
  /// First index of the run of entries with the same term as the entry at `index` (fast
  /// back-off hint); never below first_index(). Precondition: first_index() <= index <=
  /// last_index().
  std::uint64_t first_index_of_term_at(std::uint64_t index) const;
  /// Last index whose term is <= `term`, looking only at entries held and the snapshot boundary;
  /// 0 when none (leader side of fast back-off).
  std::uint64_t last_index_with_term_at_most(std::uint64_t term) const;
  /// Raft §5.4.1: is a log ending at (last_index, last_term) at least as up-to-date as ours?
  bool is_up_to_date(std::uint64_t other_last_index, std::uint64_t other_last_term) const;
  /// Payload bytes of the entries held (INFO, snapshot thresholds).
  std::uint64_t bytes() const { return bytes_; }
  /// Number of entries held.
  std::size_t size() const { return entries_.size(); }

  /// The configuration in effect: that of the newest configuration entry held, else the base.
  const membership& config() const {
    return configs_.empty() ? base_config_ : configs_.back().config;
  }
  /// The configuration in effect at `index`: that of the newest configuration entry held at or
  /// before it, else the base. At the commit index: the newest configuration known committed.
  const membership& config_at(std::uint64_t index) const;
  /// Index of the entry holding config() (0 when it is the base configuration).
  std::uint64_t config_index() const { return configs_.empty() ? 0 : configs_.back().index; }
  /// Whether a configuration entry held was asked for by client command (client_id, seq).
  bool has_config_from(std::uint64_t client_id, std::uint64_t seq) const;
  /// Whether any configuration is known (a base was set, or an entry holds one).
  bool has_config() const { return has_base_config_ || !configs_.empty(); }
  /// Sets the configuration the log starts from (before its first held entry).
  void set_base_config(membership config);
  /// Grows by one whenever config() may have changed (append, truncation, reset).
  std::uint64_t config_version() const { return config_version_; }

private:
  // Invariant: entries_[i].index == snapshot_index_ + 1 + i; terms never decrease and are all
  // >= snapshot_term_; bytes_ is the sum of their data sizes.
  std::deque<log_entry> entries_;
  std::uint64_t snapshot_index_ = 0;
  std::uint64_t snapshot_term_ = 0;
  std::uint64_t bytes_ = 0;
  /// Configuration entries held, in index order (their decoded data).
  struct config_point {
    std::uint64_t index = 0;
    membership config;
    std::uint64_t client_id = 0;
    std::uint64_t seq = 0;
  };
  std::deque<config_point> configs_;
  membership base_config_;
  bool has_base_config_ = false;
  std::uint64_t config_version_ = 0;
};

} // namespace prez::raft
