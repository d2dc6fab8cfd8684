#pragma once
// Runs one Lua script as Redis 7's EVAL does, on Debian's Lua 5.1 (what Redis embeds), in a way
// every replica repeats exactly (docs/scripting.md): a fresh Lua state per run (nothing a script
// leaves behind reaches the next one, and a node restored from a snapshot runs the next script
// as one that replayed the whole log), math.random seeded by the caller from the state, no
// os, io, package or debug library, no wall clock, and limits counted in Lua instructions and
// bytes, not in time, so a script that passes them is stopped at the same instruction on every
// replica. Pure: the commands a script calls go through `script_host`.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace prez::kv {

/// What a script can reach outside Lua: the key space, through one command at a time.
class script_host {
public:
  virtual ~script_host() = default;
  /// Runs `argv` (redis.call / redis.pcall) and returns its RESP2 reply, or an error reply
  /// ("-ERR ...", "-WRONGTYPE ...") when the command fails or may not run from a script.
  virtual std::string call(const std::vector<std::string>& argv) = 0;
};

/// What a script's first line (#!lua flags=...) declares (Redis 7 shebang).
struct script_flags {
  bool shebang = false;   ///< the script starts with "#!"
  bool no_writes = false; ///< flags=no-writes: the script may not write
};

/// A function a library registers (redis.register_function).
struct function_info {
  std::string name;
  std::string description;
  std::vector<std::string> flags; ///< as given ("no-writes", "allow-oom", ...)
  bool no_writes = false;
};

/// What FUNCTION LOAD learns from a library's code.
struct library_info {
  std::string name;
  std::vector<function_info> functions;
};

/// Reads the shebang of `body`; returns the error reply when it names another engine or an
/// unknown flag, else empty.
std::string parse_script_flags(std::string_view body, script_flags& flags);

/// The SHA1 of `text` as 40 lowercase hex digits (EVALSHA's names, redis.sha1hex).
std::string sha1_hex(std::string_view text);

/// Compiles `body` without running it; returns empty or Redis's error reply ("-ERR Error
/// compiling script (new function): user_script:1: ..."). SCRIPT LOAD refuses what fails here.
std::string compile_script(std::string_view body);

/// Runs `body` (named by `sha` in error texts) with the globals KEYS and ARGV and returns the
/// reply its result converts to, as Redis 7.0 converts it: a string is a bulk string, a
/// number an integer (truncated), true :1, false and nil a null bulk, {ok=...} a status,
/// {err=...} an error, any other table an array of its elements up to the first nil. RESP3 types
/// are written in RESP3 (the gateway downgrades them for a RESP2 client, resp3.hpp to_resp2): a
/// table with a `double`, `big_number`, `verbatim_string`, `map` or `set` field, and booleans
/// (#t, #f) after redis.setresp(3), which also makes redis.call's replies reach Lua as RESP3
/// types ({map=...}, {set=...}, {double=...}, nil for a null, ...). An error
/// raised in the script (or by redis.call) answers "-<code> <message> script: <sha>, on
/// @user_script:<line>.". A script past limits::script_instructions_max instructions or
/// limits::script_memory_bytes_max bytes of Lua memory is stopped with an error. math.random
/// draws from drand48's generator (as Redis's) started at `seed` (its low 48 bits).
std::string run_script(std::string_view body, std::string_view sha,
                       const std::vector<std::string>& keys, const std::vector<std::string>& args,
                       std::uint64_t seed, script_host& host);

/// The library name of `code`'s first line ("#!lua name=<name>"); returns Redis's error reply
/// for missing or bad metadata, else empty.
std::string parse_library_name(std::string_view code, std::string& name);

/// FUNCTION LOAD's work: checks the metadata and runs the library's code once (in a fresh state,
/// under the same limits) to learn the functions it registers. Returns the error reply ("-ERR
/// Error compiling function: ...", "-ERR No functions registered", ...), empty on success.
std::string load_library(std::string_view code, library_info& out);

/// FCALL: runs library `code` in a fresh state (its functions register themselves), then calls
/// `function` with the KEYS and ARGV tables as its arguments, converting its result as
/// run_script() does; errors name the function ("script: <function>, on @user_function:<line>.").
std::string call_function(std::string_view code, std::string_view function,
                          const std::vector<std::string>& keys,
                          const std::vector<std::string>& args, std::uint64_t seed,
                          script_host& host);

} // namespace prez::kv
