// EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (docs/scripting.md). EVAL and EVALSHA are writes:
// they go through the log and every replica runs the script at the same position, against the
// same state, with the entry's time; their redis.call runs commands through the command table.
// The _RO forms are reads (ReadIndex, never in the log) and may call only reads. The script
// cache (keyspace::scripts()) is replicated state: EVAL and SCRIPT LOAD add to it on every
// replica, so EVALSHA works on any node.

#include <algorithm>
#include <initializer_list>

#include "actors/state_machine/kv_commands.hpp"
#include "actors/state_machine/lua_script.hpp"
#include "config/limits.hpp"

namespace prez::kv {

const std::string* keyspace::script(std::string_view sha) const {
  const auto it = scripts_.find(sha);
  return it == scripts_.end() ? nullptr : &it->second;
}

bool keyspace::keep_script(const std::string& sha, std::string_view body) {
  if (scripts_.contains(sha)) return true;
  if (scripts_.size() >= limits::scripts_cached_max ||
      scripts_bytes_ + body.size() > limits::scripts_cached_bytes_max)
    return false;
  scripts_.emplace(sha, std::string(body));
  scripts_bytes_ += body.size();
  return true;
}

namespace {

/// Commands a script may not call: those of the connection (CLIENT, CONFIG, MULTI, ...), the
/// scripting commands themselves, and Raft's.
bool refused_in_scripts(const command_spec& command) {
  const std::string_view name = command.name;
  if (command.kind == command_kind::local) return command.local == nullptr;
  if (command.write == &blocking_command) return true; // Redis 7.0 refuses them too
  return name.starts_with("eval") || name.starts_with("fcall") || name == "script" ||
         name == "function" || name.starts_with("raft.");
}

/// What redis.call reaches: the key space, writable for EVAL/EVALSHA, read-only for the _RO
/// forms and for scripts flagged no-writes.
class key_space_host final : public script_host {
public:
  key_space_host(keyspace* writable, const keyspace& keys, std::uint64_t time_ms, bool no_writes)
      : writable_(writable), keys_(keys), time_ms_(time_ms), no_writes_(no_writes) {}

  std::string call(const argv_type& argv) override {
    std::string error;
    const command_spec* command = find_with_arity(argv, error);
    if (command == nullptr)
      return error.starts_with("-ERR wrong number")
                 ? error_reply("ERR Wrong number of args calling Redis command from script")
                 : error_reply("ERR Unknown Redis command called from script");
    // TIME answers the entry's time: the same on every replica.
    if (command->name == "time") {
      const std::uint64_t micros = time_ms_ * 1000;
      return array_header(2) + bulk(std::to_string(micros / 1000000)) +
             bulk(std::to_string(micros % 1000000));
    }
    if (refused_in_scripts(*command))
      return error_reply("ERR This Redis command is not allowed from script");
    if ((command->name == "xread" || command->name == "xreadgroup") && xread_blocks(argv))
      return error_reply("ERR " + argv[0] +
                         " command is not allowed with BLOCK option from scripts");
    if (command->check != nullptr) {
      error = command->check(argv);
      if (!error.empty()) return error;
    }
    switch (kind_of(*command, argv)) {
      case command_kind::read:
        return command->read(keys_, argv, time_ms_);
      case command_kind::write:
        if (writable_ == nullptr || no_writes_)
          return error_reply("ERR Write commands are not allowed from read-only scripts.");
        return command->write(*writable_, argv, time_ms_);
      case command_kind::local:
        return run_local(argv);
      case command_kind::unknown:
        break;
    }
    return error_reply("ERR Unknown Redis command called from script");
  }

private:
  keyspace* writable_;
  const keyspace& keys_;
  std::uint64_t time_ms_;
  bool no_writes_;
};

/// The keys and arguments of `EVAL script numkeys key... arg...`; returns the error reply.
std::string split_keys(const argv_type& argv, std::vector<std::string>& keys,
                       std::vector<std::string>& args) {
  const auto count = parse_integer(argv[2]);
  if (!count) return error_reply(not_integer);
  if (*count < 0) return error_reply("ERR Number of keys can't be negative");
  if (static_cast<unsigned long long>(*count) > argv.size() - 3)
    return error_reply("ERR Number of keys can't be greater than number of args");
  const auto first_arg = static_cast<std::ptrdiff_t>(3 + *count);
  keys.assign(argv.begin() + 3, argv.begin() + first_arg);
  args.assign(argv.begin() + first_arg, argv.end());
  return {};
}

/// Runs `body` for EVAL-family command `argv`; `writable` is null for the _RO forms.
std::string run(keyspace* writable, const keyspace& keys, const argv_type& argv,
                const std::string& body, const std::string& sha, std::uint64_t time_ms) {
  std::vector<std::string> script_keys;
  std::vector<std::string> args;
  if (auto error = split_keys(argv, script_keys, args); !error.empty()) return error;
  script_flags flags;
  if (auto error = parse_script_flags(body, flags); !error.empty()) return error;
  if (writable == nullptr && flags.shebang && !flags.no_writes)
    return error_reply("ERR Can not execute a script with write flag using *_ro command.");
  key_space_host host(writable, keys, time_ms, flags.no_writes);
  // math.random's seed: drawn from the state for a write (the same on every replica, different
  // at each run, as Redis 7's generator keeps going); a read mixes in the read's entropy.
  const std::uint64_t seed =
      writable != nullptr ? writable->draw(time_ms) : mix64(keys.read_entropy() ^ mix64(time_ms));
  return run_script(body, sha, script_keys, args, seed, host);
}

/// The script EVALSHA names (case-insensitive, as Redis), or nullptr.
const std::string* named_script(const keyspace& keys, const std::string& name, std::string& sha) {
  if (name.size() != 40) return nullptr;
  sha = lowercase(name);
  return keys.script(sha);
}

std::string no_script() {
  return error_reply("NOSCRIPT No matching script. Please use EVAL.");
}

} // namespace

std::string eval_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  const std::string sha = sha1_hex(argv[1]);
  if (keys.script(sha) == nullptr) {
    // Kept only once it compiles, as Redis keeps what it could define.
    if (auto error = compile_script(argv[1]); !error.empty()) return error;
    keys.keep_script(sha, argv[1]);
  }
  return run(&keys, keys, argv, argv[1], sha, time_ms);
}

