#pragma once
// The durable write-ahead log and hard state of one node (docs/architecture.md §5). Synchronous and
// single-threaded: owned by exactly one log_actor, which calls it from its own thread. Pure
// C++ with POSIX file I/O; no CAF.
//
// On disk, in the data directory:
//   log-<first index, 20 digits>.seg   records [u32 length][u32 crc32c(payload)][payload], both
//                                       integers little-endian. Two kinds of payload:
//                                       - a log entry: msgpack [term, index, type, data];
//                                       - a sync mark: msgpack uint64 in its 9-byte form (0xcf,
//                                         8 bytes big-endian) = the mark's own offset. A mark
//                                         says "every byte before me was fdatasynced": one opens
//                                         each new segment, and sync() appends one after each
//                                         fdatasync that made new bytes durable. It is durable
//                                         only after the next sync, which is enough: recovery
//                                         needs a lower bound of what was acknowledged, and
//                                         treats damage after the last mark on disk as a torn
//                                         group commit, damage before it as corruption
//                                         (docs/decisions.md D17). Segments written before marks
//                                         existed have none and are judged as before.
//                                       A segment is closed once the next record and a mark
//                                       after it would take it past segment_bytes_max.
//                                       The first segment starts at index 1, or above it once
//                                       compact_to() or reset() has dropped a prefix (a snapshot
//                                       covers it, snapshot_file.hpp); the others follow it with
//                                       no gap. A segment may hold no entry (only marks) when it
//                                       is the last one, e.g. right after reset().
//   hard-state                          one record of the same shape, payload msgpack
//                                       [term, voted_for]; replaced atomically via hard-state.tmp.
//   LOCK                                flock()ed while open, so two processes cannot share a dir.
//   snapshot-*.snap[.tmp|.recv]         snapshots (snapshot_file.hpp); log_store ignores them.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <msgpack.hpp>

#include "config/limits.hpp"
#include "messages/raft_messages.hpp"

namespace prez::storage {

/// Term and vote as stored in `hard-state` (Raft Figure 2: must be durable before any message
/// that depends on them leaves the node).
struct hard_state_record {
  std::uint64_t term = 0;
  std::string voted_for; ///< empty: no vote in `term`
  MSGPACK_DEFINE(term, voted_for)
  friend bool operator==(const hard_state_record&, const hard_state_record&) = default;
};

/// What open() found on disk.
struct recovered_state {
  hard_state_record hard;
  /// Every entry in the log. Invariant: entries[i].index == first_index + i; terms never
  /// decrease. first_index is 1 unless the log was compacted or reset (log_store::compact_to,
  /// log_store::reset).
  std::vector<log_entry> entries;
  /// Index of entries[0]; when `entries` is empty, the index the next append must have (1 for a
  /// directory without segments).
  std::uint64_t first_index = 1;
  /// Bytes cut from the end of the last segment because its last record was torn (a write cut
  /// short by a crash). 0 on a clean start. The caller should log it.
  std::uint64_t truncated_tail_bytes = 0;
};

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, init and final xor 0xFFFFFFFF), the
/// checksum of every record. crc32c("123456789") == 0xE3069283.
std::uint32_t crc32c(const void* data, std::size_t size);

/// Continues a CRC-32C over more bytes: crc32c_extend(crc32c(a), b) == crc32c(a + b), and
/// crc32c_extend(0, data, size) == crc32c(data, size). For checksums of data that arrives in
/// pieces (snapshot files). `data` may be null when `size` is 0.
std::uint32_t crc32c_extend(std::uint32_t crc, const void* data, std::size_t size);

/// Told the path of every file or directory log_store has just made durable (fsync or
/// fdatasync returned 0): a segment, the hard-state file or the data directory. Lets tests see
/// which syncs happened; the server passes none.
using sync_observer = std::function<void(const std::string& path)>;

