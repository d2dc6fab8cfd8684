#pragma once
// `prez-ctl snapshot save <file> [host:port]` (docs/decisions.md D25): the sockets and files
// around the decisions in actors/gateway/ctl_backup.

#include "actors/gateway/ctl_report.hpp"

namespace prez {

/// Fetches a consistent snapshot from args.target (RAFT.SNAPSHOT FETCH, then READ in chunks),
/// writes it to args.save_path atomically (a temporary file beside it, fsynced, checked with the
/// validator and decoder a node runs on its own snapshots at start, renamed, directory fsynced)
/// and prints what it saved. Returns the exit code: 0 saved, 1 failed (the reason on stderr;
/// args.save_path untouched).
int run_snapshot_save(const ctl_args& args);

} // namespace prez
