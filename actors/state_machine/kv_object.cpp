// Key commands that inspect or duplicate a whole value: TOUCH, COPY and OBJECT. prez keeps one
// representation per type and tracks neither access time nor access frequency, so OBJECT answers
// what is true for prez (docs/compatibility.md "OBJECT").

#include <string>
#include <variant>

#include "actors/state_machine/kv_commands.hpp"

namespace prez::kv {

namespace {

/// Redis 7.0's thresholds, used only to name the encoding Redis would report for the same
/// contents (prez stores every hash as a std::map and every set as a std::set).
constexpr std::size_t hash_small_entries_max = 128;    // hash-max-listpack-entries
constexpr std::size_t hash_small_value_bytes_max = 64; // hash-max-listpack-value
constexpr std::size_t set_integers_max = 512;          // set-max-intset-entries
constexpr std::size_t embstr_bytes_max = 44;           // Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT

/// Whether `text` is the canonical decimal form of a 64-bit signed integer (no sign '+', no
/// leading zeros, no spaces): the strings Redis stores with encoding "int".
bool canonical_integer(std::string_view text) {
  return text.size() <= 20 && parse_integer(text).has_value();
}

/// The name OBJECT ENCODING gives each value type. One overload per alternative of kv::value: a
/// new type (zset) fails to compile until it gets its name here.
struct encoding_namer {
  std::string_view operator()(const std::string& text) const {
    if (canonical_integer(text)) return "int";
    return text.size() <= embstr_bytes_max ? "embstr" : "raw";
  }
  std::string_view operator()(const list_value&) const { return "quicklist"; }
  std::string_view operator()(const hash_value& hash) const {
    if (hash.size() > hash_small_entries_max) return "hashtable";
    for (const auto& [field, text] : hash)
      if (field.size() > hash_small_value_bytes_max || text.size() > hash_small_value_bytes_max)
        return "hashtable";
    return "listpack";
  }
  std::string_view operator()(const set_value& set) const {
    if (set.size() > set_integers_max) return "hashtable";
    for (const auto& member : set)
      if (!canonical_integer(member)) return "hashtable";
    return "intset";
  }
  /// Redis 7.0: a listpack up to zset-max-listpack-entries (128) members of at most
  /// zset-max-listpack-value (64) bytes, else a skiplist.
  std::string_view operator()(const zset_value& sorted) const {
    if (sorted.size() > 128) return "skiplist";
    for (const auto& [member, score] : sorted.by_member())
      if (member.size() > 64) return "skiplist";
    return "listpack";
  }
  std::string_view operator()(const stream_value&) const { return "stream"; }
};

std::string object_help() {
  static constexpr std::string_view lines[] = {
      "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "ENCODING <key>",
      "    Return the kind of internal representation used in order to store the value",
      "    associated with a <key>.",
      "FREQ <key>",
      "    Return the access frequency index of the <key>. The returned integer is",
      "    proportional to the logarithm of the recent access frequency of the key.",
      "IDLETIME <key>",
      "    Return the idle time of the <key>, that is the approximated number of",
      "    seconds elapsed since the last access to the key.",
      "REFCOUNT <key>",
      "    Return the number of references of the value associated with the specified",
      "    <key>.",
      "HELP",
      "    Prints this help.",
  };
  return resp::simple_array(lines);
}

} // namespace

std::string_view encoding_name(const value& data) {
  return std::visit(encoding_namer{}, data);
}

std::string touch_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  // prez keeps no access time (no LRU/LFU eviction), so TOUCH only counts the keys that exist.
  long long count = 0;
  for (std::size_t i = 1; i < argv.size(); ++i)
    count += keys.find_visible(argv[i], now_ms) != nullptr ? 1 : 0;
  return integer(count);
}

std::string copy_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  bool replace = false;
  for (std::size_t i = 3; i < argv.size(); ++i) {
    if (is_word(argv[i], "replace")) {
      replace = true;
    } else if (is_word(argv[i], "db") && i + 1 < argv.size()) {
      const auto db = parse_integer(argv[++i]);
      if (!db) return error_reply(not_integer);
      // prez has one database, 0: any other gets SELECT's error.
      if (*db != 0) return error_reply("ERR DB index is out of range");
    } else {
      return error_reply(syntax_error);
    }
  }
  if (argv[1] == argv[2]) return error_reply("ERR source and destination objects are the same");
  const entry* source = keys.peek_live(argv[1], time_ms);
  if (source == nullptr) return integer(0);
  if (keys.peek_live(argv[2], time_ms) != nullptr) {
    if (!replace) return integer(0);
    keys.erase(argv[2]); // map nodes are stable: `source` stays valid
  }
  const std::uint64_t deadline = source->expires_at_ms;
  entry& copied = keys.insert(argv[2], source->data); // a deep copy of every alternative
  if (deadline != 0) keys.set_expiry(argv[2], copied, deadline);
  keys.notify(notify::generic, "copy_to", argv[2]);
  return integer(1);
}

std::string check_object(const argv_type& argv) {
  const std::string sub = lowercase(argv[1]);
  if (sub == "help") return argv.size() == 2 ? std::string() : arity_error("object|help");
  if (sub == "encoding" || sub == "freq" || sub == "idletime" || sub == "refcount")
    return argv.size() == 3 ? std::string() : arity_error("object|" + sub);
  std::string shown = argv[1].substr(0, 128);
  for (char& c : shown)
    if (c == '\r' || c == '\n') c = ' ';
  return error_reply("ERR unknown subcommand '" + shown + "'. Try OBJECT HELP.");
}

std::string object_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  const std::string sub = lowercase(argv[1]);
  if (sub == "help") return object_help();
  const entry* e = keys.find_visible(argv[2], now_ms);
  if (e == nullptr) return null_bulk();
  if (sub == "encoding") return bulk(encoding_name(e->data));
  // Every value has exactly one owner in prez (no shared integer objects as in Redis).
  if (sub == "refcount") return integer(1);
  // prez records no access time (docs/compatibility.md): every key reads as just used.
  if (sub == "idletime") return integer(0);
  // FREQ: prez has no LFU policy, so the answer is Redis's when LFU is not selected.
  return error_reply("ERR An LFU maxmemory policy is not selected, access frequency not tracked. "
                     "Please note that when switching between policies at runtime LRU and LFU "
                     "data will take some time to adjust.");
}

} // namespace prez::kv
