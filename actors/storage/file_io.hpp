#pragma once
// Small POSIX file helpers shared by the log store and the snapshot files: little-endian
// integers, errors with errno's text, and a write that survives short writes. Pure C++, no CAF.

#include <cstddef>
#include <cstdint>
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
/// Replaces the file at `path` by `content` atomically: written to `path`.tmp, fsynced, renamed
/// over `path`, then the directory fsynced. Returns the error, if any (`path` is then unchanged).
std::optional<std::string> replace_file(const std::string& path, std::string_view content);

} // namespace prez::storage
