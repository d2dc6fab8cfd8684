// String commands with Redis 7's replies: SET and its options, GET*, SET* variants, MGET/MSET,
// APPEND, ranges, counters.

#include <cmath>
#include <limits>

#include "actors/state_machine/kv_commands.hpp"
#include "config/limits.hpp"

namespace prez::kv {

namespace {

constexpr long long llong_max = std::numeric_limits<long long>::max();

/// Options of SET (NX XX GET KEEPTTL EX PX EXAT PXAT) and GETEX (EX PX EXAT PXAT PERSIST), with
/// Redis 7's exclusions: NX/XX exclude each other, one expiry option at most (repeating the
/// same one is allowed), KEEPTTL and PERSIST exclude every expiry option.
struct string_options {
  bool only_if_missing = false; // NX
  bool only_if_present = false; // XX
  bool return_old = false;      // GET
  bool keep_ttl = false;        // KEEPTTL
  bool persist = false;         // PERSIST
  std::string expire_option;    // "ex", "px", "exat", "pxat" or empty
  std::string_view expire_text;
};

bool expiry_allowed(const string_options& o, std::string_view option) {
  return !o.keep_ttl && !o.persist && (o.expire_option.empty() || o.expire_option == option);
}

std::optional<string_options> parse_string_options(const argv_type& argv, std::size_t first,
                                                   bool is_set) {
  string_options o;
  for (std::size_t i = first; i < argv.size(); ++i) {
    if (argv[i].size() > 7) return std::nullopt; // longer than any option
    const std::string option = lowercase(argv[i]);
    const bool has_next = i + 1 < argv.size();
    if (is_set && option == "nx" && !o.only_if_present) {
      o.only_if_missing = true;
    } else if (is_set && option == "xx" && !o.only_if_missing) {
      o.only_if_present = true;
    } else if (is_set && option == "get") {
      o.return_old = true;
    } else if (is_set && option == "keepttl" && !o.persist && o.expire_option.empty()) {
      o.keep_ttl = true;
    } else if (!is_set && option == "persist" && !o.keep_ttl && o.expire_option.empty()) {
      o.persist = true;
    } else if ((option == "ex" || option == "px" || option == "exat" || option == "pxat") &&
               has_next && expiry_allowed(o, option)) {
      o.expire_option = option;
      o.expire_text = argv[++i];
    } else {
      return std::nullopt;
    }
  }
  return o;
}

/// The absolute deadline for an expiry argument, as Redis's getExpireMillisecondsOrReply: not
/// an integer, <= 0 or overflowing gives an error reply in `error`. `relative` adds time_ms;
/// `seconds` multiplies by 1000.
std::optional<long long> deadline_of(std::string_view text, bool seconds, bool relative,
                                     std::uint64_t time_ms, std::string_view name,
                                     std::string& error) {
  auto when = parse_integer(text);
  if (!when) {
    error = error_reply(not_integer);
    return std::nullopt;
  }
  const auto base = static_cast<long long>(time_ms);
  if (*when <= 0 || (seconds && *when > llong_max / 1000) ||
      (relative && *when * (seconds ? 1000 : 1) > llong_max - base)) {
    error = invalid_expire_error(name);
    return std::nullopt;
  }
  if (seconds) *when *= 1000;
  if (relative) *when += base;
  return when;
}

std::optional<long long> option_deadline(const string_options& o, std::uint64_t time_ms,
                                         std::string_view name, std::string& error) {
  const bool seconds = o.expire_option == "ex" || o.expire_option == "exat";
  const bool relative = o.expire_option == "ex" || o.expire_option == "px";
  return deadline_of(o.expire_text, seconds, relative, time_ms, name, error);
}

/// Applies a deadline computed for `key`: one already passed deletes the key (Redis does the
/// same: the key would be expired at once). Returns whether it deleted the key.
bool apply_deadline(keyspace& keys, std::string_view key, entry& e, long long deadline,
                    std::uint64_t time_ms) {
  if (deadline <= static_cast<long long>(time_ms)) {
    keys.erase(key);
    return true;
  }
  keys.set_expiry(key, e, static_cast<std::uint64_t>(deadline));
  return false;
}

/// SET and SETEX's events once the value is stored: "set", then "expire" when a deadline was
/// given, as Redis. A deadline already passed deleted the key: Redis would find it expired at
/// the next access, prez deletes it at once and says "expired" right away.
void notify_set(keyspace& keys, std::string_view key, bool with_deadline, bool deleted) {
  keys.notify(notify::string, "set", key);
  if (with_deadline) keys.notify(notify::generic, "expire", key);
  if (deleted) keys.notify(notify::expired, "expired", key);
}

/// INCR/DECR/INCRBY/DECRBY once the increment is known.
std::string increment(keyspace& keys, const std::string& key, long long delta,
                      std::uint64_t time_ms) {
  entry* e = keys.find_live(key, time_ms);
  long long old = 0;
  if (e != nullptr) {
    const auto* text = std::get_if<std::string>(&e->data);
    if (text == nullptr) return wrong_type_reply();
    const auto parsed = parse_integer(*text);
    if (!parsed) return error_reply(not_integer);
    old = *parsed;
  }
  if ((delta < 0 && old < 0 && delta < std::numeric_limits<long long>::min() - old) ||
      (delta > 0 && old > 0 && delta > llong_max - old))
    return error_reply(overflow);
  const long long result = old + delta;
  if (e == nullptr)
    keys.insert(key, std::to_string(result));
  else
    replace_text(keys, *e, std::to_string(result));
  keys.notify(notify::string, "incrby", key);
  return integer(result);
}

/// SET's work once the options are parsed and the deadline is known (0: none).
std::string set_string(keyspace& keys, const argv_type& argv, const string_options& o,
                       long long deadline, std::uint64_t time_ms) {
  const std::string& key = argv[1];
  const entry* e = keys.peek_live(key, time_ms); // only read: put_string() saves the old value
  std::string reply = ok();
  if (o.return_old) {
    if (e == nullptr)
      reply = null_bulk();
    else if (const auto* old = std::get_if<std::string>(&e->data))
      reply = bulk(*old);
    else
      return wrong_type_reply();
  }
  if ((o.only_if_missing && e != nullptr) || (o.only_if_present && e == nullptr))
    return o.return_old ? reply : null_bulk();
  const std::uint64_t kept_deadline = (o.keep_ttl && e != nullptr) ? e->expires_at_ms : 0;
  entry& stored = keys.put_string(key, argv[2]);
  if (kept_deadline != 0) keys.set_expiry(key, stored, kept_deadline);
  const bool deleted = deadline != 0 && apply_deadline(keys, key, stored, deadline, time_ms);
  notify_set(keys, key, deadline != 0, deleted);
  return reply;
}

/// SETEX/PSETEX.
std::string set_with_expiry(keyspace& keys, const argv_type& argv, std::uint64_t time_ms,
                            bool seconds) {
  std::string error;
  const auto deadline = deadline_of(argv[2], seconds, true, time_ms, command_name(argv), error);
  if (!deadline) return error;
  entry& e = keys.put_string(argv[1], argv[3]);
  notify_set(keys, argv[1], true, apply_deadline(keys, argv[1], e, *deadline, time_ms));
  return ok();
}

std::string push_back_text(keyspace& keys, entry& e, std::string_view suffix) {
  auto& text = std::get<std::string>(e.data);
  text += suffix;
  keys.grow(e, suffix.size());
  return integer(static_cast<long long>(text.size()));
}

} // namespace

std::string check_set(const argv_type& argv) {
  return parse_string_options(argv, 3, true) ? std::string() : error_reply(syntax_error);
}

std::string set_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  const auto options = parse_string_options(argv, 3, true);
  if (!options) return error_reply(syntax_error);
  long long deadline = 0;
  if (!options->expire_option.empty()) {
    std::string error;
    const auto when = option_deadline(*options, time_ms, "set", error);
    if (!when) return error;
    deadline = *when;
  }
  return set_string(keys, argv, *options, deadline, time_ms);
}

