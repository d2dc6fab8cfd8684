// The blocking commands: BLPOP, BRPOP, BRPOPLPUSH, BLMOVE, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP, and
// XREAD and XREADGROUP with BLOCK (kv_streams.cpp, kv_stream_groups.cpp), parsed
// as Redis 7.0 parses them (its errors in its order). A blocking command that finds data runs as
// its non-blocking twin (LPOP, LMOVE, LMPOP, ZPOPMIN, ZMPOP) on the first key that has some; one
// that finds none blocks its client (kv_state::apply_client, blocked_clients.hpp) or, where a
// client cannot block (inside MULTI), answers as a timeout at once, as Redis does.

#include <algorithm>
#include <cmath>

#include "actors/state_machine/kv_commands.hpp"

namespace prez::kv {

namespace {

/// Redis's getTimeoutFromObjectOrReply in seconds: a long double, ceil(seconds * 1000) ms.
std::optional<std::uint64_t> parse_timeout(const std::string& text, std::string& error) {
  const auto seconds = parse_float(text);
  if (!seconds) {
    error = error_reply("ERR timeout is not a float or out of range");
    return std::nullopt;
  }
  const long double ms = std::ceil(*seconds * 1000.0L);
  // Redis converts to a long long: on x86-64 a value past its range becomes LLONG_MIN, so
  // Redis 7.0 answers "negative" for it (1e400); prez says the same.
  if (ms < 0 || ms >= 9223372036854775808.0L) {
    error = error_reply("ERR timeout is negative");
    return std::nullopt;
  }
  if (ms > static_cast<long double>(blocking_timeout_ms_max)) {
    error = error_reply("ERR timeout is out of range");
    return std::nullopt;
  }
  return static_cast<std::uint64_t>(ms);
}

bool is_side(const std::string& text) {
  return is_word(text, "left") || is_word(text, "right");
}

/// The first of call.keys holding data of the call's family: the key, or nullptr with `wrong`
/// set when a key before one holds another type (Redis answers WRONGTYPE then), or nullptr.
const std::string* first_ready(keyspace& keys, const blocking_call& call, std::uint64_t time_ms,
                               bool& wrong) {
  wrong = false;
  for (const auto& key : call.keys) {
    const entry* e = keys.peek_live(key, time_ms);
    if (e == nullptr) continue;
    const bool fits = call.zset ? std::holds_alternative<zset_value>(e->data)
                                : std::holds_alternative<list_value>(e->data);
    if (!fits) {
      wrong = true;
      return nullptr;
    }
    return &key; // an empty list or sorted set is deleted, so this one has data
  }
  return nullptr;
}

} // namespace

bool parse_mpop(const argv_type& argv, std::size_t numkeys_at, bool zset, blocking_call& call,
                std::string& error) {
  const auto numkeys = parse_integer(argv[numkeys_at]);
  if (!numkeys || *numkeys < 1) {
    error = error_reply("ERR numkeys should be greater than 0");
    return false;
  }
  if (static_cast<unsigned long long>(*numkeys) >= argv.size() - numkeys_at - 1) {
    error = error_reply(syntax_error); // no room for the side after the keys
    return false;
  }
  const std::size_t side_at = numkeys_at + 1 + static_cast<std::size_t>(*numkeys);
  const bool side_ok = zset ? is_word(argv[side_at], "min") || is_word(argv[side_at], "max")
                            : is_side(argv[side_at]);
  if (!side_ok) {
    error = error_reply(syntax_error);
    return false;
  }
  call.side = argv[side_at];
  for (std::size_t i = side_at + 1; i < argv.size(); ++i) {
    if (call.count.empty() && is_word(argv[i], "count") && i + 1 < argv.size()) {
      const auto parsed = parse_integer(argv[++i]);
      if (!parsed || *parsed < 1) {
        error = error_reply("ERR count should be greater than 0");
        return false;
      }
      call.count = argv[i];
    } else {
      error = error_reply(syntax_error);
      return false;
    }
  }
  call.keys.assign(argv.begin() + static_cast<std::ptrdiff_t>(numkeys_at) + 1,
                   argv.begin() + static_cast<std::ptrdiff_t>(side_at));
  return true;
}

std::optional<blocking_call> parse_blocking(const argv_type& argv, std::string& error) {
  error.clear();
  if (argv.empty()) return std::nullopt;
  const std::string name = lowercase(argv[0]);
  blocking_call call;
  std::size_t timeout_at = argv.size() - 1;
  if (name == "blpop" || name == "brpop" || name == "bzpopmin" || name == "bzpopmax") {
    if (argv.size() < 3) return std::nullopt;
    call.zset = name[1] == 'z';
    call.keys.assign(argv.begin() + 1, argv.end() - 1);
  } else if (name == "brpoplpush") {
    if (argv.size() != 4) return std::nullopt;
    call.keys = {argv[1]};
  } else if (name == "blmove") {
    if (argv.size() != 6) return std::nullopt;
    if (!is_side(argv[3]) || !is_side(argv[4])) {
      error = error_reply(syntax_error);
      return std::nullopt;
    }
    call.keys = {argv[1]};
  } else if (name == "blmpop" || name == "bzmpop") {
    if (argv.size() < 5) return std::nullopt;
    call.zset = name[1] == 'z';
    if (!parse_mpop(argv, 2, call.zset, call, error)) return std::nullopt;
    timeout_at = 1;
  } else if (name == "xread" || name == "xreadgroup") {
    auto xread = parse_xread(argv, error);
    if (!xread || !xread->block) return std::nullopt; // not blocking, or wrong (`error` says)
    call.stream = true;
    call.keys = xread->keys;
    call.timeout_ms = *xread->block;
    call.xread = std::move(xread);
  } else {
    return std::nullopt;
  }
  if (!call.stream) {
    const auto timeout = parse_timeout(argv[timeout_at], error);
    if (!timeout) return std::nullopt;
    call.timeout_ms = *timeout;
  }
  if (call.keys.size() > blocking_keys_max) {
    error = error_reply("ERR prez blocks on at most " + std::to_string(blocking_keys_max) +
                        " keys at once");
    return std::nullopt;
  }
  return call;
}

std::optional<std::string> serve_blocked(keyspace& keys, const argv_type& argv,
                                         const blocking_call& call, const std::string& key,
                                         std::uint64_t time_ms) {
  const entry* e = keys.peek_live(key, time_ms);
  if (e == nullptr) return std::nullopt;
  if (call.stream) {
    const xread_call& xread = *call.xread;
    if (xread.group) return xreadgroup_serve_blocked(keys, xread, key, time_ms);
    const auto index = static_cast<std::size_t>(std::find(call.keys.begin(), call.keys.end(), key) -
                                                call.keys.begin());
    auto reply = xread_ready(keys, argv, xread, time_ms, index);
    if (!reply || reply->starts_with("-")) return std::nullopt; // nothing new, or not a stream
    return reply;
  }
  const bool fits = call.zset ? std::holds_alternative<zset_value>(e->data)
                              : std::holds_alternative<list_value>(e->data);
  if (!fits) return std::nullopt;
  const std::string name = lowercase(argv[0]);
  if (name == "blpop" || name == "brpop") {
    std::string element = name == "blpop" ? lpop_command(keys, {"LPOP", key}, time_ms)
                                          : rpop_command(keys, {"RPOP", key}, time_ms);
    return array_header(2) + bulk(key) + element;
  }
  if (name == "bzpopmin" || name == "bzpopmax") {
    std::string pair = name == "bzpopmin" ? zpopmin_command(keys, {"ZPOPMIN", key}, time_ms)
                                          : zpopmax_command(keys, {"ZPOPMAX", key}, time_ms);
    const std::string two = array_header(2);
    if (pair.compare(0, two.size(), two) != 0) return pair; // not [member, score]: an error
    return array_header(3) + bulk(key) + pair.substr(two.size());
  }
  if (name == "brpoplpush")
    return rpoplpush_command(keys, {"RPOPLPUSH", argv[1], argv[2]}, time_ms);
  if (name == "blmove")
    return lmove_command(keys, {"LMOVE", argv[1], argv[2], argv[3], argv[4]}, time_ms);
  argv_type twin{call.zset ? "ZMPOP" : "LMPOP", "1", key, call.side};
  if (!call.count.empty()) {
    twin.emplace_back("COUNT");
    twin.push_back(call.count);
  }
  return call.zset ? zmpop_command(keys, twin, time_ms) : lmpop_command(keys, twin, time_ms);
}

std::optional<std::string> try_blocking(keyspace& keys, const argv_type& argv,
                                        const blocking_call& call, std::uint64_t time_ms) {
  if (call.stream) {
    if (call.xread->group) return xreadgroup_ready(keys, argv, *call.xread, time_ms);
    return xread_ready(keys, argv, *call.xread, time_ms, xread_all);
  }
  bool wrong = false;
  const std::string* key = first_ready(keys, call, time_ms, wrong);
  if (wrong) return wrong_type_reply();
  if (key == nullptr) return std::nullopt;
  return serve_blocked(keys, argv, call, *key, time_ms);
}

std::string blocking_timed_out_reply() {
  return null_array(); // Redis answers every timed out blocking pop with a null array
}

/// The handler of every blocking command where its client cannot block (inside MULTI, or
/// kv_state::apply()): what it finds, or at once what a timeout answers (BLMOVE and BRPOPLPUSH
/// a null bulk, as Redis 7.0 answers them then).
std::string blocking_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  std::string error;
  const auto call = parse_blocking(argv, error);
  if (!call) return error.empty() ? error_reply(syntax_error) : error;
  if (auto reply = try_blocking(keys, argv, *call, time_ms)) return std::move(*reply);
  const std::string name = lowercase(argv[0]);
  return name == "blmove" || name == "brpoplpush" ? null_bulk() : null_array();
}

} // namespace prez::kv

namespace prez {

std::optional<std::uint64_t> blocking_timeout_ms(const std::vector<std::string>& argv) {
  std::string error;
  const auto call = kv::parse_blocking(argv, error);
  if (!call) return std::nullopt;
  return call->timeout_ms;
}

} // namespace prez
