// Sorted set commands with Redis 7.0's replies and errors. The value is a kv::zset (zset.hpp):
// ordered by (score, member), so every range, pop and algebra reply is the same on every
// replica. Scores print as Redis 7.0 prints them (format_score: %.17g, "inf", "-inf").
// ZRANDMEMBER, a read, seeds its generator from now_ms, the key and its version, as SRANDMEMBER
// does (kv_sets.cpp). Written from Redis's documented behaviour; no Redis source is copied.

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "actors/state_machine/kv_commands.hpp"
#include "config/limits.hpp"

namespace prez::kv {

namespace {

// --- lookups ------------------------------------------------------------------------------------

zset_value* zset_for_write(keyspace& keys, const std::string& key, std::uint64_t time_ms, entry*& e,
                           bool& wrong) {
  e = keys.find_live(key, time_ms);
  wrong = e != nullptr && !std::holds_alternative<zset_value>(e->data);
  return e == nullptr || wrong ? nullptr : &std::get<zset_value>(e->data);
}

const zset_value* zset_in(const entry* e, bool& wrong) {
  wrong = e != nullptr && !std::holds_alternative<zset_value>(e->data);
  return e == nullptr || wrong ? nullptr : &std::get<zset_value>(e->data);
}

const zset_value* zset_for_read(const keyspace& keys, const std::string& key, std::uint64_t now_ms,
                                bool& wrong) {
  return zset_in(keys.find_visible(key, now_ms), wrong);
}

std::string score_reply(double score) {
  return bulk(format_score(score));
}

/// Members (and their scores when `with_scores`) as one flat array, the RESP2 form.
std::string items_reply(const std::vector<zset::item>& items, bool with_scores) {
  std::string reply = array_header(items.size() * (with_scores ? 2 : 1));
  for (const auto& item : items) {
    reply += bulk(item.member);
    if (with_scores) reply += score_reply(item.score);
  }
  return reply;
}

/// Removes `member` (present) from the set of entry `e`, keeping the byte count.
void remove_member(keyspace& keys, entry& e, zset_value& sorted, const std::string& member) {
  sorted.erase(member);
  keys.shrink(e, zset_member_bytes(member));
}

// --- ranges -------------------------------------------------------------------------------------

/// A score range as ZRANGEBYSCORE reads it: "(" makes a bound exclusive, the number is read by
/// strtod to the end of the text (so "", " 1" and "0x10" pass, as in Redis), NaN is refused.
struct score_range {
  double min = 0;
  double max = 0;
  bool min_exclusive = false;
  bool max_exclusive = false;
};

std::optional<double> parse_score_bound(std::string_view text, bool& exclusive) {
  exclusive = !text.empty() && text[0] == '(';
  if (exclusive) text.remove_prefix(1);
  const std::string buffer(text.substr(0, text.find('\0'))); // Redis reads a C string
  char* end = nullptr;
  const double number = std::strtod(buffer.c_str(), &end);
  if (*end != '\0' || std::isnan(number)) return std::nullopt;
  return number;
}

std::optional<score_range> parse_score_range(std::string_view min, std::string_view max) {
  score_range range;
  const auto low = parse_score_bound(min, range.min_exclusive);
  const auto high = parse_score_bound(max, range.max_exclusive);
  if (!low || !high) return std::nullopt;
  range.min = *low;
  range.max = *high;
  return range;
}

/// One end of a lex range: "-" (below everything), "+" (above everything), "[x" or "(x".
struct lex_bound {
  enum class kind : std::uint8_t { lowest, highest, text } at = kind::text;
  std::string text;
  bool exclusive = false;
};

std::optional<lex_bound> parse_lex_bound(std::string_view text) {
  lex_bound bound;
  if (text == "-" || text == "+") {
    bound.at = text == "-" ? lex_bound::kind::lowest : lex_bound::kind::highest;
    return bound;
  }
  if (text.empty() || (text[0] != '(' && text[0] != '[')) return std::nullopt;
  bound.exclusive = text[0] == '(';
  bound.text = std::string(text.substr(1));
  return bound;
}

/// Whether `member` lies below the lower bound `min`.
bool below_min(std::string_view member, const lex_bound& min) {
  switch (min.at) {
    case lex_bound::kind::lowest:
      return false;
    case lex_bound::kind::highest:
      return true;
    case lex_bound::kind::text:
      break;
  }
  return min.exclusive ? member <= min.text : member < min.text;
}

/// Whether `member` lies within the upper bound `max`.
bool within_max(std::string_view member, const lex_bound& max) {
  switch (max.at) {
    case lex_bound::kind::lowest:
      return false;
    case lex_bound::kind::highest:
      return true;
    case lex_bound::kind::text:
      break;
  }
  return max.exclusive ? member < max.text : member <= max.text;
}

/// Ranks [first, end) of the items within a score range.
std::pair<std::size_t, std::size_t> ranks_of(const zset_value& sorted, const score_range& r) {
  const std::size_t first = sorted.partition_point(
      [&](const zset::item& i) { return r.min_exclusive ? i.score <= r.min : i.score < r.min; });
  const std::size_t end = sorted.partition_point(
      [&](const zset::item& i) { return r.max_exclusive ? i.score < r.max : i.score <= r.max; });
  return {first, std::max(first, end)};
}

/// Ranks [first, end) of the items within a lex range (meaningful when all scores are equal).
std::pair<std::size_t, std::size_t> ranks_of(const zset_value& sorted, const lex_bound& min,
                                             const lex_bound& max) {
  const std::size_t first =
      sorted.partition_point([&](const zset::item& i) { return below_min(i.member, min); });
  const std::size_t end =
      sorted.partition_point([&](const zset::item& i) { return within_max(i.member, max); });
  return {first, std::max(first, end)};
}

enum class range_kind : std::uint8_t { rank, score, lex };

/// What a ZRANGE-family command asks for, parsed the way Redis 7.0 parses ZRANGE's arguments.
struct range_request {
  range_kind kind = range_kind::rank;
  bool reverse = false;
  bool with_scores = false;
  long long offset = 0;
  long long limit = -1; ///< -1 (or any negative): no limit
  long long start = 0;  ///< rank ranges
  long long stop = 0;
  score_range scores;
  lex_bound lex_min;
  lex_bound lex_max;
};

/// Parses the two ends of the range of `request.kind` into `request`; returns the error reply
/// or an empty string.
std::string parse_bounds(const std::string& low, const std::string& high, range_request& request) {
  if (request.kind == range_kind::rank) {
    const auto start = parse_integer(low);
    const auto stop = parse_integer(high);
    if (!start || !stop) return error_reply(not_integer);
    request.start = *start;
    request.stop = *stop;
  } else if (request.kind == range_kind::score) {
    const auto range = parse_score_range(low, high);
    if (!range) return error_reply("ERR min or max is not a float");
    request.scores = *range;
  } else {
    auto min = parse_lex_bound(low);
    auto max = parse_lex_bound(high);
    if (!min || !max) return error_reply("ERR min or max not valid string range item");
    request.lex_min = std::move(*min);
    request.lex_max = std::move(*max);
  }
  return {};
}

/// Parses argv[first] (min or start), argv[first + 1] (max or stop) and the options after them.
/// `kind` and `reverse` preset by the command (ZRANGEBYSCORE, ZREVRANGE, ...) cannot be given
/// again; a store (ZRANGESTORE) takes no WITHSCORES. On error returns nullopt and the reply.
std::optional<range_request> parse_range(const argv_type& argv, std::size_t first,
                                         std::optional<range_kind> kind,
                                         std::optional<bool> reverse, bool store,
                                         std::string& error) {
  range_request request;
  for (std::size_t i = first + 2; i < argv.size(); ++i) {
    const std::size_t left = argv.size() - i - 1;
    if (!store && is_word(argv[i], "withscores")) {
      request.with_scores = true;
    } else if (is_word(argv[i], "limit") && left >= 2) {
      const auto offset = parse_integer(argv[i + 1]);
      const auto limit = parse_integer(argv[i + 2]);
      if (!offset || !limit) {
        error = error_reply(not_integer);
        return std::nullopt;
      }
      request.offset = *offset;
      request.limit = *limit;
      i += 2;
    } else if (!reverse && is_word(argv[i], "rev")) {
      reverse = true;
    } else if (!kind && is_word(argv[i], "bylex")) {
      kind = range_kind::lex;
    } else if (!kind && is_word(argv[i], "byscore")) {
      kind = range_kind::score;
    } else {
      error = error_reply(syntax_error);
      return std::nullopt;
    }
  }
  request.kind = kind.value_or(range_kind::rank);
  request.reverse = reverse.value_or(false);
  if (request.limit != -1 && request.kind == range_kind::rank) {
    error = error_reply(
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
    return std::nullopt;
  }
  if (request.with_scores && request.kind == range_kind::lex) {
    error = error_reply("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    return std::nullopt;
  }
  // BYSCORE and BYLEX with REV take the range as max, min.
  const bool swapped = request.reverse && request.kind != range_kind::rank;
  error =
      parse_bounds(argv[swapped ? first + 1 : first], argv[swapped ? first : first + 1], request);
  if (!error.empty()) return std::nullopt;
  return request;
}

/// The items a parsed request selects from `sorted`, in reply order.
std::vector<zset::item> select_range(const zset_value& sorted, const range_request& request) {
  std::vector<zset::item> items;
  const auto collect = [&](std::size_t first, std::size_t last) {
    sorted.for_each(first, last, request.reverse,
                    [&](const zset::item& item) { items.push_back(item); });
  };
  if (request.kind == range_kind::rank) {
    const auto ranks = clamp_range(request.start, request.stop, sorted.size());
    if (!ranks) return items;
    if (!request.reverse) {
      collect(ranks->first, ranks->second);
    } else { // REV counts ranks from the highest
      const std::size_t top = sorted.size() - 1;
      collect(top - ranks->second, top - ranks->first);
    }
    return items;
  }
  const auto [first, end] = request.kind == range_kind::score
                                ? ranks_of(sorted, request.scores)
                                : ranks_of(sorted, request.lex_min, request.lex_max);
  // LIMIT: a negative offset selects nothing, a negative count means "all the rest".
  if (request.offset < 0 || request.limit == 0) return items;
  const auto available = static_cast<unsigned long long>(end - first);
  const auto offset = static_cast<unsigned long long>(request.offset);
  if (offset >= available) return items;
  unsigned long long count = available - offset;
  if (request.limit > 0) count = std::min(count, static_cast<unsigned long long>(request.limit));
  if (!request.reverse)
    collect(first + offset, first + offset + count - 1);
  else
    collect(end - 1 - offset - (count - 1), end - 1 - offset);
  return items;
}

std::string range_read(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms,
                       std::optional<range_kind> kind, std::optional<bool> reverse) {
  std::string error;
  const auto request = parse_range(argv, 2, kind, reverse, false, error);
  if (!request) return error;
  bool wrong = false;
  const zset_value* sorted = zset_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  if (sorted == nullptr) return array_header(0);
  return items_reply(select_range(*sorted, *request), request->with_scores);
}

// --- ZADD ---------------------------------------------------------------------------------------

struct zadd_options {
  bool nx = false;
  bool xx = false;
  bool gt = false;
  bool lt = false;
  bool ch = false;
  bool incr = false;
};

/// What adding one (score, member) did.
enum class add_outcome : std::uint8_t { added, updated, unchanged, skipped, nan };

/// Adds or updates one member under the ZADD flags; `score` becomes the member's score after.
add_outcome add_one(keyspace& keys, entry& e, zset_value& sorted, const zadd_options& options,
                    const std::string& member, double& score) {
  const auto current = sorted.score(member);
  if (!current) {
    if (options.xx) return add_outcome::skipped;
    sorted.set(member, score);
    keys.grow(e, zset_member_bytes(member));
    return add_outcome::added;
  }
  if (options.nx) return add_outcome::skipped;
  if (options.incr) {
    score += *current;
    if (std::isnan(score)) return add_outcome::nan;
  }
  if ((options.gt && score <= *current) || (options.lt && score >= *current))
    return add_outcome::skipped;
  if (score == *current) return add_outcome::unchanged;
  sorted.set(member, score);
  keys.touch(e);
  return add_outcome::updated;
}

/// ZADD's checks, in Redis's order; the reply is set when one fails.
std::optional<std::vector<double>> parse_zadd(const argv_type& argv, std::size_t first_pair,
                                              const zadd_options& options, std::string& error) {
  const std::size_t values = argv.size() - first_pair;
  if (values == 0 || values % 2 != 0) {
    error = error_reply(syntax_error);
    return std::nullopt;
  }
  if (options.nx && options.xx) {
    error = error_reply("ERR XX and NX options at the same time are not compatible");
    return std::nullopt;
  }
  if ((options.gt && options.nx) || (options.lt && options.nx) || (options.gt && options.lt)) {
    error = error_reply("ERR GT, LT, and/or NX options at the same time are not compatible");
    return std::nullopt;
  }
  if (options.incr && values > 2) {
    error = error_reply("ERR INCR option supports a single increment-element pair");
    return std::nullopt;
  }
  std::vector<double> scores;
  for (std::size_t i = first_pair; i < argv.size(); i += 2) {
    const auto score = parse_score(argv[i]);
    if (!score) {
      error = error_reply(not_float);
      return std::nullopt;
    }
    scores.push_back(*score);
  }
  return scores;
}

/// ZADD after its options (ZINCRBY is ZADD INCR): pairs start at argv[first_pair].
std::string zadd(keyspace& keys, const argv_type& argv, std::uint64_t time_ms,
                 const zadd_options& options, std::size_t first_pair) {
  std::string error;
  auto scores = parse_zadd(argv, first_pair, options, error);
  if (!scores) return error;
  entry* e = nullptr;
  bool wrong = false;
  zset_value* sorted = zset_for_write(keys, argv[1], time_ms, e, wrong);
  if (wrong) return wrong_type_reply();
  long long changed = 0;
  long long added = 0;
  bool processed = false;
  double last_score = 0;
  if (sorted == nullptr && !options.xx) {
    e = &keys.insert(argv[1], zset_value(keys.draw(time_ms)));
    sorted = &std::get<zset_value>(e->data);
  }
  for (std::size_t i = 0; sorted != nullptr && i < scores->size(); ++i) {
    double score = (*scores)[i];
    const add_outcome outcome =
        add_one(keys, *e, *sorted, options, argv[first_pair + 2 * i + 1], score);
    if (outcome == add_outcome::nan) {
      error = error_reply("ERR resulting score is not a number (NaN)");
      break;
    }
    added += outcome == add_outcome::added ? 1 : 0;
    changed += outcome == add_outcome::added || outcome == add_outcome::updated ? 1 : 0;
    if (outcome != add_outcome::skipped) {
      processed = true;
      last_score = score;
    }
  }
  if (changed > 0) keys.notify(notify::zset, options.incr ? "zincr" : "zadd", argv[1]);
  if (sorted != nullptr && sorted->empty()) keys.erase(argv[1]);
  if (!error.empty()) return error;
  if (options.incr) return processed ? score_reply(last_score) : null_bulk();
  return integer(options.ch ? changed : added);
}

// --- pops ---------------------------------------------------------------------------------------

/// Pops up to `count` lowest (or highest, `max`) items of the set at `key` (a zset with at least
/// one item); deletes the key when it empties. Returns the popped items, copied.
std::vector<std::pair<std::string, double>> pop_items(keyspace& keys, const std::string& key,
                                                      std::uint64_t time_ms, bool max,
                                                      std::size_t count) {
  entry* e = nullptr;
  bool wrong = false;
  zset_value* sorted = zset_for_write(keys, key, time_ms, e, wrong);
  std::vector<std::pair<std::string, double>> popped;
  while (popped.size() < count && !sorted->empty()) {
    const zset::item item = sorted->at(max ? sorted->size() - 1 : 0);
    popped.emplace_back(std::string(item.member), item.score);
    remove_member(keys, *e, *sorted, popped.back().first);
  }
  if (!popped.empty()) keys.notify(notify::zset, max ? "zpopmax" : "zpopmin", key);
  if (sorted->empty()) erase_emptied(keys, key);
  return popped;
}

/// The first of `names` that holds a sorted set, nullptr when none does; `wrong` when a key
/// before it holds another type.
const std::string* first_zset(keyspace& keys, const std::vector<std::string>& names,
                              std::uint64_t time_ms, bool& wrong) {
  for (const auto& name : names) {
    const zset_value* sorted = zset_in(keys.peek_live(name, time_ms), wrong);
    if (wrong) return nullptr;
    if (sorted != nullptr) return &name;
  }
  return nullptr;
}

std::string zpop(keyspace& keys, const argv_type& argv, std::uint64_t time_ms, bool max) {
  if (argv.size() > 3) return error_reply(syntax_error);
  std::size_t count = 1;
  if (argv.size() == 3) {
    const auto parsed = parse_integer(argv[2]);
    if (!parsed || *parsed < 0) return error_reply(not_positive);
    count = static_cast<std::size_t>(*parsed);
  }
  bool wrong = false;
  const std::string* key = first_zset(keys, {argv[1]}, time_ms, wrong);
  if (wrong) return wrong_type_reply(); // checked before a count of 0, as Redis does
  if (key == nullptr || count == 0) return array_header(0);
  const auto popped = pop_items(keys, argv[1], time_ms, max, count);
  std::string reply = array_header(popped.size() * 2);
  for (const auto& [member, score] : popped)
    reply += bulk(member) + score_reply(score);
  return reply;
}

// --- set algebra: ZUNION, ZINTER, ZDIFF and their STORE forms, ZINTERCARD -----------------------

enum class zset_operation : std::uint8_t { union_of, intersection, difference };
enum class aggregate : std::uint8_t { sum, min, max };

/// One input of the algebra: a sorted set, a set (every member scores 1) or nothing.
struct source {
  const zset_value* sorted = nullptr;
  const set_value* set = nullptr;
  double weight = 1;

  std::size_t size() const { return sorted ? sorted->size() : set ? set->size() : 0; }
  std::optional<double> score(std::string_view member) const {
    if (sorted != nullptr) return sorted->score(member);
    if (set != nullptr && set->find(member) != set->end()) return 1.0;
    return std::nullopt;
  }
  /// Calls visit(member, score) for every item.
  template <class Visit>
  void for_each(Visit visit) const {
    if (sorted != nullptr)
      for (const auto& [member, score] : sorted->by_member())
        visit(std::string_view(member), score);
    if (set != nullptr)
      for (const auto& member : *set)
        visit(std::string_view(member), 1.0);
  }
};

/// An algebra command, parsed.
struct algebra_request {
  std::vector<source> sources;
  aggregate how = aggregate::sum;
  bool with_scores = false;
  long long limit = 0; ///< ZINTERCARD; 0: no limit
};

/// Redis's weighted score: NaN (0 * inf) counts as 0.
double weighted(double score, double weight) {
  const double product = score * weight;
  return std::isnan(product) ? 0 : product;
}

void combine_into(double& target, double value, aggregate how) {
  switch (how) {
    case aggregate::sum:
      target += value;
      if (std::isnan(target)) target = 0; // inf + -inf
      break;
    case aggregate::min:
      target = std::min(target, value);
      break;
    case aggregate::max:
      target = std::max(target, value);
      break;
  }
}

/// Parses the options after the keys: WEIGHTS and AGGREGATE (not for ZDIFF nor ZINTERCARD),
/// WITHSCORES (not for the STORE forms), LIMIT (ZINTERCARD only).
std::optional<std::string> parse_algebra_options(const argv_type& argv, std::size_t at,
                                                 zset_operation operation, bool store,
                                                 bool card_only, algebra_request& request) {
  const bool weighted_op = operation != zset_operation::difference && !card_only;
  while (at < argv.size()) {
    const std::size_t left = argv.size() - at;
    if (weighted_op && left >= request.sources.size() + 1 && is_word(argv[at], "weights")) {
      ++at;
      for (auto& s : request.sources) {
        const auto weight = parse_score(argv[at++]);
        if (!weight) return error_reply("ERR weight value is not a float");
        s.weight = *weight;
      }
    } else if (weighted_op && left >= 2 && is_word(argv[at], "aggregate")) {
      const std::string& how = argv[at + 1];
      if (is_word(how, "sum"))
        request.how = aggregate::sum;
      else if (is_word(how, "min"))
        request.how = aggregate::min;
      else if (is_word(how, "max"))
        request.how = aggregate::max;
      else
        return error_reply(syntax_error);
      at += 2;
    } else if (!store && !card_only && is_word(argv[at], "withscores")) {
      request.with_scores = true;
      ++at;
    } else if (card_only && left >= 2 && is_word(argv[at], "limit")) {
      const auto limit = parse_integer(argv[at + 1]);
      if (!limit || *limit < 0) return error_reply("ERR LIMIT can't be negative");
      request.limit = *limit;
      at += 2;
    } else {
      return error_reply(syntax_error);
    }
  }
  return std::nullopt;
}

/// Parses numkeys at argv[numkeys_at], the keys (looked up at once, as Redis does: a key of
/// another type fails before the options are read) and the options.
std::optional<algebra_request> parse_algebra(const keyspace& keys, const argv_type& argv,
                                             std::size_t numkeys_at, zset_operation operation,
                                             bool store, bool card_only, std::uint64_t now_ms,
                                             std::string& error) {
  const auto numkeys = parse_integer(argv[numkeys_at]);
  if (!numkeys) {
    error = error_reply(not_integer);
    return std::nullopt;
  }
  if (*numkeys < 1) {
    error =
        error_reply("ERR at least 1 input key is needed for '" + command_name(argv) + "' command");
    return std::nullopt;
  }
  if (static_cast<unsigned long long>(*numkeys) > argv.size() - numkeys_at - 1) {
    error = error_reply(syntax_error);
    return std::nullopt;
  }
  algebra_request request;
  for (std::size_t i = 0; i < static_cast<std::size_t>(*numkeys); ++i) {
    const entry* e = keys.find_visible(argv[numkeys_at + 1 + i], now_ms);
    source s;
    if (e != nullptr) {
      s.sorted = std::get_if<zset_value>(&e->data);
      s.set = std::get_if<set_value>(&e->data);
      if (s.sorted == nullptr && s.set == nullptr) {
        error = wrong_type_reply();
        return std::nullopt;
      }
    }
    request.sources.push_back(s);
  }
  const std::size_t options_at = numkeys_at + 1 + static_cast<std::size_t>(*numkeys);
  if (auto failed = parse_algebra_options(argv, options_at, operation, store, card_only, request)) {
    error = std::move(*failed);
    return std::nullopt;
  }
  return request;
}

/// The union, intersection or difference of the request's sources, as a set with `seed`.
zset_value combine(const algebra_request& request, zset_operation operation, std::uint64_t seed) {
  zset_value result(seed);
  const auto& sources = request.sources;
  if (operation == zset_operation::difference) {
    sources[0].for_each([&](std::string_view member, double score) {
      for (std::size_t i = 1; i < sources.size(); ++i)
        if (sources[i].score(member)) return;
      result.set(member, score);
    });
    return result;
  }
  if (operation == zset_operation::union_of) {
    std::map<std::string, double, std::less<>> scores;
    for (const auto& s : sources)
      s.for_each([&](std::string_view member, double score) {
        const double value = weighted(score, s.weight);
        const auto [it, inserted] = scores.try_emplace(std::string(member), value);
        if (!inserted) combine_into(it->second, value, request.how);
      });
    for (const auto& [member, score] : scores)
      result.set(member, score);
    return result;
  }
  // Intersection: walk the smallest input, look the member up in the others.
  std::vector<const source*> order;
  for (const auto& s : sources)
    order.push_back(&s);
  std::stable_sort(order.begin(), order.end(),
                   [](const source* a, const source* b) { return a->size() < b->size(); });
  order[0]->for_each([&](std::string_view member, double score) {
    double value = weighted(score, order[0]->weight);
    for (std::size_t i = 1; i < order.size(); ++i) {
      const auto other = order[i]->score(member);
      if (!other) return;
      combine_into(value, weighted(*other, order[i]->weight), request.how);
    }
    result.set(member, value);
  });
  return result;
}

std::string algebra_read(const keyspace& keys, const argv_type& argv, zset_operation operation,
                         std::uint64_t now_ms) {
  std::string error;
  const auto request = parse_algebra(keys, argv, 1, operation, false, false, now_ms, error);
  if (!request) return error;
  const zset_value result = combine(*request, operation, 0); // replied, never stored
  std::vector<zset::item> items;
  if (!result.empty())
    result.for_each(0, result.size() - 1, false,
                    [&](const zset::item& item) { items.push_back(item); });
  return items_reply(items, request->with_scores);
}

/// Replaces `destination` with `result` (deletes it when empty); returns the size reply.
/// Says `event` for a stored result, "del" when an empty one deleted the destination.
std::string store_result(keyspace& keys, const std::string& destination, zset_value result,
                         std::string_view event) {
  const auto size = static_cast<long long>(result.size());
  const bool existed = keys.erase(destination);
  if (size > 0) {
    keys.insert(destination, std::move(result));
    keys.notify(notify::zset, event, destination);
  } else if (existed) {
    keys.notify(notify::generic, "del", destination);
  }
  return integer(size);
}

std::string algebra_store(keyspace& keys, const argv_type& argv, zset_operation operation,
                          std::uint64_t time_ms) {
  if (const auto numkeys = parse_integer(argv[2]); numkeys && *numkeys > 0)
    for (std::size_t i = 3; i < argv.size() && i < 3 + static_cast<std::size_t>(*numkeys); ++i)
      keys.maybe_expire(argv[i], time_ms); // lazy expiry first, as any write lookup does
  std::string error;
  const auto request = parse_algebra(keys, argv, 2, operation, true, false, time_ms, error);
  if (!request) return error;
  const std::string_view event = operation == zset_operation::union_of       ? "zunionstore"
                                 : operation == zset_operation::intersection ? "zinterstore"
                                                                             : "zdiffstore";
  return store_result(keys, argv[1], combine(*request, operation, keys.draw(time_ms)), event);
}

// --- ZRANDMEMBER --------------------------------------------------------------------------------

std::string random_items(const zset_value& sorted, long long count, bool with_scores,
                         std::uint64_t seed) {
  seeded_random random{seed};
  std::vector<zset::item> items;
  if (count >= 0 && static_cast<unsigned long long>(count) >= sorted.size()) {
    // The whole set, highest rank first: the order Redis 7.0 answers it in.
    sorted.for_each(0, sorted.size() - 1, true,
                    [&](const zset::item& item) { items.push_back(item); });
  } else if (count >= 0) {
    // Distinct members in rank order, by selection sampling (Knuth's algorithm S).
    const auto wanted = std::min<std::size_t>(static_cast<std::size_t>(count), sorted.size());
    std::size_t left = sorted.size();
    sorted.for_each(0, sorted.size() - 1, false, [&](const zset::item& item) {
      if (items.size() < wanted && random.below(left) < wanted - items.size())
        items.push_back(item);
      --left;
    });
  } else { // a negative count may repeat members: -count independent draws
    for (long long i = 0; i < -count; ++i)
      items.push_back(sorted.at(random.below(sorted.size())));
  }
  return items_reply(items, with_scores);
}

} // namespace

// --- commands -----------------------------------------------------------------------------------

std::string zadd_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  zadd_options options;
  std::size_t at = 2;
  for (; at < argv.size(); ++at) {
    const std::string& word = argv[at];
    if (is_word(word, "nx"))
      options.nx = true;
    else if (is_word(word, "xx"))
      options.xx = true;
    else if (is_word(word, "gt"))
      options.gt = true;
    else if (is_word(word, "lt"))
      options.lt = true;
    else if (is_word(word, "ch"))
      options.ch = true;
    else if (is_word(word, "incr"))
      options.incr = true;
    else
      break;
  }
  return zadd(keys, argv, time_ms, options, at);
}

std::string zincrby_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  zadd_options options;
  options.incr = true;
  return zadd(keys, argv, time_ms, options, 2);
}

std::string zcard_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  bool wrong = false;
  const zset_value* sorted = zset_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  return integer(sorted == nullptr ? 0 : static_cast<long long>(sorted->size()));
}

