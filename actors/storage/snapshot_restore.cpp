// Restoring a backup into a new data directory (snapshot_restore.hpp, docs/decisions.md D25).

#include "actors/storage/snapshot_restore.hpp"

#include <filesystem>
#include <memory>
#include <system_error>
#include <utility>

#include <cstdio>

#include "actors/state_machine/state_restore.hpp"
#include "actors/storage/file_io.hpp"
#include "actors/storage/log_store.hpp"
#include "actors/storage/snapshot_load.hpp"

namespace prez::storage {

namespace {

namespace fs = std::filesystem;

/// Removes the half-built directory when a restore fails before the rename.
struct remove_on_failure {
  std::string path;
  bool keep = false;
  ~remove_on_failure() {
    if (keep || path.empty()) return;
    std::error_code ignored; // nothing more to do: the error being reported is the first one
    fs::remove_all(path, ignored);
  }
};

/// Writes the snapshot (the backup's body under `meta`) and the log and hard state continuing it
/// into `dir`, which must not exist yet.
std::variant<snapshot_info, std::string>
write_data_dir(const std::string& dir, const std::string& backup_path, const snapshot_meta& meta) {
  auto created = snapshot_writer::create(dir, meta);
  if (auto* error = std::get_if<std::string>(&created)) return *error;
  auto writer = std::get<std::unique_ptr<snapshot_writer>>(std::move(created));
  snapshot_info copied;
  auto error = read_snapshot_body(
      backup_path, [&](std::string_view piece) { return writer->append(piece); }, 1 << 20, &copied,
      true);
  if (error) return *error;
  if (copied.meta.last_index != meta.last_index || copied.meta.last_term != meta.last_term)
    return backup_path + ": changed while it was restored";
  auto finished = writer->finish();
  if (auto* failed = std::get_if<std::string>(&finished)) return *failed;
  recovered_state recovered;
  auto opened = log_store::open(dir, recovered);
  if (auto* failed = std::get_if<std::string>(&opened)) return dir + ": " + *failed;
  auto store = std::get<std::unique_ptr<log_store>>(std::move(opened));
  if (auto failed = store->reset(meta.last_index + 1)) return dir + ": " + *failed;
  if (auto failed = store->save_hard_state({meta.last_term, {}})) return dir + ": " + *failed;
  return std::get<snapshot_info>(std::move(finished));
}

} // namespace

restore_target restore_target_of(const node_config& config) {
  restore_target target{config.dir, config.name, {}};
  for (const auto& member : config.members) {
    if (member.name != config.name || member.cluster_port == 0) continue;
    const bool v6 = member.host.find(':') != std::string::npos;
    target.address =
        (v6 ? "[" + member.host + "]" : member.host) + ":" + std::to_string(member.cluster_port);
  }
  return target;
}

membership single_voter_membership(const restore_target& target) {
  membership config;
  config.members.push_back(member_info{target.name, target.address, true, false});
  return config;
}

std::optional<std::string> check_restore_dir(const std::string& dir) {
  std::error_code ec;
  const auto status = fs::status(dir, ec);
  if (ec == std::errc::no_such_file_or_directory || status.type() == fs::file_type::not_found)
    return std::nullopt;
  if (ec) return "data dir " + dir + ": " + ec.message();
  if (status.type() != fs::file_type::directory)
    return "data dir " + dir + " exists and is not a directory";
  fs::directory_iterator it(dir, ec);
  if (ec) return "data dir " + dir + ": cannot list: " + ec.message();
  if (it != fs::directory_iterator())
    return "data dir " + dir + " is not empty (it holds " + it->path().filename().string() +
           "): a backup is restored only into a new, empty directory";
  return std::nullopt;
}

std::variant<restore_result, std::string> restore_snapshot(const std::string& backup_path,
                                                           const restore_target& target) {
  if (auto refused = check_restore_dir(target.dir)) return *refused;
  // The same validation and decoding a node runs on its own newest snapshot at start.
  snapshot_info backup;
  auto loaded = load_snapshot_state(backup_path, &backup, true);
  if (auto* error = std::get_if<std::string>(&loaded)) return "backup refused: " + *error;
  const auto keys = std::get<std::shared_ptr<restored_state>>(loaded)->kv.size();
  snapshot_meta meta = backup.meta;
  meta.config = single_voter_membership(target);
  if (auto broken = check_membership(meta.config); !broken.empty())
    return "cannot restore as node " + target.name + ": " + broken;
  meta.voters = {target.name};
  meta.learners.clear();

  fs::path final_dir = fs::path(target.dir).lexically_normal();
  if (final_dir.filename().empty()) final_dir = final_dir.parent_path(); // "dir/" -> "dir"
  const fs::path parent = final_dir.has_parent_path() ? final_dir.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) return "cannot create " + parent.string() + ": " + ec.message();
  // A leftover of an interrupted restore is ours to replace: nothing else uses this name.
  const std::string building = final_dir.string() + ".restoring";
  fs::remove_all(building, ec);
  if (ec) return "cannot remove the leftover " + building + ": " + ec.message();
  remove_on_failure cleanup{building};
  auto written = write_data_dir(building, backup_path, meta);
  if (auto* error = std::get_if<std::string>(&written)) return *error;
  // rename(2) replaces an empty directory, and nothing at all exists under the final name until
  // everything in it is durable.
  if (std::rename(building.c_str(), final_dir.c_str()) != 0)
    return errno_text("cannot rename " + building + " to", final_dir.string());
  cleanup.keep = true;
  if (auto error = sync_directory(parent.string())) return *error;
  const auto& info = std::get<snapshot_info>(written);
  return restore_result{info.meta, (final_dir / snapshot_file_name(meta.last_index)).string(),
                        static_cast<std::uint64_t>(keys), info.file_bytes};
}

} // namespace prez::storage
