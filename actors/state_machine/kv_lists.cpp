// List commands with Redis 7's replies. The blocking forms (BLPOP, BLMOVE, ...) are in
// kv_blocking.cpp.

#include <algorithm>
#include <limits>

#include "actors/state_machine/kv_commands.hpp"

namespace prez::kv {

namespace {

list_value* list_for_write(keyspace& keys, const std::string& key, std::uint64_t time_ms, entry*& e,
                           bool& wrong) {
  e = keys.find_live(key, time_ms);
  wrong = e != nullptr && !std::holds_alternative<list_value>(e->data);
  return e == nullptr || wrong ? nullptr : &std::get<list_value>(e->data);
}

const list_value* list_for_read(const keyspace& keys, const std::string& key, std::uint64_t now_ms,
                                bool& wrong) {
  const entry* e = keys.find_visible(key, now_ms);
  wrong = e != nullptr && !std::holds_alternative<list_value>(e->data);
  return e == nullptr || wrong ? nullptr : &std::get<list_value>(e->data);
}

void push(keyspace& keys, entry& e, std::string item, bool left) {
  auto& list = std::get<list_value>(e.data);
  const std::size_t added = item.size();
  if (left)
    list.push_front(std::move(item));
  else
    list.push_back(std::move(item));
  keys.grow(e, added);
}

std::string pop_one(keyspace& keys, entry& e, bool left) {
  auto& list = std::get<list_value>(e.data);
  std::string item = left ? std::move(list.front()) : std::move(list.back());
  if (left)
    list.pop_front();
  else
    list.pop_back();
  keys.shrink(e, item.size());
  return item;
}

/// LPUSH, RPUSH, LPUSHX, RPUSHX.
std::string push_generic(keyspace& keys, const argv_type& argv, std::uint64_t time_ms, bool left,
                         bool only_if_present) {
  entry* e = nullptr;
  bool wrong = false;
  list_value* list = list_for_write(keys, argv[1], time_ms, e, wrong);
  if (wrong) return wrong_type_reply();
  if (list == nullptr) {
    if (only_if_present) return integer(0);
    e = &keys.insert(argv[1], list_value{});
  }
  for (std::size_t i = 2; i < argv.size(); ++i)
    push(keys, *e, argv[i], left);
  keys.notify(notify::list, left ? "lpush" : "rpush", argv[1]);
  return integer(static_cast<long long>(std::get<list_value>(e->data).size()));
}

/// LPOP, RPOP with an optional count.
std::string pop_generic(keyspace& keys, const argv_type& argv, std::uint64_t time_ms, bool left) {
  if (argv.size() > 3) return arity_error(command_name(argv));
  const bool has_count = argv.size() == 3;
  long long count = 1;
  if (has_count) {
    const auto parsed = parse_integer(argv[2]);
    if (!parsed || *parsed < 0) return error_reply(not_positive);
    count = *parsed;
  }
  entry* e = nullptr;
  bool wrong = false;
  list_value* list = list_for_write(keys, argv[1], time_ms, e, wrong);
  if (wrong) return wrong_type_reply();
  if (list == nullptr) return has_count ? null_array() : null_bulk();
  if (has_count && count == 0) return array_header(0);
  const auto taken = std::min(static_cast<std::size_t>(count), list->size());
  std::string reply = has_count ? array_header(taken) : std::string();
  for (std::size_t i = 0; i < taken; ++i)
    reply += bulk(pop_one(keys, *e, left));
  keys.notify(notify::list, left ? "lpop" : "rpop", argv[1]);
  if (list->empty()) erase_emptied(keys, argv[1]);
  return reply;
}

/// LEFT or RIGHT (case-insensitive): true for LEFT; nullopt otherwise.
std::optional<bool> parse_side(const std::string& text) {
  if (is_word(text, "left")) return true;
  if (is_word(text, "right")) return false;
  return std::nullopt;
}

std::string move_generic(keyspace& keys, const std::string& source, const std::string& target,
                         bool from_left, bool to_left, std::uint64_t time_ms) {
  entry* from = nullptr;
  bool wrong = false;
  list_value* list = list_for_write(keys, source, time_ms, from, wrong);
  if (wrong) return wrong_type_reply();
  if (list == nullptr) return null_bulk();
  entry* to = nullptr;
  list_for_write(keys, target, time_ms, to, wrong);
  if (wrong) return wrong_type_reply();
  std::string item = pop_one(keys, *from, from_left);
  std::string reply = bulk(item);
  if (to == nullptr) to = &keys.insert(target, list_value{});
  push(keys, *to, std::move(item), to_left);
  keys.notify(notify::list, to_left ? "lpush" : "rpush", target);
  keys.notify(notify::list, from_left ? "lpop" : "rpop", source);
  if (list->empty()) erase_emptied(keys, source);
  return reply;
}

/// LPOS's RANK, COUNT and MAXLEN (count -1: not given).
struct lpos_options {
  long long rank = 1;
  long long count = -1;
  long long length_max = 0;
};

std::optional<lpos_options> parse_lpos(const argv_type& argv, std::string& error) {
  lpos_options o;
  for (std::size_t i = 3; i < argv.size(); ++i) {
    const bool has_value = i + 1 < argv.size();
    if (has_value && is_word(argv[i], "rank")) {
      const auto rank = parse_integer(argv[++i]);
      if (!rank)
        error = error_reply(not_integer);
      else if (*rank == std::numeric_limits<long long>::min())
        error = error_reply("ERR value is out of range, value must between "
                            "-9223372036854775807 and 9223372036854775807");
      else if (*rank == 0)
        error = error_reply("ERR RANK can't be zero: use 1 to start from the first match, 2 "
                            "from the second ... or use negative to start from the end of the "
                            "list");
      else
        o.rank = *rank;
    } else if (has_value && (is_word(argv[i], "count") || is_word(argv[i], "maxlen"))) {
      const bool is_count = is_word(argv[i], "count");
      const auto number = parse_integer(argv[++i]);
      if (!number || *number < 0)
        error =
            error_reply(is_count ? "ERR COUNT can't be negative" : "ERR MAXLEN can't be negative");
      else
        (is_count ? o.count : o.length_max) = *number;
    } else {
      error = error_reply(syntax_error);
    }
    if (!error.empty()) return std::nullopt;
  }
  return o;
}

} // namespace

std::string lpush_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return push_generic(keys, argv, time_ms, true, false);
}

