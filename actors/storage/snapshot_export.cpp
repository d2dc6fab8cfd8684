// Snapshot files served to backup clients (snapshot_export.hpp).

#include "actors/storage/snapshot_export.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/storage/file_io.hpp"
#include "actors/storage/snapshot_file.hpp"
#include "config/assert.hpp"

namespace prez::storage {

snapshot_exports::snapshot_exports(std::size_t open_max, std::uint64_t idle_ms,
                                   std::size_t read_bytes_max)
    : open_max_(std::max<std::size_t>(open_max, 1)), idle_ms_(idle_ms),
      read_bytes_max_(std::max<std::size_t>(read_bytes_max, 1)) {}

snapshot_exports::~snapshot_exports() {
  for (auto& [index, file] : open_)
    ::close(file.fd);
}

void snapshot_exports::close(std::map<std::uint64_t, served>::iterator it) {
  ::close(it->second.fd); // read-only: nothing to lose
  open_.erase(it);
}

std::variant<std::uint64_t, std::string>
snapshot_exports::open(const std::string& dir, std::uint64_t index, std::uint64_t now_ms) {
  expire(now_ms);
  if (auto it = open_.find(index); it != open_.end()) {
    it->second.used_ms = now_ms;
    return it->second.file_bytes;
  }
  const std::string path = dir + "/" + snapshot_file_name(index);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_text("cannot open", path);
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    auto error = errno_text("cannot stat", path);
    ::close(fd);
    return error;
  }
  if (open_.size() >= open_max_) {
    auto oldest = std::min_element(open_.begin(), open_.end(), [](const auto& a, const auto& b) {
      return a.second.used_ms < b.second.used_ms;
    });
    close(oldest);
  }
  const auto file_bytes = static_cast<std::uint64_t>(info.st_size);
  open_.emplace(index, served{fd, file_bytes, now_ms});
  PREZ_ASSERT(open_.size() <= open_max_);
  return file_bytes;
}

export_read snapshot_exports::read(std::uint64_t index, std::uint64_t offset, std::uint64_t count,
                                   std::uint64_t now_ms) {
  expire(now_ms);
  export_read out;
  auto it = open_.find(index);
  if (it == open_.end()) {
    out.error = "snapshot " + std::to_string(index) +
                " is not being served (fetch it again with RAFT.SNAPSHOT FETCH: it was never "
                "fetched here, or idle for " +
                std::to_string(idle_ms_ / 1000) + " s, or closed for newer ones)";
    return out;
  }
  auto& file = it->second;
  if (count == 0) {
    out.error = "count must be at least 1";
    return out;
  }
  if (offset > file.file_bytes) {
    out.error = "offset " + std::to_string(offset) + " is past the end of snapshot " +
                std::to_string(index) + " (" + std::to_string(file.file_bytes) + " bytes)";
    return out;
  }
  file.used_ms = now_ms;
  const auto size = static_cast<std::size_t>(
      std::min<std::uint64_t>({count, read_bytes_max_, file.file_bytes - offset}));
  out.bytes.resize(size);
  if (!read_exact(file.fd, out.bytes.data(), size, offset)) {
    out.bytes.clear();
    out.error = "snapshot " + std::to_string(index) + ": cannot read: " +
                (errno == 0 ? std::string("the file ended early") : std::strerror(errno));
  }
  return out;
}

void snapshot_exports::expire(std::uint64_t now_ms) {
  for (auto it = open_.begin(); it != open_.end();) {
    auto next = std::next(it);
    if (now_ms >= it->second.used_ms + idle_ms_) close(it);
    it = next;
  }
}

} // namespace prez::storage
