#pragma once
// The audit log file (docs/architecture.md §5, "The audit log"): appends batches of lines, one
// write and one fsync per batch, rotates by size and, when (re)opened, continues after the last
// index the file already lists. POSIX file work only, no CAF: audit_log_actor.cpp owns one and
// logs what it reports. The audit log is not part of Raft safety, so every failure is reported
// and the next batch tries again; none is fatal.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actors/storage/audit_log.hpp"
#include "config/limits.hpp"

namespace prez::storage {

/// Where and how the audit log is written.
struct audit_log_options {
  std::string path;                                              ///< the file (not empty)
  std::uint64_t max_bytes = limits::audit_log_max_bytes_default; ///< rotate past it; 0: never
  unsigned keep = limits::audit_log_keep_default; ///< rotated files kept: path.1 .. path.keep
};

/// One node's audit log file. Owned by the audit log actor.
class audit_log_file {
public:
  explicit audit_log_file(audit_log_options options);
  ~audit_log_file();
  audit_log_file(const audit_log_file&) = delete;
  audit_log_file& operator=(const audit_log_file&) = delete;

  /// Appends the lines of `batch` whose index the file does not list yet (index > last_index()),
  /// with one write and one fsync; opens the file first if it is not open. Lines of a batch that
  /// fails are counted as lost, and a comment naming them is written before the next batch that
  /// succeeds. Returns the reason on failure; the file is then closed and reopened next time.
  std::optional<std::string> append(const std::vector<audit::audit_line>& batch);

  bool is_open() const { return fd_ >= 0; }
  /// The highest index the file lists (0: none), once opened.
  std::uint64_t last_index() const { return last_index_; }
  /// Bytes in the current file. Invariant: equals the file's size while open.
  std::uint64_t file_bytes() const { return file_bytes_; }
  /// What happened that an operator may want to know (a torn tail cut, a rotation): taken by the
  /// actor, which logs it.
  std::vector<std::string> take_notices();

private:
  std::optional<std::string> open();
  std::optional<std::string> rotate();
  void close();
  /// Marks the lines of `batch` past last_index_ as lost and returns `reason`.
  std::string lose(const std::vector<audit::audit_line>& batch, std::string reason);

  audit_log_options options_;
  std::string dir_;
  int fd_ = -1;
  std::uint64_t file_bytes_ = 0;
  std::uint64_t last_index_ = 0;
  /// Entries whose lines could not be written, not yet reported in the file (first > last: none).
  std::uint64_t lost_first_ = 1;
  std::uint64_t lost_last_ = 0;
  std::vector<std::string> notices_;
};

/// The highest index listed in the tail of the file at `fd` (size `size`), cutting nothing:
/// reads limits::audit_log_tail_bytes and, when that cannot decide, up to
/// limits::audit_log_tail_bytes_max. Errors: the reason.
struct tail_result {
  audit::tail_scan scan;
  std::uint64_t window_start = 0; ///< file offset of the window's first byte
};
std::optional<std::string> read_tail(int fd, std::uint64_t size, const std::string& path,
                                     tail_result& out);

} // namespace prez::storage
