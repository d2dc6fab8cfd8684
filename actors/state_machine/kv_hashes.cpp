// Hash commands with Redis 7's replies. Fields are kept sorted, so HKEYS, HVALS, HGETALL and
// HSCAN answer in field order on every replica (Redis answers small hashes in insertion order).

#include <cmath>
#include <limits>
#include <optional>

#include "actors/state_machine/kv_commands.hpp"
#include "config/limits.hpp"

namespace prez::kv {

namespace {

/// The hash at `key` for writing, or nullptr when absent; `wrong` is set for another type.
hash_value* hash_for_write(keyspace& keys, const std::string& key, std::uint64_t time_ms, entry*& e,
                           bool& wrong) {
  e = keys.find_live(key, time_ms);
  wrong = e != nullptr && !std::holds_alternative<hash_value>(e->data);
  return e == nullptr || wrong ? nullptr : &std::get<hash_value>(e->data);
}

/// The hash at `key` for reading, or nullptr when absent; `wrong` is set for another type.
const hash_value* hash_for_read(const keyspace& keys, const std::string& key, std::uint64_t now_ms,
                                bool& wrong) {
  const entry* e = keys.find_visible(key, now_ms);
  wrong = e != nullptr && !std::holds_alternative<hash_value>(e->data);
  return e == nullptr || wrong ? nullptr : &std::get<hash_value>(e->data);
}

/// The hash at `key`, created empty when absent; nullptr for another type.
entry* hash_entry_or_create(keyspace& keys, const std::string& key, std::uint64_t time_ms) {
  entry* e = nullptr;
  bool wrong = false;
  hash_for_write(keys, key, time_ms, e, wrong);
  if (wrong) return nullptr;
  return e != nullptr ? e : &keys.insert(key, hash_value{});
}

/// Sets one field; returns whether it was new.
bool set_field(keyspace& keys, entry& e, const std::string& field, const std::string& text) {
  auto& hash = std::get<hash_value>(e.data);
  const auto [it, inserted] = hash.try_emplace(field, text);
  if (inserted) {
    keys.grow(e, field_bytes(field, text));
    return true;
  }
  keys.shrink(e, it->second.size());
  it->second = text;
  keys.grow(e, text.size());
  return false;
}

std::string hset_generic(keyspace& keys, const argv_type& argv, std::uint64_t time_ms,
                         bool reply_ok) {
  if (argv.size() % 2 == 1) return arity_error(command_name(argv));
  entry* e = hash_entry_or_create(keys, argv[1], time_ms);
  if (e == nullptr) return wrong_type_reply();
  long long created = 0;
  for (std::size_t i = 2; i + 1 < argv.size(); i += 2)
    created += set_field(keys, *e, argv[i], argv[i + 1]) ? 1 : 0;
  keys.notify(notify::hash, "hset", argv[1]);
  return reply_ok ? ok() : integer(created);
}

/// HKEYS, HVALS, HGETALL.
std::string hash_listing(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms,
                         bool with_fields, bool with_values) {
  bool wrong = false;
  const hash_value* hash = hash_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  if (hash == nullptr) return array_header(0);
  const std::size_t per_field = (with_fields ? 1 : 0) + (with_values ? 1 : 0);
  std::string reply = array_header(hash->size() * per_field);
  for (const auto& [field, text] : *hash) {
    if (with_fields) reply += bulk(field);
    if (with_values) reply += bulk(text);
  }
  return reply;
}

/// The value a field update writes, or an error reply (first) when it cannot.
using field_update = std::pair<std::string, std::string>; // {error, new text}

std::string update_field(keyspace& keys, const argv_type& argv, std::uint64_t time_ms,
                         field_update (*compute)(const std::string* old, const std::string& arg),
                         bool reply_integer, std::string_view event) {
  entry* e = hash_entry_or_create(keys, argv[1], time_ms);
  if (e == nullptr) return wrong_type_reply();
  auto& hash = std::get<hash_value>(e->data);
  const auto found = hash.find(argv[2]);
  auto [error, text] = compute(found == hash.end() ? nullptr : &found->second, argv[3]);
  if (!error.empty()) {
    if (hash.empty()) keys.erase(argv[1]); // created for nothing
    return error;
  }
  // `text` is the new value as add_integer formatted it, so it reads back as a long long.
  std::string reply = reply_integer ? integer(std::stoll(text)) : bulk(text);
  set_field(keys, *e, argv[2], text);
  keys.notify(notify::hash, event, argv[1]);
  return reply;
}

field_update add_integer(const std::string* old, const std::string& arg) {
  const auto delta = parse_integer(arg);
  long long value = 0;
  if (old != nullptr) {
    const auto parsed = parse_integer(*old);
    if (!parsed) return {error_reply("ERR hash value is not an integer"), {}};
    value = *parsed;
  }
  if ((*delta < 0 && value < 0 && *delta < std::numeric_limits<long long>::min() - value) ||
      (*delta > 0 && value > 0 && *delta > std::numeric_limits<long long>::max() - value))
    return {error_reply(overflow), {}};
  return {{}, std::to_string(value + *delta)};
}

field_update add_float(const std::string* old, const std::string& arg) {
  const auto delta = parse_float(arg);
  long double value = 0;
  if (old != nullptr) {
    const auto parsed = parse_float(*old);
    if (!parsed) return {error_reply("ERR hash value is not a float"), {}};
    value = *parsed;
  }
  const long double result = value + *delta;
  if (std::isnan(result) || std::isinf(result)) return {error_reply(nan_or_infinity), {}};
  return {{}, format_float(result)};
}

} // namespace

std::string hset_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return hset_generic(keys, argv, time_ms, false);
}