std::string zscore_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  bool wrong = false;
  const zset_value* sorted = zset_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  const auto score = sorted == nullptr ? std::nullopt : sorted->score(argv[2]);
  return score ? score_reply(*score) : null_bulk();
}

std::string zmscore_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  bool wrong = false;
  const zset_value* sorted = zset_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  std::string reply = array_header(argv.size() - 2);
  for (std::size_t i = 2; i < argv.size(); ++i) {
    const auto score = sorted == nullptr ? std::nullopt : sorted->score(argv[i]);
    reply += score ? score_reply(*score) : null_bulk();
  }
  return reply;
}

std::string zrem_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  entry* e = nullptr;
  bool wrong = false;
  zset_value* sorted = zset_for_write(keys, argv[1], time_ms, e, wrong);
  if (wrong) return wrong_type_reply();
  if (sorted == nullptr) return integer(0);
  long long removed = 0;
  for (std::size_t i = 2; i < argv.size(); ++i) {
    if (!sorted->score(argv[i])) continue;
    remove_member(keys, *e, *sorted, argv[i]);
    ++removed;
  }
  if (removed > 0) keys.notify(notify::zset, "zrem", argv[1]);
  if (sorted->empty()) erase_emptied(keys, argv[1]);
  return integer(removed);
}

namespace {

std::string rank_of(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms,
                    bool reverse) {
  bool wrong = false;
  const zset_value* sorted = zset_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  if (sorted == nullptr || !sorted->score(argv[2])) return null_bulk();
  const std::size_t rank = sorted->rank(argv[2]);
  return integer(static_cast<long long>(reverse ? sorted->size() - 1 - rank : rank));
}

} // namespace

