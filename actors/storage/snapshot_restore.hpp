#pragma once
// Seeding a new single-node cluster from a backup (`prez-server --restore <file> [prez.conf]`,
// docs/decisions.md D25), as etcdutl's `snapshot restore`: the backup is a snapshot file written
// by `prez-ctl snapshot save`. Pure C++ with file I/O; no CAF.
//
// What the data directory holds afterwards, as if the node had taken that snapshot itself:
//   snapshot-<index>.snap   the backup's state bytes unchanged, with the backup's last index and
//                           term, and a configuration of this node alone as a voter
//   hard-state              term = the snapshot's last term, no vote (a node's term is never
//                           below the term of an entry it holds, Raft §5.1)
//   log-<index + 1>.seg     an empty log continuing the snapshot (log_store::reset)
// The directory is built as a sibling "<dir>.restoring" and renamed into place only when
// complete and durable, so a failed restore leaves the target as it was.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "actors/storage/snapshot_file.hpp"
#include "config/node_config.hpp"
#include "messages/membership.hpp"

namespace prez::storage {

/// The node a backup is restored into.
struct restore_target {
  std::string dir;     ///< its data directory: must be missing or empty
  std::string name;    ///< its node name, the only voter of the restored cluster
  std::string address; ///< "host:cluster-port" ("[v6]:port"); empty without a cluster port
};

/// What a restore wrote.
struct restore_result {
  snapshot_meta meta;     ///< the metadata of the snapshot written into the data directory
  std::string path;       ///< that snapshot's path (final, after the rename)
  std::uint64_t keys = 0; ///< keys in the restored state
  std::uint64_t file_bytes = 0;
};

/// The restore target of the node `config` describes: its dir, its name and its cluster address
/// as nodes.conf gives it (the form bootstrap configurations use).
restore_target restore_target_of(const node_config& config);

/// The configuration of a restored cluster: `target` alone, as a voter; nobody removed.
membership single_voter_membership(const restore_target& target);

/// Why `dir` cannot receive a restore (it exists and is not an empty directory, or cannot be
/// listed); nullopt when it is missing or empty.
std::optional<std::string> check_restore_dir(const std::string& dir);

/// Restores the backup `backup_path` (a snapshot file under any name) into `target.dir`.
/// Refuses, writing nothing, when the directory is not empty, the backup fails the validation a
/// node runs on its own snapshots at start (storage::validate_snapshot_copy) or its state does not
/// decode (load_snapshot_state). Errors name the file or directory and the reason.
std::variant<restore_result, std::string> restore_snapshot(const std::string& backup_path,
                                                           const restore_target& target);

} // namespace prez::storage
