// prez-ctl snapshot save (apps/ctl_snapshot_save.hpp), over prez-ctl's one RESP connection
// (apps/ctl_connection.hpp), each exchange with its own deadline: a backup is one long
// conversation.

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
#include "apps/ctl_connection.hpp"

namespace prez {

namespace {

using clock_type = std::chrono::steady_clock;

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

/// Copies the served snapshot into `file` with READs.
attempt_result download(ctl_connection& c, const fetched_snapshot& snapshot, temp_file& file) {
  std::string reply;
  resp2_reply parsed;
  for (std::uint64_t offset = 0; offset < snapshot.bytes;) {
    auto error =
        c.exchange({"RAFT.SNAPSHOT", "READ", std::to_string(snapshot.index), std::to_string(offset),
                    std::to_string(ctl_backup_limits::chunk_bytes)},
                   reply, parsed, ctl_backup_limits::read_timeout_ms);
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
  ctl_connection c;
  if (auto error = c.open(target); !error.empty()) return fail(error);
  std::string reply;
  resp2_reply parsed;
  if (!args.password.empty()) {
    if (auto error = c.exchange({"AUTH", args.password}, reply, parsed); !error.empty())
      return fail(error);
    if (parsed.type == '-') return fail("AUTH: " + std::string(parsed.payload));
  }
  if (auto error = c.exchange({"RAFT.SNAPSHOT", "FETCH"}, reply, parsed,
                              ctl_backup_limits::fetch_timeout_ms);
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
