#pragma once
// Small POSIX file helpers shared by the log store, the snapshot files and the audit log:
// little-endian integers, errors with errno's text, a write and a read that survive short
// transfers, a directory fsync. Pure C++, no CAF.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace prez::storage {

/// Appends `value` in `bytes` (1..8) little-endian bytes to `out`.
void put_le(std::string& out, std::uint64_t value, int bytes);
/// Reads a little-endian integer of `bytes` (1..8) bytes. Precondition: `data` holds them.
std::uint64_t get_le(const char* data, int bytes);
/// "<what> <path>: <strerror(errno)>".
std::string errno_text(const std::string& what, const std::string& path);
/// Writes all of [data, data + size) at `offset`, retrying short writes and EINTR. False on an
/// error (errno set; a write of 0 bytes counts as EIO).
bool write_all(int fd, const char* data, std::size_t size, std::uint64_t offset);
/// Replaces the file at `path` by `content` atomically: written to a new `path`.tmp.XXXXXX,
/// fsynced, renamed over `path`, then the directory fsynced. Returns the error, if any (`path` is
/// then unchanged).
std::optional<std::string> replace_file(const std::string& path, std::string_view content);
/// Reads exactly `size` bytes at `offset` into `out`. False on an error (errno set) or when the
/// file ends first (errno 0).
bool read_exact(int fd, char* out, std::size_t size, std::uint64_t offset);
/// fsyncs directory `dir`, making the creations, renames and removals in it durable; then calls
/// `observer(dir)` if set (tests count syncs). Returns the reason on failure.
std::optional<std::string>
sync_directory(const std::string& dir,
               const std::function<void(const std::string&)>& observer = {});

} // namespace prez::storage
