// Key-space commands: DEL, EXISTS, TYPE, RENAME, KEYS, SCAN, DBSIZE, FLUSH*, RANDOMKEY and the
// expiry family. SCAN's cursor is the hash of the next key to visit (see kv::key_slot).

#include <algorithm>
#include <limits>

#include "actors/state_machine/kv_commands.hpp"

namespace prez::kv {

namespace {

struct hash_probe {
  std::uint64_t hash;
  std::string_view name;
};

bool visible(const entry& e, std::uint64_t now_ms) {
  return e.expires_at_ms == 0 || e.expires_at_ms > now_ms;
}

std::string rename_key(keyspace& keys, const argv_type& argv, std::uint64_t time_ms,
                       bool only_if_missing) {
  entry* source = keys.find_live(argv[1], time_ms);
  if (source == nullptr) return error_reply(no_such_key);
  if (argv[1] == argv[2]) return only_if_missing ? integer(0) : ok();
  if (keys.find_live(argv[2], time_ms) != nullptr) {
    if (only_if_missing) return integer(0);
    keys.erase(argv[2]); // map nodes are stable: `source` stays valid
  }
  value data = std::move(source->data);
  const std::uint64_t deadline = source->expires_at_ms;
  keys.shrink(*source, source->bytes);
  keys.erase(argv[1]);
  entry& moved = keys.insert(argv[2], std::move(data));
  if (deadline != 0) keys.set_expiry(argv[2], moved, deadline);
  keys.notify(notify::generic, "rename_from", argv[1]);
  keys.notify(notify::generic, "rename_to", argv[2]);
  return only_if_missing ? integer(1) : ok();
}

/// NX XX GT LT of the EXPIRE family, as Redis 7 checks them (before the time argument).
struct expire_flags {
  bool nx = false;
  bool xx = false;
  bool gt = false;
  bool lt = false;
};

std::string sanitize(std::string_view text) {
  std::string out(text.substr(0, std::min<std::size_t>(128, text.find('\0'))));
  std::replace(out.begin(), out.end(), '\r', ' ');
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

std::optional<expire_flags> parse_expire_flags(const argv_type& argv, std::string& error) {
  expire_flags f;
  for (std::size_t i = 3; i < argv.size(); ++i) {
    const std::string option = lowercase(argv[i].substr(0, 3));
    if (argv[i].size() == 2 && option == "nx") {
      f.nx = true;
    } else if (argv[i].size() == 2 && option == "xx") {
      f.xx = true;
    } else if (argv[i].size() == 2 && option == "gt") {
      f.gt = true;
    } else if (argv[i].size() == 2 && option == "lt") {
      f.lt = true;
    } else {
      error = error_reply("ERR Unsupported option " + sanitize(argv[i]));
      return std::nullopt;
    }
  }
  if (f.nx && (f.xx || f.gt || f.lt)) {
    error = error_reply("ERR NX and XX, GT or LT options at the same time are not compatible");
    return std::nullopt;
  }
  if (f.gt && f.lt) {
    error = error_reply("ERR GT and LT options at the same time are not compatible");
    return std::nullopt;
  }
  return f;
}

/// Whether NX/XX/GT/LT let a new deadline replace `current` (0: none, which GT treats as
/// infinite).
bool flags_allow(const expire_flags& f, std::uint64_t current, long long when) {
  if (f.nx && current != 0) return false;
  if (f.xx && current == 0) return false;
  if (f.gt && (current == 0 || when <= static_cast<long long>(current))) return false;
  if (f.lt && current != 0 && when >= static_cast<long long>(current)) return false;
  return true;
}

/// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT: `base_ms` is time_ms for the relative forms, else 0.
std::string expire_generic(keyspace& keys, const argv_type& argv, std::uint64_t time_ms,
                           bool seconds, bool relative) {
  std::string error;
  const auto flags = parse_expire_flags(argv, error);
  if (!flags) return error;
  auto when = parse_integer(argv[2]);
  if (!when) return error_reply(not_integer);
  constexpr long long max = std::numeric_limits<long long>::max();
  constexpr long long min = std::numeric_limits<long long>::min();
  const long long base = relative ? static_cast<long long>(time_ms) : 0;
  if (seconds && (*when > max / 1000 || *when < min / 1000))
    return invalid_expire_error(command_name(argv));
  if (seconds) *when *= 1000;
  if (*when > max - base) return invalid_expire_error(command_name(argv));
  *when += base;
  entry* e = keys.find_live(argv[1], time_ms);
  if (e == nullptr) return integer(0);
  if (!flags_allow(*flags, e->expires_at_ms, *when)) return integer(0);
  if (*when <= static_cast<long long>(time_ms)) {
    keys.erase(argv[1]);
    keys.notify(notify::generic, "del", argv[1]);
  } else {
    keys.set_expiry(argv[1], *e, static_cast<std::uint64_t>(*when));
    keys.notify(notify::generic, "expire", argv[1]);
  }
  return integer(1);
}

/// TTL, PTTL, EXPIRETIME, PEXPIRETIME.
std::string ttl_generic(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms,
                        bool milliseconds, bool absolute) {
  const entry* e = keys.find_visible(argv[1], now_ms);
  if (e == nullptr) return integer(-2);
  if (e->expires_at_ms == 0) return integer(-1);
  const long long deadline = static_cast<long long>(e->expires_at_ms);
  long long ttl = absolute ? deadline : deadline - static_cast<long long>(now_ms);
  ttl = std::max(ttl, 0LL);
  return integer(milliseconds ? ttl : (ttl + 500) / 1000);
}

} // namespace

std::string del_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  long long removed = 0;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    if (!keys.maybe_expire(argv[i], time_ms) && keys.erase(argv[i])) {
      keys.notify(notify::generic, "del", argv[i]);
      ++removed;
    }
  }
  return integer(removed);
}

