#pragma once
// The state machine actor: applies committed entries in log order to a kv_state and serves reads
// once it has applied far enough (ReadIndex, thesis §6.4). It also takes the node's snapshots
// (docs/architecture.md §5): a consistent view serialised a step at a time between applied
// batches (kv_state::begin_snapshot), written through the snapshot actor.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

#include "messages/membership.hpp"

namespace prez {

struct restored_state;
class shared_runtime_config;

/// What the state machine actor starts from and when it takes snapshots.
struct state_machine_settings {
  /// The cluster configuration as of the initial state (the snapshot's, else nodes.conf's);
  /// configuration entries applied later replace it. Written into each snapshot.
  membership config;
  /// Snapshot triggers: entries / entry-data bytes applied since the last one (0: off).
  std::uint64_t snapshot_entries = 0;
  std::uint64_t snapshot_bytes = 0;
  /// When set, the two triggers above are read from it instead, so CONFIG SET snapshot-entries /
  /// snapshot-bytes take effect at the next applied batch (docs/decisions.md D27). The batch's
  /// keyspace notification flags (notify-keyspace-events, D32) are read from it too.
  std::shared_ptr<shared_runtime_config> runtime;
  /// The snapshot actor (actors/storage/snapshot_actor.hpp).
  caf::actor snapshots;
  /// The state loaded from the newest snapshot at start (null: empty state), and the log index
  /// and term it covers; its file size for INFO.
  std::shared_ptr<restored_state> initial;
  std::uint64_t initial_index = 0;
  std::uint64_t initial_term = 0;
  std::uint64_t initial_bytes = 0;
  /// The audit log actor (actors/storage/audit_log_actor.hpp), sent the lines of every command
  /// applied; null: no audit log.
  caf::actor audit;
  /// The node's pub/sub hub (actors/gateway/pubsub_hub_actor.hpp), sent the messages each
  /// applied batch published, in commit order; null: they are dropped (tests).
  caf::actor pubsub;
};

/// Spawns the state machine actor. Messages:
///   (start_atom, node)                     the node actor, told of every durable snapshot
///   (apply_atom, std::vector<log_entry>)   committed entries, in order, each exactly once;
///                                           results go to `session` as (applied_atom, ...)
///   (restore_atom, snapshot_ref, std::shared_ptr<restored_state>)  continue from a snapshot
///                                           installed from the leader
///   (read_atom, index, argvs) -> std::vector<std::string>  answered once last_applied >= index
///   (snapshot_atom) -> std::string          RAFT.SNAPSHOT: take one now; "+OK" once durable
///   (snap_fetch_atom, min_index) -> snapshot_ref  RAFT.SNAPSHOT FETCH (backups, D25): once
///                                           last_applied >= min_index, a durable snapshot at an
///                                           index >= min_index (the newest, or one taken now),
///                                           served by the snapshot actor; ref.bytes = its size
///   (status_atom) -> apply_status
/// It tells the node (members_atom, membership) after applying a configuration entry.
///   (audited_atom, bytes)                   the audit log actor dealt with that many bytes
caf::actor spawn_state_machine(caf::actor_system& system, caf::actor session,
                               state_machine_settings settings);

} // namespace prez
