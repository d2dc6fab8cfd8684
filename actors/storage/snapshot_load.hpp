#pragma once
// Reads a snapshot file and decodes the replicated state it holds (the key space and the client
// session table). Used at start (the newest valid snapshot), by the snapshot actor after a
// snapshot arrived from the leader, and for backups (prez-ctl snapshot save, prez-server
// --restore). Pure C++ with file I/O; no CAF.

#include <memory>
#include <string>
#include <variant>

namespace prez {

struct restored_state;

namespace storage {
struct snapshot_info;
}

/// Validates the snapshot file at `path` (snapshot_file.hpp) and decodes its body; the state's
/// `config` is the configuration the file's metadata holds (empty in files older than membership
/// changes). `info`, when given, receives the file's metadata and sizes. With `any_name` the file
/// may have any name (a backup copy, storage::validate_snapshot_copy). Errors: "<path>: <reason>"
/// for a damaged file or a body that does not decode.
std::variant<std::shared_ptr<restored_state>, std::string>
load_snapshot_state(const std::string& path, storage::snapshot_info* info = nullptr,
                    bool any_name = false);

} // namespace prez
