// prez-ctl snapshot save (apps/ctl_snapshot_save.hpp). The RESP connection mirrors prez_ctl.cpp's,
// with a deadline per exchange instead of per connection: a backup is one long conversation.

#include "apps/ctl_snapshot_save.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/gateway/ctl_backup.hpp"
#include "actors/gateway/resp3.hpp"
#include "actors/gateway/resp_writer.hpp"
#include "actors/state_machine/state_restore.hpp"
#include "actors/storage/file_io.hpp"
#include "actors/storage/snapshot_file.hpp"
#include "actors/storage/snapshot_load.hpp"

namespace prez {

namespace {

using clock_type = std::chrono::steady_clock;

/// One RESP connection; every exchange has its own deadline. Errors are texts for stderr.
class resp_connection {
public:
  resp_connection() = default;
  resp_connection(const resp_connection&) = delete;
  resp_connection& operator=(const resp_connection&) = delete;
  ~resp_connection() {
    if (fd_ >= 0) ::close(fd_);
  }

  std::string open(const ctl_endpoint& endpoint) {
    deadline_ = clock_type::now() + std::chrono::milliseconds(ctl_limits::timeout_ms);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    auto port = std::to_string(endpoint.port);
    if (int rc = ::getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &found); rc != 0)
      return std::string("cannot resolve ") + endpoint.host + ": " + ::gai_strerror(rc);
    std::string error = "no address for " + endpoint.host;
    for (auto* a = found; a != nullptr; a = a->ai_next) {
      error = try_connect(a);
      if (error.empty()) break;
    }
    ::freeaddrinfo(found);
    return error;
  }

  /// Sends `argv` and reads one whole reply within `timeout_ms`; `parsed` views into `reply`.
  std::string exchange(const std::vector<std::string>& argv, int timeout_ms, std::string& reply,
                       resp2_reply& parsed) {
    deadline_ = clock_type::now() + std::chrono::milliseconds(timeout_ms);
    std::string request;
    append_command(request, argv);
    for (std::size_t sent = 0; sent < request.size();) {
      if (auto error = wait_for(POLLOUT); !error.empty()) return error;
      auto n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno != EINTR && errno != EAGAIN) return std::strerror(errno);
      if (n > 0) sent += static_cast<std::size_t>(n);
    }
    reply.clear();
    std::vector<char> chunk(64 * 1024);
    for (;;) {
      auto scan = scan_resp_reply(reply);
      if (scan.status == resp_scan_status::malformed) return "malformed reply (not RESP)";
      if (scan.status == resp_scan_status::complete) {
        reply.resize(scan.length);
        auto tree = parse_resp2_reply(reply);
        if (!tree) return "malformed reply (not RESP)";
        parsed = std::move(*tree);
        return {};
      }
      if (reply.size() > ctl_limits::reply_bytes_max) return "reply too long";
      if (auto error = wait_for(POLLIN); !error.empty()) return error;
      auto n = ::recv(fd_, chunk.data(), chunk.size(), 0);
      if (n == 0) return "connection closed";
      if (n < 0 && errno != EINTR && errno != EAGAIN) return std::strerror(errno);
      if (n > 0) reply.append(chunk.data(), static_cast<std::size_t>(n));
    }
  }

private:
  std::string try_connect(const addrinfo* a) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd_ < 0) return std::strerror(errno);
    if (::connect(fd_, a->ai_addr, a->ai_addrlen) == 0) return {};
    if (errno != EINPROGRESS) return std::strerror(errno);
    if (auto error = wait_for(POLLOUT); !error.empty()) return error;
    int so_error = 0;
    socklen_t length = sizeof so_error;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &so_error, &length);
    return so_error == 0 ? std::string{} : std::strerror(so_error);
  }

  std::string wait_for(short events) {
    for (;;) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - clock_type::now());
      pollfd p{fd_, events, 0};
      int rc = ::poll(&p, 1, left.count() > 0 ? static_cast<int>(left.count()) : 0);
      if (rc > 0) return {};
      if (rc == 0) return "timeout";
      if (errno != EINTR) return std::strerror(errno);
    }
  }

  int fd_ = -1;
  clock_type::time_point deadline_{};
};

/// The temporary file beside the backup, removed unless it was renamed into place.
struct temp_file {
  std::string path;
  int fd = -1;
  bool renamed = false;
  ~temp_file() {
    if (fd >= 0) ::close(fd);
    if (!renamed && !path.empty()) ::unlink(path.c_str());
  }
};

/// One attempt's outcome: done, failed for good, worth starting over, or to be made at the
/// leader a follower named.
struct attempt_result {
  int exit_code = 1;
  bool retry = false;
  std::string error;
  std::optional<ctl_endpoint> redirect;
};

attempt_result fail(std::string error, bool retry = false) {
  return {1, retry, std::move(error), std::nullopt};
}

std::string address_of(const ctl_endpoint& endpoint) {
  bool v6 = endpoint.host.find(':') != std::string::npos;
  return (v6 ? "[" + endpoint.host + "]" : endpoint.host) + ":" + std::to_string(endpoint.port);
}