std::string zrank_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  return rank_of(keys, argv, now_ms, false);
}

std::string zrevrank_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  return rank_of(keys, argv, now_ms, true);
}

std::string zcount_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  const auto range = parse_score_range(argv[2], argv[3]);
  if (!range) return error_reply("ERR min or max is not a float");
  bool wrong = false;
  const zset_value* sorted = zset_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  if (sorted == nullptr) return integer(0);
  const auto [first, end] = ranks_of(*sorted, *range);
  return integer(static_cast<long long>(end - first));
}

std::string zlexcount_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  const auto min = parse_lex_bound(argv[2]);
  const auto max = parse_lex_bound(argv[3]);
  if (!min || !max) return error_reply("ERR min or max not valid string range item");
  bool wrong = false;
  const zset_value* sorted = zset_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  if (sorted == nullptr) return integer(0);
  const auto [first, end] = ranks_of(*sorted, *min, *max);
  return integer(static_cast<long long>(end - first));
}

std::string zrange_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  return range_read(keys, argv, now_ms, std::nullopt, std::nullopt);
}

std::string zrevrange_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  return range_read(keys, argv, now_ms, range_kind::rank, true);
}

std::string zrangebyscore_command(const keyspace& keys, const argv_type& argv,
                                  std::uint64_t now_ms) {
  return range_read(keys, argv, now_ms, range_kind::score, false);
}

