#pragma once
// Snapshot files served to backup clients (RAFT.SNAPSHOT FETCH and READ, `prez-ctl snapshot
// save`, docs/decisions.md D25). Owned by the snapshot actor. Pure C++ with POSIX file I/O; no
// CAF, no clock (the time comes in as milliseconds).
//
// A served file is held open by its index until it has been idle for
// limits::snapshot_export_idle_ms: a newer snapshot may prune it meanwhile (snapshot_writer::
// finish), and an unlinked file stays readable through a descriptor that is still open, so a
// backup in progress never loses its file halfway. At most limits::snapshot_exports_max are open;
// opening one more closes the least recently used (its client's next READ gets an error telling
// it to fetch again).

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>

#include "config/limits.hpp"

namespace prez::storage {

/// One READ's answer: the bytes, or the reason there are none.
struct export_read {
  std::string bytes; ///< empty at the end of the file
  std::optional<std::string> error;
};

/// The snapshot files being served, by index.
class snapshot_exports {
public:
  explicit snapshot_exports(std::size_t open_max = limits::snapshot_exports_max,
                            std::uint64_t idle_ms = limits::snapshot_export_idle_ms,
                            std::size_t read_bytes_max = limits::snapshot_read_bytes_max);
  ~snapshot_exports();
  snapshot_exports(const snapshot_exports&) = delete;
  snapshot_exports& operator=(const snapshot_exports&) = delete;

  /// Serves <dir>/snapshot-<index>.snap from now on (or keeps serving the copy already open for
  /// that index, so every client of one index reads the same bytes) and returns its size in
  /// bytes. Errors: the file cannot be opened (gone: a newer snapshot pruned it) or stat'ed.
  std::variant<std::uint64_t, std::string> open(const std::string& dir, std::uint64_t index,
                                                std::uint64_t now_ms);

  /// Bytes [offset, offset + min(count, read_bytes_max)) of the served snapshot `index`, fewer at
  /// its end, none at offset == size. Errors: `index` is not served (never fetched, idle too long
  /// or closed for a newer one), offset past the end, count 0, or a read failure.
  export_read read(std::uint64_t index, std::uint64_t offset, std::uint64_t count,
                   std::uint64_t now_ms);

  /// Closes every file idle for idle_ms or more at `now_ms`.
  void expire(std::uint64_t now_ms);

  /// Files open now.
  std::size_t size() const { return open_.size(); }

private:
  struct served {
    int fd = -1;
    std::uint64_t file_bytes = 0;
    std::uint64_t used_ms = 0; ///< last open or read
  };
  void close(std::map<std::uint64_t, served>::iterator it);

  std::size_t open_max_;
  std::uint64_t idle_ms_;
  std::size_t read_bytes_max_;
  /// Invariant: open_.size() <= open_max_; every fd is open and read-only.
  std::map<std::uint64_t, served> open_;
};

} // namespace prez::storage
