// Set commands with Redis 7's replies. Members are kept sorted, so SMEMBERS and the set algebra
// answer in member order on every replica. SPOP and SRANDMEMBER draw from a seeded generator:
// SPOP's seed comes from keyspace::draw(time_ms) (state + entry time, identical on every
// replica); SRANDMEMBER, a read, seeds from now_ms, the key and its version.

#include <algorithm>
#include <limits>

#include "actors/state_machine/kv_commands.hpp"
#include "config/limits.hpp"

namespace prez::kv {

namespace {

set_value* set_for_write(keyspace& keys, const std::string& key, std::uint64_t time_ms, entry*& e,
                         bool& wrong) {
  e = keys.find_live(key, time_ms);
  wrong = e != nullptr && !std::holds_alternative<set_value>(e->data);
  return e == nullptr || wrong ? nullptr : &std::get<set_value>(e->data);
}

const set_value* set_for_read(const keyspace& keys, const std::string& key, std::uint64_t now_ms,
                              bool& wrong) {
  const entry* e = keys.find_visible(key, now_ms);
  wrong = e != nullptr && !std::holds_alternative<set_value>(e->data);
  return e == nullptr || wrong ? nullptr : &std::get<set_value>(e->data);
}

bool add_member(keyspace& keys, entry& e, const std::string& member) {
  if (!std::get<set_value>(e.data).insert(member).second) return false;
  keys.grow(e, member.size());
  return true;
}

/// `count` distinct members of `set` in member order, by selection sampling (Knuth's
/// algorithm S): each member is taken with probability (still needed) / (still left).
std::vector<std::string> sample(const set_value& set, std::size_t count, seeded_random& random) {
  std::vector<std::string> picked;
  std::size_t left = set.size();
  for (auto it = set.begin(); it != set.end() && picked.size() < count; ++it, --left)
    if (random.below(left) < count - picked.size()) picked.push_back(*it);
  return picked;
}

enum class set_operation : std::uint8_t { intersection, union_of, difference };

/// The set algebra over argv[first..]; nullopt when some key holds another type. A missing key
/// is an empty set.
std::optional<set_value> combine(const keyspace& keys, const argv_type& argv, std::size_t first,
                                 set_operation operation, std::uint64_t now_ms) {
  std::vector<const set_value*> sets;
  for (std::size_t i = first; i < argv.size(); ++i) {
    bool wrong = false;
    sets.push_back(set_for_read(keys, argv[i], now_ms, wrong));
    if (wrong) return std::nullopt;
  }
  set_value result;
  if (sets[0] != nullptr) result = *sets[0];
  for (std::size_t i = 1; i < sets.size(); ++i) {
    const set_value* other = sets[i];
    if (operation == set_operation::union_of) {
      if (other != nullptr) result.insert(other->begin(), other->end());
      continue;
    }
    for (auto it = result.begin(); it != result.end();) {
      const bool in_other = other != nullptr && other->count(*it) > 0;
      const bool keep = operation == set_operation::intersection ? in_other : !in_other;
      it = keep ? std::next(it) : result.erase(it);
    }
  }
  return result;
}

std::string combine_read(const keyspace& keys, const argv_type& argv, set_operation operation,
                         std::uint64_t now_ms) {
  const auto result = combine(keys, argv, 1, operation, now_ms);
  return result ? bulk_array(*result) : wrong_type_reply();
}

std::string combine_store(keyspace& keys, const argv_type& argv, set_operation operation,
                          std::uint64_t time_ms) {
  for (std::size_t i = 2; i < argv.size(); ++i)
    keys.maybe_expire(argv[i], time_ms); // lazy expiry first, as any write lookup does
  auto result = combine(keys, argv, 2, operation, time_ms);
  if (!result) return wrong_type_reply();
  const auto size = static_cast<long long>(result->size());
  const bool existed = keys.erase(argv[1]);
  if (size > 0) {
    keys.insert(argv[1], std::move(*result));
    keys.notify(notify::set,
                operation == set_operation::intersection ? "sinterstore"
                : operation == set_operation::union_of   ? "sunionstore"
                                                         : "sdiffstore",
                argv[1]);
  } else if (existed) {
    keys.notify(notify::generic, "del", argv[1]);
  }
  return integer(size);
}

std::string pop_random(keyspace& keys, const argv_type& argv, std::uint64_t time_ms, bool has_count,
                       std::size_t count) {
  entry* e = nullptr;
  bool wrong = false;
  set_value* set = set_for_write(keys, argv[1], time_ms, e, wrong);
  if (wrong) return wrong_type_reply();
  if (set == nullptr) return has_count ? array_header(0) : null_bulk();
  if (has_count && count == 0) return array_header(0);
  seeded_random random{keys.draw(time_ms)};
  const std::vector<std::string> picked = sample(*set, std::min(count, set->size()), random);
  for (const auto& member : picked) {
    set->erase(member);
    keys.shrink(*e, member.size());
  }
  keys.notify(notify::set, "spop", argv[1]);
  if (set->empty()) erase_emptied(keys, argv[1]);
  return has_count ? bulk_array(picked) : bulk(picked.front());
}

std::string random_members(const set_value& set, long long count, std::uint64_t seed) {
  seeded_random random{seed};
  if (count >= 0) return bulk_array(sample(set, std::min<std::size_t>(count, set.size()), random));
  // A negative count may repeat members: -count independent draws.
  const auto draws = static_cast<std::size_t>(-count);
  std::vector<const std::string*> members;
  for (const auto& member : set)
    members.push_back(&member);
  std::string reply = array_header(draws);
  for (std::size_t i = 0; i < draws; ++i)
    reply += bulk(*members[random.below(members.size())]);
  return reply;
}

} // namespace

std::string sadd_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  entry* e = nullptr;
  bool wrong = false;
  set_for_write(keys, argv[1], time_ms, e, wrong);
  if (wrong) return wrong_type_reply();
  if (e == nullptr) e = &keys.insert(argv[1], set_value{});
  long long added = 0;
  for (std::size_t i = 2; i < argv.size(); ++i)
    added += add_member(keys, *e, argv[i]) ? 1 : 0;
  if (added > 0) keys.notify(notify::set, "sadd", argv[1]);
  return integer(added);
}