std::string zrevrangebyscore_command(const keyspace& keys, const argv_type& argv,
                                     std::uint64_t now_ms) {
  return range_read(keys, argv, now_ms, range_kind::score, true);
}

std::string zrangebylex_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  return range_read(keys, argv, now_ms, range_kind::lex, false);
}

std::string zrevrangebylex_command(const keyspace& keys, const argv_type& argv,
                                   std::uint64_t now_ms) {
  return range_read(keys, argv, now_ms, range_kind::lex, true);
}

std::string zrangestore_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  std::string error;
  const auto request = parse_range(argv, 3, std::nullopt, std::nullopt, true, error);
  if (!request) return error;
  bool wrong = false;
  const zset_value* sorted = zset_in(keys.peek_live(argv[2], time_ms), wrong);
  if (wrong) return wrong_type_reply();
  zset_value result(keys.draw(time_ms));
  if (sorted != nullptr)
    for (const auto& item : select_range(*sorted, *request))
      result.set(item.member, item.score);
  return store_result(keys, argv[1], std::move(result), "zrangestore");
}

namespace {

/// Removes the items of ranks [first, end) that `select` picks from the set at argv[1]; replies
/// with how many went. `select` returns nullopt when the key holds nothing to remove.
template <class Select>
std::string remove_range(keyspace& keys, const argv_type& argv, std::uint64_t time_ms,
                         std::string_view event, Select select) {
  entry* e = nullptr;
  bool wrong = false;
  zset_value* sorted = zset_for_write(keys, argv[1], time_ms, e, wrong);
  if (wrong) return wrong_type_reply();
  if (sorted == nullptr) return integer(0);
  const auto [first, end] = select(*sorted);
  if (first >= end) return integer(0);
  std::vector<std::string> members;
  sorted->for_each(first, end - 1, false,
                   [&](const zset::item& item) { members.emplace_back(item.member); });
  for (const auto& member : members)
    remove_member(keys, *e, *sorted, member);
  keys.notify(notify::zset, event, argv[1]);
  if (sorted->empty()) erase_emptied(keys, argv[1]);
  return integer(static_cast<long long>(members.size()));
}

} // namespace