std::string hmset_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return hset_generic(keys, argv, time_ms, true);
}

std::string hsetnx_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  entry* e = hash_entry_or_create(keys, argv[1], time_ms);
  if (e == nullptr) return wrong_type_reply();
  if (std::get<hash_value>(e->data).count(argv[2]) > 0) return integer(0);
  set_field(keys, *e, argv[2], argv[3]);
  keys.notify(notify::hash, "hset", argv[1]);
  return integer(1);
}

std::string hget_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  bool wrong = false;
  const hash_value* hash = hash_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  if (hash == nullptr) return null_bulk();
  const auto found = hash->find(argv[2]);
  return found == hash->end() ? null_bulk() : bulk(found->second);
}

std::string hmget_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  bool wrong = false;
  const hash_value* hash = hash_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  std::string reply = array_header(argv.size() - 2);
  for (std::size_t i = 2; i < argv.size(); ++i) {
    const auto found = hash == nullptr ? hash_value::const_iterator() : hash->find(argv[i]);
    reply += hash == nullptr || found == hash->end() ? null_bulk() : bulk(found->second);
  }
  return reply;
}

std::string hdel_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  entry* e = nullptr;
  bool wrong = false;
  hash_value* hash = hash_for_write(keys, argv[1], time_ms, e, wrong);
  if (wrong) return wrong_type_reply();
  if (hash == nullptr) return integer(0);
  long long removed = 0;
  for (std::size_t i = 2; i < argv.size(); ++i) {
    const auto found = hash->find(argv[i]);
    if (found == hash->end()) continue;
    keys.shrink(*e, field_bytes(found->first, found->second));
    hash->erase(found);
    ++removed;
  }
  if (removed > 0) keys.notify(notify::hash, "hdel", argv[1]);
  if (hash->empty()) erase_emptied(keys, argv[1]);
  return integer(removed);
}

std::string hexists_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  bool wrong = false;
  const hash_value* hash = hash_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  return integer(hash != nullptr && hash->count(argv[2]) > 0 ? 1 : 0);
}

std::string hlen_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  bool wrong = false;
  const hash_value* hash = hash_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  return integer(hash == nullptr ? 0 : static_cast<long long>(hash->size()));
}

