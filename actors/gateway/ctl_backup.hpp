#pragma once
// The decisions of `prez-ctl snapshot save <file> [host:port]` (apps/ctl_snapshot_save.cpp,
// docs/decisions.md D25): its arguments, reading RAFT.SNAPSHOT FETCH and READ replies, which
// failures are worth starting over, and the report. Pure: no sockets, no files, no clock.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/gateway/ctl_report.hpp"
#include "actors/gateway/resp3.hpp"

namespace prez {

namespace ctl_backup_limits {
/// Bytes asked per RAFT.SNAPSHOT READ (the server's limits::snapshot_read_bytes_max: it sends
/// no more anyway).
inline constexpr std::uint64_t chunk_bytes = 1024 * 1024;
/// How long FETCH may take: a ReadIndex round, a follower catching up, then a snapshot of the
/// whole state written to disk. A large state takes seconds per GiB.
inline constexpr int fetch_timeout_ms = 150 * 1000;
/// Pause before starting over after a retryable failure.
inline constexpr int retry_pause_ms = 1000;
/// How long one READ (1 MiB) may take.
inline constexpr int read_timeout_ms = 30 * 1000;
/// Whole saves tried when the served snapshot went away in the middle (the node restarted, or
/// closed it as idle) before giving up.
inline constexpr int attempts_max = 3;
} // namespace ctl_backup_limits

/// Parses `snapshot save <file> [host:port]` (words[0] == "snapshot", words[1] == "save") into
/// `out` (action snapshot_save, save_path, and target when host:port is given). Returns a usage
/// error, empty on success.
std::string parse_snapshot_save(const std::vector<std::string>& words, ctl_args& out);

/// What RAFT.SNAPSHOT FETCH answered.
struct fetched_snapshot {
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  std::uint64_t bytes = 0; ///< the file's size
};

/// FETCH's reply ([index, term, bytes], three non-negative integers, index >= 1); nullopt for
/// anything else (an error reply is the caller's to print).
std::optional<fetched_snapshot> parse_fetch_reply(const resp2_reply& reply);

/// Whether a FETCH error is the cluster's passing state (no leader known now: CLUSTERDOWN,
/// TRYAGAIN, UNKNOWN), so fetching again later may succeed.
bool is_retryable_fetch_error(std::string_view error);

/// The leader's client address in a `MOVED <slot> <host:port>` error (a follower in
/// `follower-mode redirect` answers FETCH so); nullopt for any other error.
std::optional<ctl_endpoint> moved_to(std::string_view error);

/// Whether a READ error means the served snapshot went away (closed as idle, for newer ones, or by
/// a restart), so a new FETCH and a new save may succeed.
bool is_snapshot_gone(std::string_view error);

/// The success line: "saved <path>: index I, term T, K keys, B bytes (from host:port)\n".
std::string format_saved(const std::string& path, const fetched_snapshot& snapshot,
                         std::uint64_t keys, const std::string& from);

} // namespace prez