std::string zremrangebyrank_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  const auto start = parse_integer(argv[2]);
  const auto stop = parse_integer(argv[3]);
  if (!start || !stop) return error_reply(not_integer);
  return remove_range(keys, argv, time_ms, "zremrangebyrank", [&](const zset_value& sorted) {
    const auto ranks = clamp_range(*start, *stop, sorted.size());
    return ranks ? std::pair{ranks->first, ranks->second + 1}
                 : std::pair<std::size_t, std::size_t>{};
  });
}

std::string zremrangebyscore_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  const auto range = parse_score_range(argv[2], argv[3]);
  if (!range) return error_reply("ERR min or max is not a float");
  return remove_range(keys, argv, time_ms, "zremrangebyscore",
                      [&](const zset_value& sorted) { return ranks_of(sorted, *range); });
}

std::string zremrangebylex_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  const auto min = parse_lex_bound(argv[2]);
  const auto max = parse_lex_bound(argv[3]);
  if (!min || !max) return error_reply("ERR min or max not valid string range item");
  return remove_range(keys, argv, time_ms, "zremrangebylex",
                      [&](const zset_value& sorted) { return ranks_of(sorted, *min, *max); });
}

std::string zpopmin_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return zpop(keys, argv, time_ms, false);
}

std::string zpopmax_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return zpop(keys, argv, time_ms, true);
}