std::string get_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  const entry* e = keys.find_visible(argv[1], now_ms);
  if (e == nullptr) return null_bulk();
  const auto* text = std::get_if<std::string>(&e->data);
  return text == nullptr ? wrong_type_reply() : bulk(*text);
}

std::string getset_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  string_options options;
  options.return_old = true;
  return set_string(keys, argv, options, 0, time_ms);
}

std::string getdel_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  const entry* e = keys.peek_live(argv[1], time_ms); // only read, then erased: nothing to save
  if (e == nullptr) return null_bulk();
  const auto* text = std::get_if<std::string>(&e->data);
  if (text == nullptr) return wrong_type_reply();
  std::string reply = bulk(*text);
  keys.erase(argv[1]);
  keys.notify(notify::generic, "del", argv[1]);
  return reply;
}

std::string getex_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  const auto options = parse_string_options(argv, 2, false);
  if (!options) return error_reply(syntax_error);
  long long deadline = 0;
  if (!options->expire_option.empty()) {
    std::string error;
    const auto when = option_deadline(*options, time_ms, "getex", error);
    if (!when) return error;
    deadline = *when;
  }
  entry* e = keys.find_live(argv[1], time_ms);
  if (e == nullptr) return null_bulk();
  const auto* text = std::get_if<std::string>(&e->data);
  if (text == nullptr) return wrong_type_reply();
  std::string reply = bulk(*text);
  if (deadline != 0) {
    const bool deleted = apply_deadline(keys, argv[1], *e, deadline, time_ms);
    keys.notify(notify::generic, deleted ? "del" : "expire", argv[1]);
  } else if (options->persist && e->expires_at_ms != 0) {
    keys.set_expiry(argv[1], *e, 0);
    keys.notify(notify::generic, "persist", argv[1]);
  }
  return reply;
}