std::string evalsha_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  std::string sha;
  const std::string* body = named_script(keys, argv[1], sha);
  if (body == nullptr) return no_script();
  // `body` stays valid: a script cannot reach SCRIPT or EVAL (refused_in_scripts).
  return run(&keys, keys, argv, *body, sha, time_ms);
}

std::string eval_ro_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  return run(nullptr, keys, argv, argv[1], sha1_hex(argv[1]), now_ms);
}

std::string evalsha_ro_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  std::string sha;
  const std::string* body = named_script(keys, argv[1], sha);
  if (body == nullptr) return no_script();
  return run(nullptr, keys, argv, *body, sha, now_ms);
}

namespace {} // namespace

std::string check_script(const argv_type& argv) {
  return check_subcommand(
      argv, {{"load", 3}, {"exists", -3}, {"flush", -2}, {"kill", 2}, {"help", 2}, {"debug", 3}});
}

bool script_writes(const argv_type& argv) {
  const std::string sub = lowercase(argv[1]);
  return sub == "load" || sub == "flush";
}

std::string script_write_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  const std::string sub = lowercase(argv[1]);
  if (sub == "load") {
    script_flags flags;
    if (auto error = parse_script_flags(argv[2], flags); !error.empty()) return error;
    if (auto error = compile_script(argv[2]); !error.empty()) return error;
    const std::string sha = sha1_hex(argv[2]);
    if (!keys.keep_script(sha, argv[2]))
      return error_reply("ERR the script cache is full (prez keeps at most " +
                         std::to_string(limits::scripts_cached_max) + " scripts, " +
                         std::to_string(limits::scripts_cached_bytes_max) +
                         " bytes): SCRIPT FLUSH it");
    return bulk(sha);
  }
  if (sub == "flush") {
    if (argv.size() > 3 ||
        (argv.size() == 3 && !is_word(argv[2], "sync") && !is_word(argv[2], "async")))
      return error_reply("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
    keys.flush_scripts();
    return ok();
  }
  return script_read_command(keys, argv, time_ms);
}

std::string script_read_command(const keyspace& keys, const argv_type& argv, std::uint64_t) {
  const std::string sub = lowercase(argv[1]);
  if (sub == "exists") {
    std::string out = array_header(argv.size() - 2);
    for (std::size_t i = 2; i < argv.size(); ++i) {
      const bool known = argv[i].size() == 40 && keys.script(lowercase(argv[i])) != nullptr;
      out += integer(known ? 1 : 0);
    }
    return out;
  }
  if (sub == "kill") return error_reply("NOTBUSY No scripts in execution right now.");
  if (sub == "debug")
    return error_reply("ERR prez does not support SCRIPT DEBUG (no script debugger: scripts run "
                       "on every replica as they are applied)");
  if (sub == "help") {
    const std::vector<std::string> lines = {
        "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache (on every node: the cache is replicated).",
        "KILL",
        "    Kill the currently executing Lua script (prez scripts never run past their limit).",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        "HELP",
        "    Print this help."};
    return resp::simple_array(lines);
  }
  return error_reply("ERR internal error: SCRIPT " + argv[1] + " is not a read");
}

} // namespace prez::kv

