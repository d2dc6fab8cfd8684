#pragma once
// Reads a snapshot file and decodes the replicated state it holds (the key space and the client
// session table). Used at start (the newest valid snapshot) and by the snapshot actor after a
// snapshot arrived from the leader. Pure C++ with file I/O; no CAF.

#include <memory>
#include <string>
#include <variant>

namespace prez {

struct restored_state;

/// Validates the snapshot file at `path` (snapshot_file.hpp) and decodes its body. Errors:
/// "<path>: <reason>" for a damaged file or a body that does not decode.
std::variant<std::shared_ptr<restored_state>, std::string>
load_snapshot_state(const std::string& path);

} // namespace prez