/// Copies the served snapshot into `file` with READs.
attempt_result download(resp_connection& c, const fetched_snapshot& snapshot, temp_file& file) {
  std::string reply;
  resp2_reply parsed;
  for (std::uint64_t offset = 0; offset < snapshot.bytes;) {
    auto error =
        c.exchange({"RAFT.SNAPSHOT", "READ", std::to_string(snapshot.index), std::to_string(offset),
                    std::to_string(ctl_backup_limits::chunk_bytes)},
                   ctl_backup_limits::read_timeout_ms, reply, parsed);
    if (!error.empty()) return fail("RAFT.SNAPSHOT READ: " + error, true);
    if (parsed.type == '-') {
      const std::string text(parsed.payload);
      return fail(text, is_snapshot_gone(text));
    }
    if (parsed.type != '$' || parsed.null) return fail("RAFT.SNAPSHOT READ answered no bytes");
    if (parsed.payload.empty())
      return fail("the snapshot ended at " + std::to_string(offset) + " of " +
                  std::to_string(snapshot.bytes) + " bytes");
    if (!storage::write_all(file.fd, parsed.payload.data(), parsed.payload.size(), offset))
      return fail(storage::errno_text("cannot write", file.path));
    offset += parsed.payload.size();
  }
  return {0, false, {}, std::nullopt};
}

/// One whole save from `target`: FETCH, READs, check, rename.
attempt_result save_once(const ctl_args& args, const ctl_endpoint& target) {
  resp_connection c;
  if (auto error = c.open(target); !error.empty()) return fail(error);
  std::string reply;
  resp2_reply parsed;
  if (!args.password.empty()) {
    if (auto error = c.exchange({"AUTH", args.password}, ctl_limits::timeout_ms, reply, parsed);
        !error.empty())
      return fail(error);
    if (parsed.type == '-') return fail("AUTH: " + std::string(parsed.payload));
  }
  if (auto error = c.exchange({"RAFT.SNAPSHOT", "FETCH"}, ctl_backup_limits::fetch_timeout_ms,
                              reply, parsed);
      !error.empty())
    return fail("RAFT.SNAPSHOT FETCH: " + error);
  if (parsed.type == '-') {
    const std::string text(parsed.payload);
    auto result = fail(text, is_retryable_fetch_error(text));
    result.redirect = moved_to(text);
    return result;
  }
  auto snapshot = parse_fetch_reply(parsed);
  if (!snapshot) return fail("RAFT.SNAPSHOT FETCH: not an [index, term, bytes] reply");

  temp_file file;
  file.path = args.save_path + ".tmp.XXXXXX";
  file.fd = ::mkstemp(file.path.data());
  if (file.fd < 0) {
    auto error = storage::errno_text("cannot create", file.path);
    file.path.clear();
    return fail(error);
  }
  if (auto result = download(c, *snapshot, file); result.exit_code != 0) return result;
  if (::fsync(file.fd) != 0) return fail(storage::errno_text("cannot fsync", file.path));
  ::close(std::exchange(file.fd, -1));
  // The checks a node runs on its own newest snapshot at start: the whole file (magics, lengths,
  // checksum, metadata), then the state decoded.
  storage::snapshot_info info;
  auto loaded = load_snapshot_state(file.path, &info, true);
  if (auto* error = std::get_if<std::string>(&loaded))
    return fail("the snapshot received is not valid: " + *error);
  if (info.meta.last_index != snapshot->index || info.meta.last_term != snapshot->term ||
      info.file_bytes != snapshot->bytes)
    return fail("the snapshot received is not the one announced (index " +
                std::to_string(info.meta.last_index) + ", term " +
                std::to_string(info.meta.last_term) + ", " + std::to_string(info.file_bytes) +
                " bytes)");
  if (::rename(file.path.c_str(), args.save_path.c_str()) != 0)
    return fail(storage::errno_text("cannot rename " + file.path + " to", args.save_path));
  file.renamed = true;
  auto dir = std::filesystem::path(args.save_path).parent_path().string();
  if (auto error = storage::sync_directory(dir.empty() ? "." : dir)) return fail(*error);
  const auto keys = std::get<std::shared_ptr<restored_state>>(loaded)->kv.size();
  auto text = format_saved(args.save_path, *snapshot, keys, address_of(target));
  std::fwrite(text.data(), 1, text.size(), stdout);
  return {0, false, {}, std::nullopt};
}

} // namespace

int run_snapshot_save(const ctl_args& args) {
  attempt_result result;
  auto target = args.target;
  for (int attempt = 1; attempt <= ctl_backup_limits::attempts_max; ++attempt) {
    result = save_once(args, target);
    if (result.exit_code != 0 && result.redirect) {
      // follower-mode redirect: the same backup, from the leader.
      target = *result.redirect;
      continue;
    }
    if (result.exit_code == 0 || !result.retry) break;
    if (attempt == ctl_backup_limits::attempts_max) break;
    std::fprintf(stderr, "prez-ctl: snapshot save: %s; starting over\n", result.error.c_str());
    std::this_thread::sleep_for(std::chrono::milliseconds(ctl_backup_limits::retry_pause_ms));
  }
  if (result.exit_code != 0)
    std::fprintf(stderr, "prez-ctl: snapshot save from %s: %s\n", address_of(target).c_str(),
                 result.error.c_str());
  return result.exit_code;
}

} // namespace prez