// --- Redis Functions: FUNCTION and FCALL
// -----------------------------------------------------------

namespace prez::kv {

std::pair<const keyspace::function_library*, const function_info*>
keyspace::find_function(std::string_view name) const {
  const auto at = function_index_.find(name);
  if (at == function_index_.end()) return {nullptr, nullptr};
  const function_library& library = libraries_.at(at->second);
  for (const auto& f : library.functions)
    if (f.name == name) return {&library, &f};
  return {nullptr, nullptr};
}

bool keyspace::put_library(const std::string& name, function_library library) {
  const auto old = libraries_.find(name);
  const std::size_t old_bytes = old == libraries_.end() ? 0 : old->second.code.size();
  const std::size_t count = libraries_.size() + (old == libraries_.end() ? 1 : 0);
  if (count > limits::scripts_cached_max ||
      libraries_bytes_ - old_bytes + library.code.size() > limits::scripts_cached_bytes_max)
    return false;
  erase_library(name);
  for (const auto& f : library.functions)
    function_index_[f.name] = name;
  libraries_bytes_ += library.code.size();
  libraries_.emplace(name, std::move(library));
  return true;
}

bool keyspace::erase_library(std::string_view name) {
  const auto at = libraries_.find(name);
  if (at == libraries_.end()) return false;
  for (const auto& f : at->second.functions)
    function_index_.erase(f.name);
  libraries_bytes_ -= at->second.code.size();
  libraries_.erase(at);
  return true;
}

namespace {

std::string fcall(keyspace* writable, const keyspace& keys, const argv_type& argv,
                  std::uint64_t time_ms) {
  const auto [library, function] = keys.find_function(argv[1]);
  if (library == nullptr) return error_reply("ERR Function not found");
  const auto count = parse_integer(argv[2]);
  if (!count) return error_reply("ERR Bad number of keys provided");
  if (*count < 0) return error_reply("ERR Number of keys can't be negative");
  if (static_cast<unsigned long long>(*count) > argv.size() - 3)
    return error_reply("ERR Number of keys can't be greater than number of args");
  if (writable == nullptr && !function->no_writes)
    return error_reply("ERR Can not execute a script with write flag using *_ro command.");
  const auto first_arg = static_cast<std::ptrdiff_t>(3 + *count);
  const std::vector<std::string> script_keys(argv.begin() + 3, argv.begin() + first_arg);
  const std::vector<std::string> args(argv.begin() + first_arg, argv.end());
  key_space_host host(writable, keys, time_ms, function->no_writes);
  const std::uint64_t seed =
      writable != nullptr ? writable->draw(time_ms) : mix64(keys.read_entropy() ^ mix64(time_ms));
  // The library may be replaced by nothing the function runs (FUNCTION is refused in scripts).
  return call_function(library->code, function->name, script_keys, args, seed, host);
}

std::string function_load(keyspace& keys, const argv_type& argv) {
  bool replace = false;
  std::size_t at = 2;
  while (at + 1 < argv.size()) {
    if (!is_word(argv[at], "replace")) return error_reply("ERR Unknown option given: " + argv[at]);
    replace = true;
    ++at;
  }
  if (at >= argv.size()) return error_reply("ERR Function code is missing");
  const std::string& code = argv[at];
  library_info info;
  if (auto error = load_library(code, info); !error.empty()) return error;
  if (keys.libraries().contains(info.name) && !replace)
    return error_reply("ERR Library '" + info.name + "' already exists");
  for (const auto& f : info.functions) {
    const auto [owner, found] = keys.find_function(f.name);
    if (owner != nullptr && keys.libraries().find(info.name) != keys.libraries().end() &&
        owner == &keys.libraries().find(info.name)->second)
      continue; // replaced along with its library
    if (owner != nullptr) return error_reply("ERR Function " + f.name + " already exists");
  }
  const std::string name = info.name;
  if (!keys.put_library(name, {code, std::move(info.functions)}))
    return error_reply("ERR the function store is full (prez keeps at most " +
                       std::to_string(limits::scripts_cached_max) + " libraries, " +
                       std::to_string(limits::scripts_cached_bytes_max) + " bytes)");
  return bulk(name);
}

/// FUNCTION LIST [WITHCODE] [LIBRARYNAME pattern], in library name order.
std::string function_list(const keyspace& keys, const argv_type& argv) {
  bool with_code = false;
  std::optional<std::string> pattern;
  for (std::size_t i = 2; i < argv.size(); ++i) {
    if (is_word(argv[i], "withcode")) {
      with_code = true;
    } else if (is_word(argv[i], "libraryname")) {
      if (i + 1 >= argv.size()) return error_reply("ERR library name argument was not given");
      pattern = argv[++i];
    } else {
      return error_reply("ERR Unknown argument " + argv[i]);
    }
  }
  std::string items;
  std::size_t count = 0;
  for (const auto& [name, library] : keys.libraries()) {
    if (pattern && !glob_match(*pattern, name)) continue;
    ++count;
    items += array_header(with_code ? 8 : 6) + bulk("library_name") + bulk(name) + bulk("engine") +
             bulk("LUA") + bulk("functions") + array_header(library.functions.size());
    for (const auto& f : library.functions) {
      items += array_header(6) + bulk("name") + bulk(f.name) + bulk("description") +
               (f.description.empty() ? null_bulk() : bulk(f.description)) + bulk("flags") +
               bulk_array(f.flags);
    }
    if (with_code) items += bulk("library_code") + bulk(library.code);
  }
  return array_header(count) + items;
}

} // namespace

std::string fcall_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return fcall(&keys, keys, argv, time_ms);
}