std::string setnx_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  if (keys.peek_live(argv[1], time_ms) != nullptr) return integer(0);
  keys.insert(argv[1], argv[2]);
  keys.notify(notify::string, "set", argv[1]);
  return integer(1);
}

std::string setex_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return set_with_expiry(keys, argv, time_ms, true);
}

std::string psetex_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return set_with_expiry(keys, argv, time_ms, false);
}

std::string mget_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  std::string reply = array_header(argv.size() - 1);
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const entry* e = keys.find_visible(argv[i], now_ms);
    const auto* text = e == nullptr ? nullptr : std::get_if<std::string>(&e->data);
    reply += text == nullptr ? null_bulk() : bulk(*text);
  }
  return reply;
}

std::string mset_command(keyspace& keys, const argv_type& argv, std::uint64_t) {
  if (argv.size() % 2 == 0) return arity_error(command_name(argv));
  for (std::size_t i = 1; i + 1 < argv.size(); i += 2) {
    keys.put_string(argv[i], argv[i + 1]);
    keys.notify(notify::string, "set", argv[i]);
  }
  return ok();
}

std::string msetnx_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  if (argv.size() % 2 == 0) return arity_error(command_name(argv));
  for (std::size_t i = 1; i + 1 < argv.size(); i += 2)
    if (keys.peek_live(argv[i], time_ms) != nullptr) return integer(0);
  for (std::size_t i = 1; i + 1 < argv.size(); i += 2) {
    keys.put_string(argv[i], argv[i + 1]);
    keys.notify(notify::string, "set", argv[i]);
  }
  return integer(1);
}

std::string append_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  entry* e = keys.find_live(argv[1], time_ms);
  if (e == nullptr) {
    keys.insert(argv[1], argv[2]);
    keys.notify(notify::string, "append", argv[1]);
    return integer(static_cast<long long>(argv[2].size()));
  }
  const auto* text = std::get_if<std::string>(&e->data);
  if (text == nullptr) return wrong_type_reply();
  if (text->size() + argv[2].size() > limits::string_value_bytes_max) return error_reply(too_large);
  auto reply = push_back_text(keys, *e, argv[2]);
  keys.notify(notify::string, "append", argv[1]);
  return reply;
}

