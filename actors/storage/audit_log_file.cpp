#include "actors/storage/audit_log_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/storage/file_io.hpp"
#include "config/assert.hpp"

namespace prez::storage {

namespace {

std::optional<std::uint64_t> file_size(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(st.st_size);
}

/// The highest index the rotated file `path` lists; nullopt if it lists none or cannot be read
/// (then nothing is skipped: a line listed twice is better than one missing).
std::optional<std::uint64_t> last_index_of(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<std::uint64_t> last;
  tail_result tail;
  if (auto size = file_size(fd); size && *size > 0 && !read_tail(fd, *size, path, tail))
    last = tail.scan.last_index;
  ::close(fd);
  return last;
}

} // namespace

std::optional<std::string> read_tail(int fd, std::uint64_t size, const std::string& path,
                                     tail_result& out) {
  std::uint64_t window = std::min<std::uint64_t>(size, limits::audit_log_tail_bytes);
  std::string bytes;
  while (true) {
    const std::uint64_t start = size - window;
    bytes.assign(window, '\0');
    if (!read_exact(fd, bytes.data(), bytes.size(), start))
      return errno == 0 ? path + ": file shrank while being read" : errno_text("cannot read", path);
    out.scan = audit::scan_tail(bytes, start == 0);
    out.window_start = start;
    if (out.scan.decided || start == 0 || window >= limits::audit_log_tail_bytes_max)
      return std::nullopt;
    window = std::min<std::uint64_t>({size, window * 4, limits::audit_log_tail_bytes_max});
  }
}

audit_log_file::audit_log_file(audit_log_options options) : options_(std::move(options)) {
  PREZ_ASSERT(!options_.path.empty());
  PREZ_ASSERT(options_.keep >= 1);
  dir_ = std::filesystem::path(options_.path).parent_path().string();
  if (dir_.empty()) dir_ = ".";
}

audit_log_file::~audit_log_file() {
  close();
}

std::vector<std::string> audit_log_file::take_notices() {
  return std::exchange(notices_, {});
}

void audit_log_file::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::string audit_log_file::lose(const std::vector<audit::audit_line>& batch, std::string reason) {
  for (const auto& line : batch) {
    if (line.index <= last_index_) continue;
    if (lost_first_ > lost_last_) lost_first_ = line.index;
    lost_first_ = std::min(lost_first_, line.index);
    lost_last_ = std::max(lost_last_, line.index);
  }
  return reason;
}

std::optional<std::string> audit_log_file::open() {
  PREZ_ASSERT(fd_ < 0);
  fd_ = ::open(options_.path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) return errno_text("cannot open", options_.path);
  auto fail = [&](std::string reason) {
    close();
    return std::optional<std::string>(std::move(reason));
  };
  const auto size = file_size(fd_);
  if (!size) return fail(errno_text("cannot stat", options_.path));
  tail_result tail;
  if (*size > 0)
    if (auto error = read_tail(fd_, *size, options_.path, tail)) return fail(*error);
  if (!tail.scan.decided)
    notices_.push_back(options_.path + ": no whole line in its last " +
                       std::to_string(*size - tail.window_start) +
                       " bytes; continuing after the last index seen");
  const std::uint64_t keep = *size == 0 ? 0 : tail.window_start + tail.scan.keep_bytes;
  if (keep < *size) {
    // A crash mid-write left a torn line (or a transaction without its EXEC line): cut it, so
    // what follows starts on a line of its own; the state machine applies that entry again.
    if (::ftruncate(fd_, static_cast<off_t>(keep)) != 0)
      return fail(errno_text("cannot truncate", options_.path));
    if (::fdatasync(fd_) != 0) return fail(errno_text("cannot fsync", options_.path));
    notices_.push_back(options_.path + ": cut " + std::to_string(*size - keep) +
                       " bytes of a torn last entry");
  }
  if (*size == 0) // a new file: its directory entry must be durable too
    if (auto error = sync_directory(dir_)) return fail(*error);
  auto last = tail.scan.last_index;
  // A file that lists nothing yet (just rotated): the newest rotated one tells where it stopped.
  if (!last) last = last_index_of(audit::rotated_path(options_.path, 1));
  last_index_ = last.value_or(0);
  file_bytes_ = keep;
  return std::nullopt;
}

std::optional<std::string> audit_log_file::rotate() {
  PREZ_ASSERT(fd_ >= 0);
  for (unsigned n = options_.keep; n >= 2; --n) {
    const auto from = audit::rotated_path(options_.path, n - 1);
    const auto to = audit::rotated_path(options_.path, n);
    if (std::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT)
      return errno_text("cannot rename " + from + " to", to);
  }
  const auto first = audit::rotated_path(options_.path, 1);
  if (std::rename(options_.path.c_str(), first.c_str()) != 0)
    return errno_text("cannot rename " + options_.path + " to", first);
  close();
  notices_.push_back("rotated " + options_.path + " to " + first);
  if (auto error = sync_directory(dir_)) return error;
  return open();
}

std::optional<std::string> audit_log_file::append(const std::vector<audit::audit_line>& batch) {
  if (fd_ < 0)
    if (auto error = open()) return lose(batch, *error);
  std::string bytes;
  std::uint64_t last = last_index_;
  if (lost_first_ <= lost_last_ && std::max(lost_first_, last + 1) <= lost_last_) {
    auto comment = audit::lost_comment(std::max(lost_first_, last + 1), lost_last_,
                                       "they could not be written (see the server log)");
    bytes += comment.text;
    last = comment.index;
  }
  for (const auto& line : batch) {
    if (line.index <= last) continue; // listed before a restart, which applied it again
    bytes += line.text;
    last = line.index;
  }
  if (bytes.empty()) return std::nullopt;
  if (audit::should_rotate(file_bytes_, bytes.size(), options_.max_bytes)) {
    if (auto error = rotate()) {
      if (fd_ < 0) return lose(batch, *error);
      notices_.push_back("error: " + *error + " (writing on in the current file)");
    }
  }
  if (!write_all(fd_, bytes.data(), bytes.size(), file_bytes_)) {
    auto error = errno_text("cannot write", options_.path);
    close(); // reopening cuts whatever part of the batch was written as a torn line
    return lose(batch, error);
  }
  if (::fdatasync(fd_) != 0) {
    auto error = errno_text("cannot fsync", options_.path);
    close();
    return lose(batch, error);
  }
  file_bytes_ += bytes.size();
  last_index_ = last;
  lost_first_ = 1;
  lost_last_ = 0;
  return std::nullopt;
}

} // namespace prez::storage