std::string fcall_ro_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  return fcall(nullptr, keys, argv, now_ms);
}

std::string check_function(const argv_type& argv) {
  if (lowercase(argv[1]) == "flush" && argv.size() > 3) // Redis's own FLUSH check
    return subcommand_syntax_error(argv);
  return check_subcommand(argv, {{"load", -3},
                                 {"delete", 3},
                                 {"flush", -2},
                                 {"list", -2},
                                 {"kill", 2},
                                 {"stats", 2},
                                 {"help", 2},
                                 {"dump", 2},
                                 {"restore", -3}});
}

bool function_writes(const argv_type& argv) {
  const std::string sub = lowercase(argv[1]);
  return sub == "load" || sub == "delete" || sub == "flush" || sub == "restore";
}

std::string function_write_command(keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  const std::string sub = lowercase(argv[1]);
  if (sub == "load") return function_load(keys, argv);
  if (sub == "delete") {
    if (!keys.erase_library(argv[2])) return error_reply("ERR Library not found");
    return ok();
  }
  if (sub == "flush") {
    if (argv.size() == 3 && !is_word(argv[2], "sync") && !is_word(argv[2], "async"))
      return error_reply("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
    keys.flush_libraries();
    return ok();
  }
  if (sub == "restore")
    return error_reply("ERR prez does not support FUNCTION RESTORE (load the libraries' code "
                       "with FUNCTION LOAD)");
  return function_read_command(keys, argv, now_ms);
}

std::string function_read_command(const keyspace& keys, const argv_type& argv, std::uint64_t) {
  const std::string sub = lowercase(argv[1]);
  if (sub == "list") return function_list(keys, argv);
  if (sub == "kill") return error_reply("NOTBUSY No scripts in execution right now.");
  if (sub == "dump")
    return error_reply("ERR prez does not support FUNCTION DUMP (FUNCTION LIST WITHCODE gives "
                       "every library's code)");
  if (sub == "stats") {
    std::size_t functions = 0;
    for (const auto& [name, library] : keys.libraries())
      functions += library.functions.size();
    return array_header(4) + bulk("running_script") + null_bulk() + bulk("engines") +
           array_header(2) + bulk("LUA") + array_header(4) + bulk("libraries_count") +
           integer(static_cast<long long>(keys.libraries().size())) + bulk("functions_count") +
           integer(static_cast<long long>(functions));
  }
  if (sub == "help") {
    const std::vector<std::string> lines = {
        "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code (on every node).",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "KILL",
        "    Kill the running function (prez functions never run past their limit).",
        "STATS",
        "    Return information about the libraries.",
        "HELP",
        "    Print this help."};
    return resp::simple_array(lines);
  }
  return error_reply("ERR internal error: FUNCTION " + argv[1] + " is not a read");
}

} // namespace prez::kv
