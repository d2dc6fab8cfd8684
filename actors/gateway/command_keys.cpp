#include "actors/gateway/command_keys.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "actors/state_machine/kv_state.hpp"

namespace prez {

namespace {

using flag_list = std::vector<std::string_view>;

const flag_list read_flags{"RO", "access"};
const flag_list write_flags{"RW", "access", "update"};
const flag_list destination_flags{"OW", "update"};
const flag_list delete_flags{"RM", "delete"};
const flag_list pop_flags{"RW", "access", "delete"};
const flag_list insert_flags{"RW", "insert"};
const flag_list update_flags{"RW", "update"};
const flag_list read_only_flags{"RO"};
const flag_list renamenx_destination_flags{"OW", "insert"};
const flag_list remove_flags{"RW", "delete"};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool one_of(std::string_view name, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

/// Appends positions first, first + step, ... up to last (inclusive), all with `flags`.
void add_range(command_keys& out, std::size_t first, std::size_t last, std::size_t step,
               const flag_list& flags) {
  for (std::size_t i = first; i <= last; i += step)
    out.keys.push_back({i, flags});
}

/// Keys counted by the argument at `numkeys_at`, starting at `first_at`; `store_at` (when not 0)
/// is a destination key named before them. False when the count is not an integer >= 1 or
/// names more keys than the line holds (Redis then finds no keys).
bool add_counted(command_keys& out, const std::vector<std::string>& argv, std::size_t numkeys_at,
                 std::size_t first_at, std::size_t store_at, const flag_list& flags) {
  if (numkeys_at >= argv.size()) return false;
  const auto& text = argv[numkeys_at];
  long long count = 0;
  const auto* end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, count);
  if (ec != std::errc{} || stop != end || count < 1) return false;
  if (static_cast<unsigned long long>(count) > argv.size() - first_at) return false;
  if (store_at != 0) out.keys.push_back({store_at, destination_flags});
  add_range(out, first_at, first_at + static_cast<std::size_t>(count) - 1, 1, flags);
  return true;
}

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE dest]:
/// the sort key, then the last STORE's destination; options' arguments are skipped so an
/// argument that merely reads "store" is not taken for the option.
void add_sort_keys(command_keys& out, const std::vector<std::string>& argv) {
  out.keys.push_back({1, read_flags});
  std::optional<std::size_t> store;
  for (std::size_t i = 2; i < argv.size(); ++i) {
    const auto option = lower(argv[i]);
    if (option == "limit")
      i += 2;
    else if (option == "get" || option == "by")
      i += 1;
    else if (option == "store" && i + 1 < argv.size())
      store = i + 1;
  }
  if (store) out.keys.push_back({*store, destination_flags});
}

/// A subcommand of a container command with keys (OBJECT, MEMORY): its key at position 2, or
/// the error Redis gives for it.
void add_subcommand_key(command_keys& out, const std::vector<std::string>& argv,
                        std::initializer_list<std::string_view> keyed, int keyed_arity,
                        std::initializer_list<std::string_view> keyless) {
  if (argv.size() < 2) {
    out.error = "The command has no key arguments";
    return;
  }
  const auto sub = lower(argv[1]);
  if (one_of(sub, keyless)) {
    out.error = "The command has no key arguments";
  } else if (!one_of(sub, keyed)) {
    out.error = "Invalid command specified";
  } else if ((keyed_arity > 0 && argv.size() != static_cast<std::size_t>(keyed_arity)) ||
             (keyed_arity < 0 && argv.size() < static_cast<std::size_t>(-keyed_arity))) {
    out.error = "Invalid number of arguments specified for command";
  } else {
    out.keys.push_back({2, read_only_flags});
  }
}

/// How `name` uses its (first) key: Redis 7.0.15's key-spec flags for the commands listed
/// (checked against redis-server), prez's read/write kind for the others.
const flag_list& flags_of(std::string_view name, command_kind kind,
                          const std::vector<std::string>& argv) {
  if (one_of(name, {"del", "unlink"})) return delete_flags;
  if (one_of(name, {"getdel", "lpop",      "rpop",     "spop",       "zpopmin", "zpopmax", "blpop",
                    "brpop",  "bzpopmin",  "bzpopmax", "lmpop",      "blmpop",  "zmpop",   "bzmpop",
                    "lmove",  "rpoplpush", "blmove",   "brpoplpush", "rename",  "renamenx"}))
    return pop_flags;
  if (one_of(name, {"lpush", "rpush", "lpushx", "rpushx", "sadd", "append", "linsert", "hsetnx"}))
    return insert_flags;
  if (one_of(name, {"hdel", "srem", "zrem", "lrem", "ltrim", "zremrangebyscore", "zremrangebyrank",
                    "zremrangebylex"}))
    return remove_flags;
  if (one_of(name, {"expire", "pexpire", "expireat", "pexpireat", "persist", "hset", "hmset",
                    "zadd", "lset", "setrange", "xack", "xclaim"}))
    return update_flags;
  if (name == "xautoclaim") return remove_flags;
  if (one_of(name, {"exists", "watch", "touch", "type", "object", "memory", "scard", "strlen",
                    "hstrlen", "llen", "hexists", "hlen", "sismember", "zcard"}))
    return read_only_flags;
  if (one_of(name, {"mset", "restore", "setex", "psetex"})) return destination_flags;
  if (one_of(name, {"setnx", "msetnx"})) return renamenx_destination_flags;
  if (name == "bitfield") { // only GETs: a read
    const bool writes = std::any_of(argv.begin() + 2, argv.end(), [](const std::string& arg) {
      const auto op = lower(arg);
      return op == "set" || op == "incrby";
    });
    return writes ? write_flags : read_flags;
  }
  if (name == "set") {
    const bool get = std::any_of(argv.begin() + 1, argv.end(),
                                 [](const std::string& arg) { return lower(arg) == "get"; });
    return get ? write_flags : destination_flags;
  }
  return kind == command_kind::read ? read_flags : write_flags;
}

/// The keys of a known command with keys whose arity matched (`kind` from the command table).
/// False when its arguments name no valid keys (a bad numkeys).
bool add_keys(command_keys& out, const std::string& name, command_kind kind,
              const std::vector<std::string>& argv) {
  const std::size_t last = argv.size() - 1;
  if (name == "sort") {
    add_sort_keys(out, argv);
  } else if (name == "sort_ro") {
    out.keys.push_back({1, read_flags});
  } else if (one_of(name, {"zunionstore", "zinterstore", "zdiffstore"})) {
    return add_counted(out, argv, 2, 3, 1, read_flags);
  } else if (one_of(name, {"zunion", "zinter", "zdiff", "zintercard", "sintercard"})) {
    return add_counted(out, argv, 1, 2, 0, read_flags);
  } else if (one_of(name, {"lmpop", "zmpop"})) {
    return add_counted(out, argv, 1, 2, 0, pop_flags);
  } else if (one_of(name, {"blmpop", "bzmpop"})) {
    return add_counted(out, argv, 2, 3, 0, pop_flags);
  } else if (one_of(name, {"eval", "evalsha", "fcall"})) {
    return add_counted(out, argv, 2, 3, 0, write_flags);
  } else if (one_of(name, {"eval_ro", "evalsha_ro", "fcall_ro"})) {
    return add_counted(out, argv, 2, 3, 0, read_flags);
  } else if (name == "bitop") { // BITOP op dest key [key ...]
    out.keys.push_back({2, destination_flags});
    add_range(out, 3, last, 1, read_flags);
  } else if (one_of(name, {"sinterstore", "sunionstore", "sdiffstore"})) {
    out.keys.push_back({1, name == "sinterstore" ? update_flags : destination_flags});
    add_range(out, 2, last, 1, read_flags);
  } else if (one_of(name, {"copy", "zrangestore"})) { // source then destination, or the reverse
    const bool destination_first = name == "zrangestore";
    out.keys.push_back({1, destination_first ? destination_flags : read_flags});
    out.keys.push_back({2, destination_first ? read_flags : destination_flags});
  } else if (one_of(name, {"lmove", "rpoplpush", "blmove", "brpoplpush", "smove"})) {
    out.keys.push_back({1, pop_flags});
    out.keys.push_back({2, insert_flags});
  } else if (one_of(name, {"rename", "renamenx"})) {
    out.keys.push_back({1, pop_flags});
    out.keys.push_back({2, name == "rename" ? destination_flags : renamenx_destination_flags});
  } else if (name == "lcs") {
    add_range(out, 1, 2, 1, read_flags);
  } else if (one_of(name, {"blpop", "brpop", "bzpopmin", "bzpopmax"})) {
    add_range(out, 1, last - 1, 1, pop_flags);        // keys, then the timeout
  } else if (one_of(name, {"xread", "xreadgroup"})) { // after STREAMS: the first half of the rest
    std::size_t streams = 0;
    for (std::size_t i = 1; i < argv.size() && streams == 0; ++i)
      if (lower(argv[i]) == "streams") streams = i;
    const std::size_t rest = streams == 0 ? 0 : argv.size() - streams - 1;
    if (rest == 0 || rest % 2 != 0) return false;
    add_range(out, streams + 1, streams + rest / 2, 1, read_flags);
  } else if (one_of(name, {"mset", "msetnx"})) {
    add_range(out, 1, last, 2, flags_of(name, kind, argv));
  } else if (one_of(name, {"del", "unlink", "exists", "touch", "mget", "watch", "sinter", "sunion",
                           "sdiff"})) {
    add_range(out, 1, last, 1, flags_of(name, kind, argv));
  } else {
    out.keys.push_back({1, flags_of(name, kind, argv)});
  }
  return true;
}

} // namespace