std::string srem_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  entry* e = nullptr;
  bool wrong = false;
  set_value* set = set_for_write(keys, argv[1], time_ms, e, wrong);
  if (wrong) return wrong_type_reply();
  if (set == nullptr) return integer(0);
  long long removed = 0;
  for (std::size_t i = 2; i < argv.size(); ++i) {
    if (set->erase(argv[i]) == 0) continue;
    keys.shrink(*e, argv[i].size());
    ++removed;
  }
  if (removed > 0) keys.notify(notify::set, "srem", argv[1]);
  if (set->empty()) erase_emptied(keys, argv[1]);
  return integer(removed);
}

std::string smembers_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  bool wrong = false;
  const set_value* set = set_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  return set == nullptr ? array_header(0) : bulk_array(*set);
}

std::string sismember_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  bool wrong = false;
  const set_value* set = set_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  return integer(set != nullptr && set->count(argv[2]) > 0 ? 1 : 0);
}

std::string smismember_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  bool wrong = false;
  const set_value* set = set_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  std::string reply = array_header(argv.size() - 2);
  for (std::size_t i = 2; i < argv.size(); ++i)
    reply += integer(set != nullptr && set->count(argv[i]) > 0 ? 1 : 0);
  return reply;
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]: the size of the intersection, counting stops
/// at LIMIT (0: no limit). Every key is type-checked, even after a missing one, as Redis does.
std::string sintercard_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  const auto numkeys = parse_integer(argv[1]);
  if (!numkeys || *numkeys <= 0) return error_reply("ERR numkeys should be greater than 0");
  if (static_cast<unsigned long long>(*numkeys) > argv.size() - 2)
    return error_reply("ERR Number of keys can't be greater than number of args");
  const std::size_t first = 2;
  const std::size_t end = first + static_cast<std::size_t>(*numkeys);
  long long limit = 0;
  for (std::size_t i = end; i < argv.size(); i += 2) {
    if (!is_word(argv[i], "limit") || i + 1 >= argv.size()) return error_reply(syntax_error);
    const auto parsed = parse_integer(argv[i + 1]);
    if (!parsed || *parsed < 0) return error_reply("ERR LIMIT can't be negative");
    limit = *parsed;
  }
  std::vector<const set_value*> sets;
  bool missing = false;
  for (std::size_t i = first; i < end; ++i) {
    bool wrong = false;
    const set_value* set = set_for_read(keys, argv[i], now_ms, wrong);
    if (wrong) return wrong_type_reply();
    if (set == nullptr) missing = true;
    sets.push_back(set);
  }
  if (missing) return integer(0);
  // Walk the smallest set and probe the others.
  std::sort(sets.begin(), sets.end(), [](auto* a, auto* b) { return a->size() < b->size(); });
  long long count = 0;
  for (const auto& member : *sets.front()) {
    bool everywhere = true;
    for (std::size_t i = 1; i < sets.size() && everywhere; ++i)
      everywhere = sets[i]->count(member) > 0;
    if (everywhere && ++count == limit) break;
  }
  return integer(count);
}