std::string exists_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  long long count = 0;
  for (std::size_t i = 1; i < argv.size(); ++i)
    count += keys.find_visible(argv[i], now_ms) != nullptr ? 1 : 0;
  return integer(count);
}

std::string type_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  const entry* e = keys.find_visible(argv[1], now_ms);
  return simple_string(e == nullptr ? "none" : type_name(e->data));
}

/// MEMORY USAGE key [SAMPLES n]: prez's own accounting of the key (its name and the bytes of its
/// value, entry::bytes) plus a fixed per-key overhead, an estimate like Redis's. SAMPLES is
/// accepted and ignored: prez counts every element.
std::string memory_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  constexpr std::size_t per_key_overhead = 48;
  if (!is_word(argv[1], "usage"))
    return error_reply("ERR unknown subcommand '" + std::string(argv[1]) + "'. Try MEMORY HELP.");
  if (argv.size() < 3)
    return error_reply("ERR wrong number of arguments for 'memory|usage' command");
  if (argv.size() != 3) {
    if (argv.size() != 5 || !is_word(argv[3], "samples")) return error_reply(syntax_error);
    const auto samples = parse_integer(argv[4]);
    if (!samples) return error_reply(not_integer);
    if (*samples < 0) return error_reply(syntax_error);
  }
  const entry* e = keys.find_visible(argv[2], now_ms);
  if (e == nullptr) return null_bulk();
  return integer(static_cast<long long>(argv[2].size() + e->bytes + per_key_overhead));
}

std::string rename_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return rename_key(keys, argv, time_ms, false);
}

std::string renamenx_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return rename_key(keys, argv, time_ms, true);
}

std::string keys_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  std::vector<std::string_view> found;
  const bool all = argv[1] == "*";
  for (const auto& [slot, e] : keys.keys())
    if (visible(e, now_ms) && (all || glob_match(argv[1], slot.name))) found.push_back(slot.name);
  return bulk_array(found);
}

