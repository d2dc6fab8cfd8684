#include "actors/storage/snapshot_load.hpp"

#include "actors/state_machine/state_restore.hpp"
#include "actors/storage/snapshot_file.hpp"

namespace prez {

std::variant<std::shared_ptr<restored_state>, std::string>
load_snapshot_state(const std::string& path, storage::snapshot_info* info, bool any_name) {
  state_restorer restorer;
  storage::snapshot_info found;
  auto error = storage::read_snapshot_body(
      path, [&](std::string_view piece) { return restorer.feed(piece); }, 1 << 20, &found,
      any_name);
  if (error) return path + ": " + *error;
  auto finished = restorer.finish();
  if (auto* reason = std::get_if<std::string>(&finished)) return path + ": " + *reason;
  auto state = std::make_shared<restored_state>(std::get<restored_state>(std::move(finished)));
  // The configuration lives in the metadata, not the body: without it a node started from this
  // snapshot would fall back to nodes.conf (thesis §4.1: the snapshot's configuration comes
  // before any bootstrap one).
  state->config = found.meta.config;
  if (info != nullptr) *info = std::move(found);
  return state;
}

} // namespace prez