std::string scard_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  bool wrong = false;
  const set_value* set = set_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  return integer(set == nullptr ? 0 : static_cast<long long>(set->size()));
}

std::string spop_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  if (argv.size() > 3) return error_reply(syntax_error);
  if (argv.size() == 2) return pop_random(keys, argv, time_ms, false, 1);
  const auto count = parse_integer(argv[2]);
  if (!count || *count < 0) return error_reply(not_positive);
  return pop_random(keys, argv, time_ms, true, static_cast<std::size_t>(*count));
}

std::string srandmember_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  if (argv.size() > 3) return error_reply(syntax_error);
  std::optional<long long> count;
  if (argv.size() == 3) {
    count = parse_integer(argv[2]);
    if (!count) return error_reply(not_integer);
    if (*count == std::numeric_limits<long long>::min())
      return error_reply("ERR value is out of range, value must between -9223372036854775807 and "
                         "9223372036854775807");
    if (*count < 0 && static_cast<std::size_t>(-*count) > limits::kv_random_reply_elements_max)
      return error_reply("ERR value is out of range");
  }
  bool wrong = false;
  const set_value* set = set_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  if (set == nullptr) return count ? array_header(0) : null_bulk();
  const std::uint64_t seed = random_read_seed(keys, argv[1], now_ms);
  if (!count) {
    seeded_random random{seed};
    return bulk(sample(*set, 1, random).front());
  }
  return random_members(*set, *count, seed);
}

std::string smove_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  entry* from = nullptr;
  entry* to = nullptr;
  bool wrong_from = false;
  bool wrong_to = false;
  set_value* source = set_for_write(keys, argv[1], time_ms, from, wrong_from);
  set_for_write(keys, argv[2], time_ms, to, wrong_to);
  if (from == nullptr) return integer(0);
  if (wrong_from || wrong_to) return wrong_type_reply();
  if (from == to) return integer(source->count(argv[3]) > 0 ? 1 : 0);
  if (source->erase(argv[3]) == 0) return integer(0);
  keys.shrink(*from, argv[3].size());
  keys.notify(notify::set, "srem", argv[1]);
  if (source->empty()) erase_emptied(keys, argv[1]);
  if (to == nullptr) to = &keys.insert(argv[2], set_value{});
  if (add_member(keys, *to, argv[3])) keys.notify(notify::set, "sadd", argv[2]);
  return integer(1);
}

std::string sinter_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  return combine_read(keys, argv, set_operation::intersection, now_ms);
}

std::string sunion_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  return combine_read(keys, argv, set_operation::union_of, now_ms);
}

std::string sdiff_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  return combine_read(keys, argv, set_operation::difference, now_ms);
}

std::string sinterstore_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return combine_store(keys, argv, set_operation::intersection, time_ms);
}

std::string sunionstore_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return combine_store(keys, argv, set_operation::union_of, time_ms);
}

std::string sdiffstore_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return combine_store(keys, argv, set_operation::difference, time_ms);
}

std::string sscan_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  const auto cursor = parse_cursor(argv[2]);
  if (!cursor) return error_reply("ERR invalid cursor");
  bool wrong = false;
  const set_value* set = set_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  if (set == nullptr) return scan_reply("0", std::vector<std::string_view>{});
  std::string error;
  const auto options = parse_scan_options(argv, 3, false, error);
  if (!options) return error;
  const std::vector<std::string_view> all(set->begin(), set->end());
  const auto page = scan_members(all, *cursor, options->count);
  std::vector<std::string_view> members;
  for (auto i : page.picked)
    if (matches(*options, all[i])) members.push_back(all[i]);
  return scan_reply(std::to_string(page.next), members);
}

} // namespace prez::kv
