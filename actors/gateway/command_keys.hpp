#pragma once
// Which arguments of a command line are keys: COMMAND GETKEYS and COMMAND GETKEYSANDFLAGS
// (server_commands.cpp). Pure.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace prez {

/// One key argument: its position in the command line (0 is the command's name) and how the
/// command uses it, in Redis 7.0's key-flag words (RO, RW, OW, RM, access, update, insert, delete).
struct key_reference {
  std::size_t position = 0;
  std::vector<std::string_view> flags;
};

/// The keys of a command line, or why there are none.
struct command_keys {
  std::vector<key_reference> keys;
  /// Empty when `keys` holds the answer (possibly no key, for EVAL and kin with 0 keys); else
  /// Redis 7.0's error text without "ERR ": "Invalid command specified", "The command has no key
  /// arguments", "Invalid number of arguments specified for command", "Invalid arguments
  /// specified for command".
  std::string error;
};

/// The exact key positions of `argv` (argv[0] is the command's name), as Redis 7.0's COMMAND
/// GETKEYS finds them: fixed positions, ranges with a step, keys counted by a numkeys argument
/// (ZUNIONSTORE, ZINTER, ZDIFF, LMPOP, BLMPOP, ZMPOP, BZMPOP, SINTERCARD, ZINTERCARD and EVAL,
/// EVALSHA, EVAL_RO, EVALSHA_RO, which are recognised by name even before prez runs them), and
/// SORT's STORE destination (the last STORE given wins, LIMIT/GET/BY arguments are skipped).
/// The flags are Redis 7.0.15's key-spec flags where listed in flags_of (compared with
/// redis-server for about 115 command lines); a command not listed gets its read/write kind's
/// (RO access, RW access update), which may be coarser than Redis's.
command_keys find_command_keys(const std::vector<std::string>& argv);

/// Commands whose arguments hold no key (COMMAND INFO reports first key 0). Lowercase name.
bool keyless_command(std::string_view name);

} // namespace prez
