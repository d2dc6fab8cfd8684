#pragma once
// How a node's Raft state is rebuilt at start from what is on disk: the newest valid snapshot and
// the recovered log (docs/architecture.md §5). Pure: prez-server and the simulator both call it.

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "actors/raft/raft_types.hpp"

namespace prez::raft {

/// The log a node starts with.
struct recovery_plan {
  /// Entries after the snapshot (or all, without one), continuing it.
  raft_log log;
  /// The log on disk must be dropped (log_store::reset(snapshot.index + 1)) before anything is
  /// appended: it does not hold the snapshot's last entry, so it is an older history the
  /// snapshot replaces (Raft §7, Figure 13 step 7; a node that crashed after storing a snapshot
  /// from the leader and before dropping its own log).
  bool reset_log = false;
};

/// Combines the newest valid snapshot (none: index 0) with the recovered log: `entries`
/// (consecutive indexes) starting at `first_index`, the index the log store holds or expects
/// first (an empty store may expect more than 1 after a reset). The log is kept after the snapshot
/// when it holds the snapshot's last entry with the snapshot's term or starts right after it;
/// dropped when it ends before the snapshot or disagrees at its end. Error (the node must not
/// start): the log starts after snapshot.index + 1, so entries between are in neither (a snapshot
/// was lost or damaged after the log was compacted past it); or there is no snapshot and the log
/// does not start at 1.
std::variant<recovery_plan, std::string> plan_recovery(const snapshot_ref& snapshot,
                                                       std::uint64_t first_index,
                                                       std::vector<log_entry> entries);

} // namespace prez::raft
