// SORT and SORT_RO: sorts a list or set (numeric or ALPHA, BY and GET patterns with '*' and
// '->field', LIMIT, STORE) with Redis 7.0's replies. SORT ... STORE is a write (logged), any other
// SORT a read (classify() decides per argument, sort_stores()). Patterns read keys that are not
// named as arguments: fine with one key space, to revisit for slots (docs/compatibility.md).
// Deterministic on every replica: a stable sort, ties broken by the element's bytes as Redis does.

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <variant>

#include "actors/state_machine/kv_commands.hpp"
#include "config/assert.hpp"

namespace prez::kv {

namespace {

struct sort_options {
  bool descending = false;
  bool alpha = false;
  bool no_sort = false;          ///< BY a pattern without '*'
  std::optional<std::string> by; ///< BY pattern
  long long limit_start = 0;
  long long limit_count = -1;       ///< -1: to the end
  std::vector<std::string> gets;    ///< GET patterns, in order
  std::optional<std::string> store; ///< STORE destination
};

/// Parses argv[2...]; nullopt with `error` set. `read_only`: SORT_RO, which has no STORE.
std::optional<sort_options> parse_sort(const argv_type& argv, bool read_only, std::string& error) {
  sort_options o;
  for (std::size_t i = 2; i < argv.size(); ++i) {
    const std::size_t more = argv.size() - 1 - i;
    if (is_word(argv[i], "asc")) {
      o.descending = false;
    } else if (is_word(argv[i], "desc")) {
      o.descending = true;
    } else if (is_word(argv[i], "alpha")) {
      o.alpha = true;
    } else if (is_word(argv[i], "limit") && more >= 2) {
      const auto start = parse_integer(argv[i + 1]);
      const auto count = parse_integer(argv[i + 2]);
      if (!start || !count) {
        error = error_reply(not_integer);
        return std::nullopt;
      }
      o.limit_start = *start;
      o.limit_count = *count;
      i += 2;
    } else if (is_word(argv[i], "store") && more >= 1 && !read_only) {
      o.store = argv[++i];
    } else if (is_word(argv[i], "by") && more >= 1) {
      o.by = argv[++i];
      o.no_sort = o.by->find('*') == std::string::npos;
    } else if (is_word(argv[i], "get") && more >= 1) {
      o.gets.push_back(argv[++i]);
    } else {
      error = error_reply(syntax_error);
      return std::nullopt;
    }
  }
  return o;
}

/// The value a BY or GET pattern points to for `element`, as Redis's lookupKeyByPattern: "#" is
/// the element; the first '*' is replaced by it; "->field" after the '*' reads a hash field.
/// Only string values (or hash fields) count; anything else is "not found".
std::optional<std::string_view> lookup_pattern(const keyspace& keys, std::string_view pattern,
                                               std::string_view element, std::uint64_t now_ms) {
  if (pattern == "#") return element;
  const std::size_t star = pattern.find('*');
  if (star == std::string_view::npos) return std::nullopt;
  std::string_view field;
  std::string_view postfix = pattern.substr(star + 1);
  if (const std::size_t arrow = postfix.find("->");
      arrow != std::string_view::npos && arrow + 2 < postfix.size()) {
    field = postfix.substr(arrow + 2);
    postfix = postfix.substr(0, arrow);
  }
  std::string name(pattern.substr(0, star));
  name.append(element);
  name.append(postfix);
  const entry* e = keys.find_visible(name, now_ms);
  if (e == nullptr) return std::nullopt;
  if (field.empty()) {
    const auto* text = std::get_if<std::string>(&e->data);
    return text == nullptr ? std::nullopt : std::optional<std::string_view>(*text);
  }
  const auto* hash = std::get_if<hash_value>(&e->data);
  if (hash == nullptr) return std::nullopt;
  const auto found = hash->find(field);
  return found == hash->end() ? std::nullopt : std::optional<std::string_view>(found->second);
}

/// Redis's score of a text: strtod over the whole text (up to a NUL), no NaN, no overflow.
std::optional<double> sort_score(std::string_view text) {
  const std::string copy(text);
  errno = 0;
  char* end = nullptr;
  const double score = std::strtod(copy.c_str(), &end);
  if (*end != '\0' || errno == ERANGE || std::isnan(score)) return std::nullopt;
  return score;
}

/// The elements SORT works on, in the value's own order; nullopt for a type SORT refuses. One
/// overload per alternative of kv::value: a zset must add its members (in score order) here.
struct sortable_elements {
  std::optional<std::vector<std::string>> operator()(const std::string&) const {
    return std::nullopt;
  }
  std::optional<std::vector<std::string>> operator()(const list_value& list) const {
    return std::vector<std::string>(list.begin(), list.end());
  }
  std::optional<std::vector<std::string>> operator()(const hash_value&) const {
    return std::nullopt;
  }
  std::optional<std::vector<std::string>> operator()(const set_value& set) const {
    return std::vector<std::string>(set.begin(), set.end());
  }
  /// A sorted set's members in score order (what BY nosort returns, reversed by DESC).
  std::optional<std::vector<std::string>> operator()(const zset_value& sorted) const {
    std::vector<std::string> members;
    members.reserve(sorted.size());
    if (sorted.size() > 0)
      sorted.for_each(0, sorted.size() - 1, false,
                      [&](const zset::item& item) { members.emplace_back(item.member); });
    return members;
  }
  std::optional<std::vector<std::string>> operator()(const stream_value&) const {
    return std::nullopt;
  }
};

struct sort_item {
  std::string element;
  double score = 0;
  std::optional<std::string> by_text; ///< ALPHA with BY: the text compared (nullopt sorts first)
};

/// Sorts `items` in place; returns false on "One or more scores can't be converted".
bool sort_items(const keyspace& keys, const sort_options& o, std::vector<sort_item>& items,
                std::uint64_t now_ms) {
  for (auto& item : items) {
    std::optional<std::string_view> key = item.element;
    if (o.by) key = lookup_pattern(keys, *o.by, item.element, now_ms);
    if (!key) continue; // a missing BY value sorts as 0 (or first with ALPHA)
    if (o.alpha) {
      if (o.by) item.by_text = std::string(*key);
      continue;
    }
    const auto score = sort_score(*key);
    if (!score) return false;
    item.score = *score;
  }
  const auto compare = [&](const sort_item& a, const sort_item& b) {
    int cmp = 0;
    if (!o.alpha) {
      cmp = a.score < b.score ? -1 : a.score > b.score ? 1 : a.element.compare(b.element);
    } else if (o.by) {
      cmp = !a.by_text || !b.by_text ? (a.by_text ? 1 : 0) - (b.by_text ? 1 : 0)
                                     : a.by_text->compare(*b.by_text);
    } else {
      cmp = a.element.compare(b.element);
    }
    return o.descending ? cmp > 0 : cmp < 0;
  };
  std::stable_sort(items.begin(), items.end(), compare);
  return true;
}

/// SORT and SORT_RO. With `keys_write` (SORT ... STORE applied), the result is stored.
std::string sort_generic(const keyspace& keys, keyspace* keys_write, const argv_type& argv,
                         std::uint64_t now_ms, bool read_only) {
  std::string error;
  const auto o = parse_sort(argv, read_only, error);
  if (!o) return error;
  std::vector<std::string> elements;
  if (const entry* e = keys.find_visible(argv[1], now_ms); e != nullptr) {
    auto found = std::visit(sortable_elements{}, e->data);
    if (!found) return wrong_type_reply();
    elements = std::move(*found);
  }
  std::vector<sort_item> items;
  items.reserve(elements.size());
  for (auto& element : elements)
    items.push_back({std::move(element), 0, std::nullopt});
  // BY nosort keeps the value's order (a set's is sorted already, so STORE is deterministic),
  // read from the tail with DESC as Redis reads a list.
  if (!o->no_sort && !sort_items(keys, *o, items, now_ms))
    return error_reply("ERR One or more scores can't be converted into double");
  if (o->no_sort && o->descending) std::reverse(items.begin(), items.end());
  const long long size = static_cast<long long>(items.size());
  long long start = std::max(o->limit_start, 0LL);
  long long end = o->limit_count < 0 ? size - 1 : start + o->limit_count - 1;
  if (start >= size) {
    start = size - 1;
    end = size - 2;
  }
  end = std::min(end, size - 1);
  std::vector<std::optional<std::string>> out;
  for (long long i = start; i <= end; ++i) {
    const std::string& element = items[static_cast<std::size_t>(i)].element;
    if (o->gets.empty()) out.emplace_back(element);
    for (const auto& pattern : o->gets) {
      const auto value = lookup_pattern(keys, pattern, element, now_ms);
      out.push_back(value ? std::optional<std::string>(std::string(*value)) : std::nullopt);
    }
  }
  if (!o->store) {
    std::string reply = array_header(out.size());
    for (const auto& value : out)
      reply += value ? bulk(*value) : null_bulk();
    return reply;
  }
  PREZ_ASSERT(keys_write != nullptr);
  keys_write->maybe_expire(*o->store, now_ms);
  const bool existed = keys_write->erase(*o->store);
  if (out.empty()) {
    if (existed) keys_write->notify(notify::generic, "del", *o->store);
    return integer(0);
  }
  list_value stored;
  for (auto& value : out)
    stored.push_back(value ? std::move(*value) : std::string()); // a missing GET stores ""
  keys_write->insert(*o->store, std::move(stored));
  keys_write->notify(notify::list, "sortstore", *o->store);
  return integer(static_cast<long long>(out.size()));
}

} // namespace

bool sort_stores(const argv_type& argv) {
  std::string error;
  const auto o = parse_sort(argv, false, error);
  return o && o->store.has_value();
}

std::string sort_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return sort_generic(keys, &keys, argv, time_ms, false);
}

std::string sort_read_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  return sort_generic(keys, nullptr, argv, now_ms, false);
}

std::string sort_ro_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  return sort_generic(keys, nullptr, argv, now_ms, true);
}

} // namespace prez::kv
