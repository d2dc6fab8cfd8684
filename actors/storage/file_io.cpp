#include "actors/storage/file_io.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace prez::storage {

void put_le(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xffu));
}

std::uint64_t get_le(const char* data, int bytes) {
  std::uint64_t value = 0;
  for (int i = bytes - 1; i >= 0; --i)
    value = (value << 8) | static_cast<unsigned char>(data[i]);
  return value;
}

std::string errno_text(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

bool write_all(int fd, const char* data, std::size_t size, std::uint64_t offset) {
  while (size > 0) {
    const ssize_t written = ::pwrite(fd, data, size, static_cast<off_t>(offset));
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (written == 0) {
      errno = EIO;
      return false;
    }
    data += written;
    size -= static_cast<std::size_t>(written);
    offset += static_cast<std::uint64_t>(written);
  }
  return true;
}

bool read_exact(int fd, char* out, std::size_t size, std::uint64_t offset) {
  while (size > 0) {
    const ssize_t got = ::pread(fd, out, size, static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (got == 0) {
      errno = 0;
      return false;
    }
    out += got;
    size -= static_cast<std::size_t>(got);
    offset += static_cast<std::uint64_t>(got);
  }
  return true;
}

std::optional<std::string> sync_directory(const std::string& dir,
                                          const std::function<void(const std::string&)>& observer) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_text("cannot open directory", dir);
  std::optional<std::string> error;
  if (::fsync(fd) != 0)
    error = errno_text("cannot fsync directory", dir);
  else if (observer)
    observer(dir);
  ::close(fd);
  return error;
}

std::optional<std::string> replace_file(const std::string& path, std::string_view content) {
  // A temp name of its own (several nodes of one machine may share a nodes.conf).
  std::string temp = path + ".tmp.XXXXXX";
  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) return errno_text("cannot create", temp);
  ::fchmod(fd, 0644);
  const bool written = write_all(fd, content.data(), content.size(), 0);
  const bool synced = written && ::fsync(fd) == 0;
  const std::string error = errno_text(written ? "cannot fsync" : "cannot write", temp);
  ::close(fd);
  if (!synced) {
    ::unlink(temp.c_str());
    return error;
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    auto failure = errno_text("cannot rename to", path);
    ::unlink(temp.c_str());
    return failure;
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir.assign(1, '.');
  return sync_directory(dir);
}

} // namespace prez::storage