std::string zmpop_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  blocking_call call;
  std::string error;
  if (!parse_mpop(argv, 1, true, call, error)) return error;
  const bool min = is_word(call.side, "min");
  const std::size_t count =
      call.count.empty() ? 1 : static_cast<std::size_t>(*parse_integer(call.count));
  bool wrong = false;
  const std::string* key = first_zset(keys, call.keys, time_ms, wrong);
  if (wrong) return wrong_type_reply();
  if (key == nullptr) return null_array();
  const auto popped = pop_items(keys, *key, time_ms, !min, count);
  std::string reply = array_header(2) + bulk(*key) + array_header(popped.size());
  for (const auto& [member, score] : popped)
    reply += array_header(2) + bulk(member) + score_reply(score);
  return reply;
}

std::string zrandmember_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  std::optional<long long> count;
  bool with_scores = false;
  if (auto error = parse_random_count(argv, "withscores", count, with_scores); !error.empty())
    return error;
  bool wrong = false;
  const zset_value* sorted = zset_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  if (sorted == nullptr) return count ? array_header(0) : null_bulk();
  const std::uint64_t seed = random_read_seed(keys, argv[1], now_ms);
  if (!count) {
    seeded_random random{seed};
    return bulk(sorted->at(random.below(sorted->size())).member);
  }
  return random_items(*sorted, *count, with_scores, seed);
}