/// A segmented write-ahead log plus the hard-state file in one directory.
///
/// Errors: every function returns an error string on an operating failure (disk full, EIO).
/// After a failed write the on-disk state is unknown, so the store refuses every further write
/// with the first error (fail-stop, docs/decisions.md D3); reopening runs recovery again.
class log_store {
public:
  /// Opens the data directory `dir` (creating it if needed) and recovers its contents into
  /// `out`. A torn tail of the last segment is cut off and reported in
  /// `out.truncated_tail_bytes`: a bad record after the segment's last sync mark (a group commit
  /// cut short, whatever its pages left behind), or, in a segment without marks, a bad record
  /// with nothing valid after it. Anything else that is wrong (a bad record before a sync mark,
  /// a bad record followed by more data in a segment without marks, a bad record in an earlier
  /// segment, an index gap, decreasing terms, a garbage hard-state file) refuses to open with
  /// "<file>: offset <n>: <reason>". Never silently drops a record that might have been
  /// acknowledged. A log whose first segment starts above index 1 is accepted (compact_to(),
  /// reset()): only the caller knows whether a snapshot covers the missing prefix, so it checks
  /// out.first_index <= snapshot last index + 1.
  ///
  /// Everything recovered is durable on return (the last segment, the hard-state file and the
  /// directory are synced), so the caller may count every recovered entry as persisted: a node
  /// killed between write(2) and fdatasync must not acknowledge, after a restart, a tail that
  /// only the page cache holds.
  /// `observer`, when set, hears of every sync from here on (open's own included).
  static std::variant<std::unique_ptr<log_store>, std::string>
  open(const std::string& dir, recovered_state& out,
       std::size_t segment_bytes_max = limits::segment_bytes_max, sync_observer observer = {});

  ~log_store();
  log_store(const log_store&) = delete;
  log_store& operator=(const log_store&) = delete;

  /// Appends `entries` after the last one. Precondition (asserted): entries[0].index ==
  /// last_index() + 1 (after reset(n): n), consecutive indexes, terms >= 1 and never decreasing,
  /// each encoded record at most limits::log_record_bytes_max. Written with write(2) but not
  /// durable until sync().
  std::optional<std::string> append(const std::vector<log_entry>& entries);

  /// Removes every entry with index >= `index` (Raft §5.3: a follower drops a conflicting
  /// suffix). Deletes whole segments (durably, newest first, so a crash never leaves a gap) and
  /// truncates the one holding `index`; that truncation is durable after sync(). No-op when
  /// index > last_index(). Afterwards last_index() == index - 1 and the next append has index
  /// `index`. When that removes every segment (index <= first_index()), last_term() is 0 and a
  /// reopen finds no log at all (first index 1): a caller that holds a snapshot then calls
  /// reset(), as after a crash inside reset(). Precondition (asserted): index >= 1.
  std::optional<std::string> truncate_from(std::uint64_t index);

  /// Log compaction (Raft §7), called once a snapshot covering `index` is durable: deletes
  /// every whole segment all of whose entries are <= `index`, oldest first, each removal made
  /// durable (directory fsync) before the next, so a crash leaves a suffix of the log with no
  /// gap. Never deletes the last segment, nor the one holding the last entry, so last_index()
  /// and last_term() do not change. Entries <= `index` in a kept segment simply stay;
  /// first_index() tells where the log now starts. No-op when no segment qualifies.
  /// Errors: an unlink or fsync failure (then the store fails as on any write error).
  std::optional<std::string> compact_to(std::uint64_t index);

  /// Drops every entry because a snapshot replaced the whole log (InstallSnapshot, Raft §7):
  /// deletes all segments newest first (directory fsync after each), then starts an empty
  /// segment whose first index is `next_index` and syncs it and the directory. Durable on
  /// return. Afterwards first_index() == next_index, last_index() == next_index - 1 and
  /// last_term() == 0: the term of next_index - 1 is the snapshot's, which the caller knows.
  /// A crash in the middle leaves a prefix of the old log, or no segment at all (a reopen then
  /// starts at index 1); the caller already holds the durable snapshot and calls reset() again
  /// when the log it recovers ends before the snapshot's last index.
  /// Precondition (asserted): next_index >= 1. Errors: an unlink, create, write or sync failure.
  std::optional<std::string> reset(std::uint64_t next_index);

  /// Replaces the hard state atomically (write hard-state.tmp, fsync, rename, fsync dir).
  /// Durable on return.
  std::optional<std::string> save_hard_state(const hard_state_record& hard);

