#pragma once
// prez-server --restore <backup file> [prez.conf]: seeds a new single-node cluster from a backup
// written by `prez-ctl snapshot save`, then exits (docs/decisions.md D25). The decisions are in
// actors/storage/snapshot_restore; this is the command line around them.

namespace prez {

/// Whether argv asks for a restore (`--restore` as the first argument).
bool is_restore_command(int argc, char** argv);

/// Runs `prez-server --restore <file> [prez.conf]` (argv as main got it) and returns the exit
/// code: 0 restored, 1 refused (the reason on stderr, nothing written), 2 usage error.
int run_restore_command(int argc, char** argv);

} // namespace prez