bool keyless_command(std::string_view name) {
  static constexpr std::string_view names[] = {
      "auth", "client", "command", "config", "dbsize", "discard", "echo", "exec", "function",
      "flushall", "flushdb", "hello", "info", "keys", "multi", "ping", "quit", "randomkey", "reset",
      "scan", "select", "time", "unwatch",
      // channels are not keys
      "publish", "pubsub", "subscribe", "psubscribe", "unsubscribe", "punsubscribe",
      // keys counted by a numkeys argument (COMMAND INFO: 0 0 0, as Redis reports them)
      "lmpop", "zmpop", "blmpop", "bzmpop", "xread", "xreadgroup"};
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

command_keys find_command_keys(const std::vector<std::string>& argv) {
  command_keys out;
  if (argv.empty()) {
    out.error = "Invalid command specified";
    return out;
  }
  const auto name = lower(argv[0]);
  const bool script =
      one_of(name, {"eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"});
  std::optional<command_description> known;
  for (const auto& c : describe_commands())
    if (c.name == name) known = c;
  if (!known && script) known = command_description{"eval", -3, command_kind::write};
  if (!known) {
    out.error = "Invalid command specified";
    return out;
  }
  if (name == "xgroup") { // XGROUP <subcommand> key ...: how it uses the key as Redis 7.0.15 says
    const auto sub = argv.size() < 2 ? std::string() : lower(argv[1]);
    const struct {
      std::string_view name;
      int arity;
      const flag_list* flags;
    } subs[] = {{"create", -5, &insert_flags},
                {"setid", -5, &update_flags},
                {"destroy", 4, &remove_flags},
                {"createconsumer", 5, &insert_flags},
                {"delconsumer", 5, &remove_flags}};
    if (sub == "help" || argv.size() < 2) {
      out.error = "The command has no key arguments";
      return out;
    }
    for (const auto& s : subs) {
      if (s.name != sub) continue;
      if ((s.arity > 0 && argv.size() != static_cast<std::size_t>(s.arity)) ||
          (s.arity < 0 && argv.size() < static_cast<std::size_t>(-s.arity)))
        out.error = "Invalid number of arguments specified for command";
      else
        out.keys.push_back({2, *s.flags});
      return out;
    }
    out.error = "Invalid command specified";
    return out;
  }
  if (name == "object" || name == "memory" || name == "xinfo") {
    if (name == "xinfo")
      add_subcommand_key(out, argv, {"stream", "groups", "consumers"}, -3, {"help"});
    else if (name == "object")
      add_subcommand_key(out, argv, {"encoding", "freq", "idletime", "refcount"}, 3, {"help"});
    else
      add_subcommand_key(out, argv, {"usage"}, -3,
                         {"doctor", "stats", "malloc-stats", "purge", "help"});
    return out;
  }
  const bool counted = one_of(name, {"lmpop", "zmpop", "blmpop", "bzmpop", "xread", "xreadgroup"});
  if ((keyless_command(name) && !counted) || name.rfind("raft.", 0) == 0) {
    out.error = "The command has no key arguments";
    return out;
  }
  const auto count = static_cast<long long>(argv.size());
  if ((known->arity > 0 && count != known->arity) || (known->arity < 0 && count < -known->arity)) {
    out.error = "Invalid number of arguments specified for command";
    return out;
  }
  if (!add_keys(out, name, known->kind, argv)) {
    out.keys.clear();
    // EVAL and kin may name no key at all (Redis: no mandatory keys); the others must.
    if (!script) out.error = "Invalid arguments specified for command";
  }
  return out;
}

} // namespace prez
