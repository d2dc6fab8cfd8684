#pragma once
// The snapshot actor: the only reader and writer of one node's snapshot files
// (actors/storage/snapshot_file.hpp, docs/architecture.md §5). Detached, so file I/O and fsync
// block its own thread only, never the state machine, the log or the I/O thread.

#include <string>

#include "caf/fwd.hpp"

#include "messages/raft_messages.hpp"

namespace prez {

/// Spawns the snapshot actor of node `self` with data directory `dir`. Messages:
///   (snap_begin_atom, snapshot_meta)   from the state machine: start writing a snapshot;
///   (snap_piece_atom, std::string)     its next body bytes;
///   (snap_end_atom) -> snapshot_ref    make it durable and visible (errors: the reason);
///   (snap_abort_atom)                  drop the snapshot being written;
///   (snap_send_atom, snapshot_send, link)  leader: read that chunk of our snapshot file and send
///                                          it to the peer link as an InstallSnapshot request;
///   (snap_write_atom, install_snapshot_request)  follower: store a received chunk; after the last
///                                          one, answer the sender (snap_recvd_atom, ref, ok);
///   (snap_export_atom, index) -> uint64    backups (D25): serve snapshot `index` to backup
///                                          clients (held open, snapshot_export.hpp); its size;
///   (snap_read_atom, index, offset, count) -> std::string  bytes of a served snapshot (at most
///                                          limits::snapshot_read_bytes_max; errors: the reason);
/// Keeps the two newest snapshots. A snapshot that cannot be written or received is reported
/// (an error to snap_end, ok=false to the role), never fatal: the log it would replace is intact.
caf::actor spawn_snapshot_actor(caf::actor_system& system, node_name self, std::string dir,
                                bool detached = true);

} // namespace prez