std::string hkeys_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  return hash_listing(keys, argv, now_ms, true, false);
}

std::string hvals_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  return hash_listing(keys, argv, now_ms, false, true);
}

std::string hgetall_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  return hash_listing(keys, argv, now_ms, true, true);
}

std::string hincrby_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  if (!parse_integer(argv[3])) return error_reply(not_integer);
  return update_field(keys, argv, time_ms, &add_integer, true, "hincrby");
}

std::string hincrbyfloat_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  const auto delta = parse_float(argv[3]);
  if (!delta) return error_reply(not_float);
  if (std::isnan(*delta) || std::isinf(*delta)) return error_reply("ERR value is NaN or Infinity");
  return update_field(keys, argv, time_ms, &add_float, false, "hincrbyfloat");
}

std::string hstrlen_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  bool wrong = false;
  const hash_value* hash = hash_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  if (hash == nullptr) return integer(0);
  const auto found = hash->find(argv[2]);
  return integer(found == hash->end() ? 0 : static_cast<long long>(found->second.size()));
}

std::string hscan_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  const auto cursor = parse_cursor(argv[2]);
  if (!cursor) return error_reply("ERR invalid cursor");
  bool wrong = false;
  const hash_value* hash = hash_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  if (hash == nullptr) return scan_reply("0", std::vector<std::string_view>{});
  std::string error;
  const auto options = parse_scan_options(argv, 3, false, error);
  if (!options) return error;
  std::vector<std::string_view> fields;
  std::vector<std::string_view> texts;
  for (const auto& [field, text] : *hash) {
    fields.push_back(field);
    texts.push_back(text);
  }
  const auto page = scan_members(fields, *cursor, options->count);
  std::vector<std::string_view> items;
  for (auto i : page.picked) {
    if (!matches(*options, fields[i])) continue;
    items.push_back(fields[i]);
    items.push_back(texts[i]);
  }
  return scan_reply(std::to_string(page.next), items);
}

/// HRANDFIELD key [count [WITHVALUES]], as Redis 7.0 answers it, with prez's seeded draws (the
/// same seed rule as SRANDMEMBER and ZRANDMEMBER: the time, the key and its version). A count at
/// least the hash's size answers the whole hash, in field order (Redis: its listpack order); a
/// smaller positive count distinct fields in field order; a negative count that many independent
/// draws.
std::string hrandfield_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  std::optional<long long> count;
  bool with_values = false;
  if (auto error = parse_random_count(argv, "withvalues", count, with_values); !error.empty())
    return error;
  bool wrong = false;
  const hash_value* hash = hash_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  if (hash == nullptr) return count ? array_header(0) : null_bulk();
  seeded_random random{random_read_seed(keys, argv[1], now_ms)};
  const std::vector<const hash_value::value_type*> fields = [&] {
    std::vector<const hash_value::value_type*> all;
    all.reserve(hash->size());
    for (const auto& field : *hash)
      all.push_back(&field);
    return all;
  }();
  if (!count) return bulk(fields[random.below(fields.size())]->first);
  std::vector<const hash_value::value_type*> picked;
  if (*count >= 0 && static_cast<unsigned long long>(*count) >= fields.size()) {
    picked = fields;
  } else if (*count >= 0) {
    // Distinct fields in field order, by selection sampling (Knuth's algorithm S).
    const auto wanted = static_cast<std::size_t>(*count);
    std::size_t left = fields.size();
    for (const auto* field : fields) {
      if (picked.size() < wanted && random.below(left) < wanted - picked.size())
        picked.push_back(field);
      --left;
    }
  } else {
    for (long long i = 0; i < -*count; ++i)
      picked.push_back(fields[random.below(fields.size())]);
  }
  std::vector<std::string_view> items;
  for (const auto* field : picked) {
    items.push_back(field->first);
    if (with_values) items.push_back(field->second);
  }
  return bulk_array(items);
}

} // namespace prez::kv