std::string strlen_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  const entry* e = keys.find_visible(argv[1], now_ms);
  if (e == nullptr) return integer(0);
  const auto* text = std::get_if<std::string>(&e->data);
  return text == nullptr ? wrong_type_reply() : integer(static_cast<long long>(text->size()));
}

std::string getrange_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  auto start = parse_integer(argv[2]);
  auto stop = parse_integer(argv[3]);
  if (!start || !stop) return error_reply(not_integer);
  const entry* e = keys.find_visible(argv[1], now_ms);
  if (e == nullptr) return bulk("");
  const auto* text = std::get_if<std::string>(&e->data);
  if (text == nullptr) return wrong_type_reply();
  const auto size = static_cast<long long>(text->size());
  if (*start < 0 && *stop < 0 && *start > *stop) return bulk("");
  if (*start < 0) *start += size;
  if (*stop < 0) *stop += size;
  *start = std::max(*start, 0LL);
  *stop = std::max(*stop, 0LL);
  if (*stop >= size) *stop = size - 1;
  if (*start > *stop || size == 0) return bulk("");
  return bulk(std::string_view(*text).substr(static_cast<std::size_t>(*start),
                                             static_cast<std::size_t>(*stop - *start + 1)));
}

std::string setrange_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  const auto offset = parse_integer(argv[2]);
  if (!offset) return error_reply(not_integer);
  if (*offset < 0) return error_reply("ERR offset is out of range");
  const auto at = static_cast<std::size_t>(*offset);
  const std::string& patch = argv[3];
  entry* e = keys.find_live(argv[1], time_ms);
  const auto* text = e == nullptr ? nullptr : std::get_if<std::string>(&e->data);
  if (e != nullptr && text == nullptr) return wrong_type_reply();
  if (patch.empty()) return integer(text == nullptr ? 0 : static_cast<long long>(text->size()));
  if (at > limits::string_value_bytes_max || at + patch.size() > limits::string_value_bytes_max)
    return error_reply(too_large);
  std::string updated = text == nullptr ? std::string() : *text;
  if (updated.size() < at + patch.size()) updated.resize(at + patch.size(), '\0');
  updated.replace(at, patch.size(), patch);
  const auto length = static_cast<long long>(updated.size());
  if (e == nullptr)
    keys.insert(argv[1], std::move(updated));
  else
    replace_text(keys, *e, std::move(updated));
  keys.notify(notify::string, "setrange", argv[1]);
  return integer(length);
}

std::string incr_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return increment(keys, argv[1], 1, time_ms);
}

std::string decr_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return increment(keys, argv[1], -1, time_ms);
}

std::string incrby_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  const auto delta = parse_integer(argv[2]);
  if (!delta) return error_reply(not_integer);
  return increment(keys, argv[1], *delta, time_ms);
}

std::string decrby_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  const auto delta = parse_integer(argv[2]);
  if (!delta) return error_reply(not_integer);
  if (*delta == std::numeric_limits<long long>::min())
    return error_reply("ERR decrement would overflow");
  return increment(keys, argv[1], -*delta, time_ms);
}

std::string incrbyfloat_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  entry* e = keys.find_live(argv[1], time_ms);
  long double old = 0;
  if (e != nullptr) {
    const auto* text = std::get_if<std::string>(&e->data);
    if (text == nullptr) return wrong_type_reply();
    const auto parsed = parse_float(*text);
    if (!parsed) return error_reply(not_float);
    old = *parsed;
  }
  const auto delta = parse_float(argv[2]);
  if (!delta) return error_reply(not_float);
  const long double result = old + *delta;
  if (std::isnan(result) || std::isinf(result)) return error_reply(nan_or_infinity);
  std::string text = format_float(result);
  std::string reply = bulk(text);
  if (e == nullptr)
    keys.insert(argv[1], std::move(text));
  else
    replace_text(keys, *e, std::move(text));
  keys.notify(notify::string, "incrbyfloat", argv[1]);
  return reply;
}

void replace_text(keyspace& keys, entry& e, std::string text) {
  keys.shrink(e, e.bytes);
  const std::size_t added = text.size();
  e.data = std::move(text);
  keys.grow(e, added);
}

} // namespace prez::kv
