#include "actors/storage/snapshot_load.hpp"

#include "actors/state_machine/state_restore.hpp"
#include "actors/storage/snapshot_file.hpp"

namespace prez {

std::variant<std::shared_ptr<restored_state>, std::string>
load_snapshot_state(const std::string& path) {
  state_restorer restorer;
  auto error = storage::read_snapshot_body(
      path, [&](std::string_view piece) { return restorer.feed(piece); });
  if (error) return path + ": " + *error;
  auto finished = restorer.finish();
  if (auto* reason = std::get_if<std::string>(&finished)) return path + ": " + *reason;
  return std::make_shared<restored_state>(std::get<restored_state>(std::move(finished)));
}

} // namespace prez