std::string rpush_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return push_generic(keys, argv, time_ms, false, false);
}

std::string lpushx_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return push_generic(keys, argv, time_ms, true, true);
}

std::string rpushx_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return push_generic(keys, argv, time_ms, false, true);
}

std::string lpop_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return pop_generic(keys, argv, time_ms, true);
}

std::string rpop_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return pop_generic(keys, argv, time_ms, false);
}

std::string llen_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  bool wrong = false;
  const list_value* list = list_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  return integer(list == nullptr ? 0 : static_cast<long long>(list->size()));
}

std::string lrange_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  const auto start = parse_integer(argv[2]);
  const auto stop = parse_integer(argv[3]);
  if (!start || !stop) return error_reply(not_integer);
  bool wrong = false;
  const list_value* list = list_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  if (list == nullptr) return array_header(0);
  const auto range = clamp_range(*start, *stop, list->size());
  if (!range) return array_header(0);
  std::string reply = array_header(range->second - range->first + 1);
  for (std::size_t i = range->first; i <= range->second; ++i)
    reply += bulk((*list)[i]);
  return reply;
}

std::string lindex_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  bool wrong = false;
  const list_value* list = list_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  if (list == nullptr) return null_bulk();
  auto index = parse_integer(argv[2]);
  if (!index) return error_reply(not_integer);
  const auto size = static_cast<long long>(list->size());
  if (*index < 0) *index += size;
  if (*index < 0 || *index >= size) return null_bulk();
  return bulk((*list)[static_cast<std::size_t>(*index)]);
}

std::string lset_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  entry* e = nullptr;
  bool wrong = false;
  list_value* list = list_for_write(keys, argv[1], time_ms, e, wrong);
  if (wrong) return wrong_type_reply();
  if (list == nullptr) return error_reply(no_such_key);
  auto index = parse_integer(argv[2]);
  if (!index) return error_reply(not_integer);
  const auto size = static_cast<long long>(list->size());
  if (*index < 0) *index += size;
  if (*index < 0 || *index >= size) return error_reply("ERR index out of range");
  std::string& item = (*list)[static_cast<std::size_t>(*index)];
  keys.shrink(*e, item.size());
  item = argv[3];
  keys.grow(*e, item.size());
  keys.notify(notify::list, "lset", argv[1]);
  return ok();
}

std::string lrem_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  const auto count = parse_integer(argv[2]);
  if (!count) return error_reply(not_integer);
  entry* e = nullptr;
  bool wrong = false;
  list_value* list = list_for_write(keys, argv[1], time_ms, e, wrong);
  if (wrong) return wrong_type_reply();
  if (list == nullptr) return integer(0);
  // |count| matches from the head (count > 0) or the tail (count < 0); 0 removes all.
  const bool from_tail = *count < 0;
  const unsigned long long limit = *count == 0 ? ~0ULL : (from_tail ? 0ULL - *count : *count);
  list_value kept;
  unsigned long long removed = 0;
  const std::size_t size = list->size();
  for (std::size_t step = 0; step < size; ++step) {
    std::string& item = (*list)[from_tail ? size - 1 - step : step];
    const bool drop = removed < limit && item == argv[3];
    removed += drop ? 1 : 0;
    if (drop) continue;
    if (from_tail)
      kept.push_front(std::move(item));
    else
      kept.push_back(std::move(item));
  }
  *list = std::move(kept); // items were moved into `kept` whether or not any matched
  if (removed == 0) return integer(0);
  keys.shrink(*e, removed * argv[3].size());
  keys.notify(notify::list, "lrem", argv[1]);
  if (list->empty()) erase_emptied(keys, argv[1]);
  return integer(static_cast<long long>(removed));
}