std::string scan_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  const auto cursor = parse_cursor(argv[1]);
  if (!cursor) return error_reply("ERR invalid cursor");
  std::string error;
  const auto options = parse_scan_options(argv, 2, true, error);
  if (!options) return error;
  const auto& map = keys.keys();
  std::vector<std::string_view> found;
  if (*cursor > scan_cursor_max) return scan_reply("0", found);
  // The key space is in key_hash order, and a cursor is the top bits of a key_hash.
  auto it = map.lower_bound(hash_probe{*cursor << scan_cursor_shift, std::string_view()});
  // COUNT is the number of keys visited (as Redis counts buckets), filtered or not; keys that
  // share a cursor are visited together so the cursor never splits them.
  for (long long visited = 0; it != map.end() && visited < options->count; ++visited) {
    const std::uint64_t here = it->first.hash >> scan_cursor_shift;
    for (; it != map.end() && it->first.hash >> scan_cursor_shift == here; ++it) {
      const auto& [slot, e] = *it;
      if (!visible(e, now_ms) || !matches(*options, slot.name)) continue;
      if (!options->type.empty() && type_name(e.data) != options->type) continue;
      found.push_back(slot.name);
    }
  }
  const std::uint64_t next = it == map.end() ? 0 : it->first.hash >> scan_cursor_shift;
  return scan_reply(std::to_string(next), found);
}

std::string dbsize_command(const keyspace& keys, const argv_type&, std::uint64_t now_ms) {
  return integer(static_cast<long long>(keys.visible_count(now_ms)));
}

std::string flush_command(keyspace& keys, const argv_type& argv, std::uint64_t) {
  if (argv.size() > 2 ||
      (argv.size() == 2 && !is_word(argv[1], "sync") && !is_word(argv[1], "async")))
    return error_reply(syntax_error);
  keys.flush();
  return ok();
}

std::string randomkey_command(const keyspace& keys, const argv_type&, std::uint64_t now_ms) {
  // The first visible key at or after a hash drawn from now_ms (and the read's entropy, 0 when
  // applied from the log, so replicas agree), wrapping around.
  const auto& map = keys.keys();
  if (map.empty()) return null_bulk();
  auto it =
      map.lower_bound(hash_probe{mix64(now_ms ^ mix64(keys.read_entropy())), std::string_view()});
  for (std::size_t step = 0; step < map.size(); ++step, ++it) {
    if (it == map.end()) it = map.begin();
    if (visible(it->second, now_ms)) return bulk(it->first.name);
  }
  return null_bulk();
}

std::string expire_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return expire_generic(keys, argv, time_ms, true, true);
}

std::string pexpire_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return expire_generic(keys, argv, time_ms, false, true);
}

std::string expireat_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return expire_generic(keys, argv, time_ms, true, false);
}

std::string pexpireat_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return expire_generic(keys, argv, time_ms, false, false);
}

std::string ttl_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  return ttl_generic(keys, argv, now_ms, false, false);
}

std::string pttl_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  return ttl_generic(keys, argv, now_ms, true, false);
}

std::string expiretime_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  return ttl_generic(keys, argv, now_ms, false, true);
}

std::string pexpiretime_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  return ttl_generic(keys, argv, now_ms, true, true);
}

std::string persist_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  entry* e = keys.find_live(argv[1], time_ms);
  if (e == nullptr || e->expires_at_ms == 0) return integer(0);
  keys.set_expiry(argv[1], *e, 0);
  keys.notify(notify::generic, "persist", argv[1]);
  return integer(1);
}

/// PUBLISH channel message: queues the message for every node's subscribers. The reply kept
/// in the log is 0: how many clients receive it is known only on each node, so the connection
/// that published answers its own node's count (pubsub_hub_actor.hpp).
std::string publish_command(keyspace& keys, const argv_type& argv, std::uint64_t) {
  keys.publish(argv[1], argv[2]);
  return integer(0);
}

} // namespace prez::kv