std::string zunion_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  return algebra_read(keys, argv, zset_operation::union_of, now_ms);
}

std::string zinter_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  return algebra_read(keys, argv, zset_operation::intersection, now_ms);
}

std::string zdiff_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  return algebra_read(keys, argv, zset_operation::difference, now_ms);
}

std::string zunionstore_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return algebra_store(keys, argv, zset_operation::union_of, time_ms);
}

std::string zinterstore_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return algebra_store(keys, argv, zset_operation::intersection, time_ms);
}

std::string zdiffstore_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  return algebra_store(keys, argv, zset_operation::difference, time_ms);
}

std::string zintercard_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  std::string error;
  const auto request =
      parse_algebra(keys, argv, 1, zset_operation::intersection, false, true, now_ms, error);
  if (!request) return error;
  const auto size =
      static_cast<long long>(combine(*request, zset_operation::intersection, 0).size());
  return integer(request->limit > 0 ? std::min(size, request->limit) : size);
}

std::string zscan_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  const auto cursor = parse_cursor(argv[2]);
  if (!cursor) return error_reply("ERR invalid cursor");
  bool wrong = false;
  const zset_value* sorted = zset_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  if (sorted == nullptr) return scan_reply("0", std::vector<std::string_view>{});
  std::string error;
  const auto options = parse_scan_options(argv, 3, false, error);
  if (!options) return error;
  // Member, score pairs: a small set whole in rank order, a large one a page at a time
  // (scan_members, docs/expiry.md).
  std::vector<std::string_view> members;
  std::vector<double> scores;
  sorted->for_each(0, sorted->size() - 1, false, [&](const zset::item& item) {
    members.push_back(item.member);
    scores.push_back(item.score);
  });
  const auto page = scan_members(members, *cursor, options->count);
  std::vector<std::string> items;
  for (auto i : page.picked) {
    if (!matches(*options, members[i])) continue;
    items.emplace_back(members[i]);
    items.push_back(format_score(scores[i]));
  }
  return scan_reply(std::to_string(page.next), items);
}

} // namespace prez::kv