std::string ltrim_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  const auto start = parse_integer(argv[2]);
  const auto stop = parse_integer(argv[3]);
  if (!start || !stop) return error_reply(not_integer);
  entry* e = nullptr;
  bool wrong = false;
  list_value* list = list_for_write(keys, argv[1], time_ms, e, wrong);
  if (wrong) return wrong_type_reply();
  if (list == nullptr) return ok();
  const auto range = clamp_range(*start, *stop, list->size());
  const std::size_t keep_first = range ? range->first : list->size();
  const std::size_t keep_last = range ? range->second + 1 : list->size();
  while (list->size() > keep_last)
    pop_one(keys, *e, false);
  for (std::size_t i = 0; i < keep_first; ++i)
    pop_one(keys, *e, true);
  keys.notify(notify::list, "ltrim", argv[1]);
  if (list->empty()) erase_emptied(keys, argv[1]);
  return ok();
}

std::string linsert_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  const bool before = is_word(argv[2], "before");
  if (!before && !is_word(argv[2], "after")) return error_reply(syntax_error);
  entry* e = nullptr;
  bool wrong = false;
  list_value* list = list_for_write(keys, argv[1], time_ms, e, wrong);
  if (wrong) return wrong_type_reply();
  if (list == nullptr) return integer(0);
  auto pivot = std::find(list->begin(), list->end(), argv[3]);
  if (pivot == list->end()) return integer(-1);
  list->insert(before ? pivot : pivot + 1, argv[4]);
  keys.grow(*e, argv[4].size());
  keys.notify(notify::list, "linsert", argv[1]);
  return integer(static_cast<long long>(list->size()));
}

std::string lpos_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  std::string error;
  const auto options = parse_lpos(argv, error);
  if (!options) return error;
  bool wrong = false;
  const list_value* list = list_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  const bool as_array = options->count != -1;
  if (list == nullptr) return as_array ? array_header(0) : null_bulk();
  const bool from_tail = options->rank < 0;
  const unsigned long long skip = (from_tail ? 0ULL - options->rank : options->rank) - 1;
  const std::size_t size = list->size();
  const std::size_t scan_max =
      options->length_max == 0 ? size : std::min<std::size_t>(size, options->length_max);
  // Without COUNT only the first match matters; COUNT 0 means every match.
  const unsigned long long wanted =
      !as_array ? 1ULL
                : (options->count == 0 ? ~0ULL : static_cast<unsigned long long>(options->count));
  std::vector<long long> found;
  unsigned long long matched = 0;
  for (std::size_t step = 0; step < scan_max && found.size() < wanted; ++step) {
    const std::size_t index = from_tail ? size - 1 - step : step;
    if ((*list)[index] != argv[2] || matched++ < skip) continue;
    found.push_back(static_cast<long long>(index));
  }
  if (!as_array) return found.empty() ? null_bulk() : integer(found.front());
  std::string reply = array_header(found.size());
  for (const long long index : found)
    reply += integer(index);
  return reply;
}

std::string lmove_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  const auto from_left = parse_side(argv[3]);
  const auto to_left = parse_side(argv[4]);
  if (!from_left || !to_left) return error_reply(syntax_error);
  return move_generic(keys, argv[1], argv[2], *from_left, *to_left, time_ms);
}

std::string rpoplpush_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return move_generic(keys, argv[1], argv[2], false, true, time_ms);
}

std::string lmpop_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  blocking_call call;
  std::string error;
  if (!parse_mpop(argv, 1, false, call, error)) return error;
  const bool left = is_word(call.side, "left");
  const std::size_t count =
      call.count.empty() ? 1 : static_cast<std::size_t>(*parse_integer(call.count));
  for (const auto& key : call.keys) {
    entry* e = nullptr;
    bool wrong = false;
    list_value* list = list_for_write(keys, key, time_ms, e, wrong);
    if (wrong) return wrong_type_reply();
    if (list == nullptr) continue;
    const auto taken = std::min(count, list->size());
    std::string reply = array_header(2) + bulk(key) + array_header(taken);
    for (std::size_t i = 0; i < taken; ++i)
      reply += bulk(pop_one(keys, *e, left));
    keys.notify(notify::list, left ? "lpop" : "rpop", key);
    if (list->empty()) erase_emptied(keys, key);
    return reply;
  }
  return null_array();
}

} // namespace prez::kv