  /// Makes every earlier append and truncation durable: fdatasync of the open segment, and of
  /// the directory when segments were created since the last sync. Then writes a sync mark
  /// after the bytes just made durable (no further fdatasync; the next sync covers the mark).
  std::optional<std::string> sync();

  /// Index of the last entry; first_index() - 1 when the store holds no entry (0 for a new log,
  /// n - 1 after reset(n)).
  std::uint64_t last_index() const { return last_index_; }
  /// Term of the last entry; 0 when the store holds no entry (even when last_index() > 0).
  std::uint64_t last_term() const { return last_term_; }
  /// Index of the first entry kept; last_index() + 1 when the store holds no entry. 1 until
  /// compact_to() or reset() dropped a prefix.
  std::uint64_t first_index() const;
  /// Number of segment files (for tests and INFO).
  std::size_t segment_count() const { return segments_.size(); }

private:
  /// One segment file. Invariant: record_offsets.size() == record_terms.size(), offsets
  /// strictly increasing and < size_bytes; the records hold indexes first_index,
  /// first_index + 1, ... .
  struct segment {
    std::uint64_t first_index = 0;
    std::string path;
    std::uint64_t size_bytes = 0;
    std::vector<std::uint64_t> record_offsets;
    std::vector<std::uint64_t> record_terms;
    /// Upper bound of where the sync marks in the file end: every mark ends at or before it.
    /// Invariant: marks_end_bytes <= size_bytes.
    std::uint64_t marks_end_bytes = 0;
  };

  log_store(std::string dir, std::size_t segment_bytes_max, int dir_fd, int lock_fd,
            sync_observer observer);

  /// fdatasync (data_only) or fsync of `fd`, reported to observer_ when it succeeds.
  bool sync_fd(int fd, const std::string& path, bool data_only);
  /// The same for a file named by path (opened and closed here); an error string on failure.
  std::optional<std::string> sync_path(const std::string& path, bool data_only);

  std::optional<std::string> fail(std::string error);
  /// Syncs what open() recovered (the last segment, hard-state, the directory); see open().
  std::optional<std::string> sync_recovered();
  std::optional<std::string> open_last_segment_for_append();
  std::optional<std::string> start_segment(std::uint64_t first_index);
  std::optional<std::string> remove_last_segment();
  /// Appends a sync mark to the open segment when it is fully synced and has bytes after its
  /// last mark.
  std::optional<std::string> maybe_write_mark();
  void recompute_last();

  std::string dir_;
  std::size_t segment_bytes_max_;
  int dir_fd_ = -1;  ///< open O_RDONLY on dir_, for fsync of directory entries
  int lock_fd_ = -1; ///< holds the flock on LOCK for the store's lifetime
  /// Segments in index order. Invariant: segments_[i + 1].first_index == segments_[i].first_index
  /// + segments_[i].record_offsets.size(); only the last may be empty (recovery may also keep an
  /// earlier one that holds only sync marks). segments_[0].first_index >= 1, and above 1 after
  /// compact_to() or reset().
  std::vector<segment> segments_;
  /// fd of segments_.back() open for writing, or -1 when there is no segment.
  int segment_fd_ = -1;
  bool segment_dirty_ = false; ///< written or truncated since its last fdatasync
  bool dir_dirty_ = false;     ///< a segment was created since the last directory fsync
  /// The open segment's last sync mark was written after its last fdatasync. Not a reason for
  /// sync() to fdatasync again, but a closed segment must be synced whole (start_segment).
  bool mark_unsynced_ = false;
  /// The index the next append takes while there is no segment at all (a new log, or
  /// truncate_from() removed every segment). Unused otherwise.
  std::uint64_t empty_next_index_ = 1;
  /// Invariant: last_index_ == first index of the last segment + its record count - 1
  /// (empty_next_index_ - 1 if there is no segment).
  std::uint64_t last_index_ = 0;
  std::uint64_t last_term_ = 0;
  /// The first I/O error; once set every write returns it.
  std::optional<std::string> failed_;
  sync_observer observer_; ///< may be empty
};

} // namespace prez::storage
