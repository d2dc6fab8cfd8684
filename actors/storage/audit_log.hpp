#pragma once
// The audit log's pure parts (docs/architecture.md §5, "The audit log"): the text line of each
// applied command, the scan of an existing file's tail that tells where to continue after a
// restart, and the rotation decision. Pure C++: no CAF, no I/O; audit_log_actor.cpp does the
// file work.
//
// One line per applied command, Redis MONITOR style:
//   <index> <term> <time_ms> "SET" "key" "value"\n
// A transaction is a "MULTI" line, its queued commands, then an "EXEC" line, all with the entry's
// index, term and time. A line starting with '#' is a comment (a snapshot jump, lost lines).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/client_messages.hpp"

namespace prez::audit {

/// A piece of text for the audit log and the log index it belongs to. The actor skips pieces
/// whose index the file already holds (a restart re-applies entries after the snapshot).
/// Invariant: `text` is one or more whole lines, each ending in '\n'.
struct audit_line {
  std::uint64_t index = 0;
  std::string text;
  friend bool operator==(const audit_line&, const audit_line&) = default;
};

/// Appends `arg` double-quoted with Redis's sdscatrepr escapes (what MONITOR prints): \\ \" \n \r
/// \t \a \b, other bytes outside printable ASCII as \xhh; printable ASCII as it is.
void append_quoted(std::string& out, std::string_view arg);

/// `<index> <term> <time_ms> "arg0" "arg1" ...\n`.
std::string command_line(std::uint64_t index, std::uint64_t term, std::uint64_t time_ms,
                         const std::vector<std::string>& argv);

/// The line(s) of one applied command entry: one line, or for a transaction a MULTI line, one
/// line per queued command and an EXEC line, all with the same index, term and time_ms.
audit_line entry_lines(std::uint64_t index, std::uint64_t term, const client_command& command);

/// The comment written when the state machine continues from a snapshot (installed from the
/// leader, or loaded at start past what the file lists): entries up to `index` are not listed.
audit_line snapshot_comment(std::uint64_t index, std::uint64_t term, bool installed);

/// The comment that owns up to a gap: the commands of entries `first` to `last` are not listed,
/// because of `reason` (a write that failed, an audit log that fell behind).
audit_line lost_comment(std::uint64_t first, std::uint64_t last, std::string_view reason);

/// The index a line is about: its first field for a command line, N for a snapshot comment
/// ("# snapshot ... at index N ..."); nullopt for anything else (other comments, garbage).
std::optional<std::uint64_t> line_index(std::string_view line);

/// What the tail of an existing audit file says.
struct tail_scan {
  /// False when the window was too short to decide (a line, or a transaction, starts before it):
  /// scan a longer tail. The other fields are then a best guess.
  bool decided = true;
  /// Bytes of the window to keep; the rest (a torn last line, or a transaction whose EXEC line
  /// never made it) is to be cut off before appending.
  std::uint64_t keep_bytes = 0;
  /// Highest index the kept part lists; nullopt if it lists none.
  std::optional<std::uint64_t> last_index;
};

/// Scans `window`, the last bytes of an audit file. `at_file_start`: the window is the whole
/// file (its first byte starts a line).
tail_scan scan_tail(std::string_view window, bool at_file_start);

/// Whether a file of `file_bytes` must be rotated before `batch_bytes` more are appended:
/// it would then exceed `max_bytes` (0: never rotate). An empty file is never rotated, so a batch
/// larger than the limit is written whole into a fresh file.
bool should_rotate(std::uint64_t file_bytes, std::uint64_t batch_bytes, std::uint64_t max_bytes);

/// `path.n`, the n-th rotated file (1 is the newest). Precondition: n >= 1.
std::string rotated_path(const std::string& path, unsigned n);

} // namespace prez::audit
