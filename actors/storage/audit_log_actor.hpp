#pragma once
// The audit log actor: the only writer of one node's audit log file (docs/architecture.md §5,
// "The audit log"). Detached, so file I/O and fsync block its own thread only: the state machine
// sends it lines and never waits.

#include "caf/fwd.hpp"

#include "actors/storage/audit_log_file.hpp"

namespace prez {

/// Spawns the audit log actor. Messages:
///   (audit_atom, std::vector<audit::audit_line>)  lines of one applied batch, in index order:
///       written with one write and one fsync (lines the file already lists are skipped); the
///       sender then gets (audited_atom, bytes), bytes being the sum of the lines' text sizes.
/// Failures (cannot open, write or fsync; disk full) are logged as errors and never end the
/// actor: the audit log is not part of Raft safety. The next batch reopens the file, and the file
/// says which entries' lines were lost. `detached` is false only in actor tests.
caf::actor spawn_audit_log_actor(caf::actor_system& system, storage::audit_log_options options,
                                 bool detached = true);

} // namespace prez
