// Argument parsing and formatting exactly as Redis 7 accepts and prints them: integers
// (string2ll), floats (string2ld, "%.17Lf" trimmed), glob patterns, ranges, SCAN options.
// Written from Redis's documented behaviour; no Redis source is copied.

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "actors/state_machine/kv_commands.hpp"
#include "config/limits.hpp"

namespace prez::kv {

namespace {

/// Longest text accepted as a float (Redis's MAX_LONG_DOUBLE_CHARS).
constexpr std::size_t float_chars_max = 5 * 1024;

/// Matches one character against the class starting after '[' at pattern[at]; returns whether it
/// matched and moves `at` onto the closing ']' (or the pattern's end when unterminated).
bool class_match(std::string_view pattern, std::size_t& at, unsigned char c) {
  const bool negated = at < pattern.size() && pattern[at] == '^';
  if (negated) ++at;
  bool matched = false;
  while (at < pattern.size() && pattern[at] != ']') {
    const auto p = static_cast<unsigned char>(pattern[at]);
    if (p == '\\' && at + 1 < pattern.size()) {
      ++at;
      matched |= static_cast<unsigned char>(pattern[at]) == c;
    } else if (at + 2 < pattern.size() && pattern[at + 1] == '-') {
      auto low = p;
      auto high = static_cast<unsigned char>(pattern[at + 2]);
      if (low > high) std::swap(low, high);
      matched |= c >= low && c <= high;
      at += 2;
    } else {
      matched |= p == c;
    }
    ++at;
  }
  return negated ? !matched : matched;
}

/// Matches the single-character token at pattern[at] (not '*') against c and returns the index
/// after the token, or nullopt on mismatch.
std::optional<std::size_t> token_match(std::string_view pattern, std::size_t at, char c) {
  switch (pattern[at]) {
    case '?':
      return at + 1;
    case '[': {
      ++at;
      if (!class_match(pattern, at, static_cast<unsigned char>(c))) return std::nullopt;
      return at < pattern.size() ? at + 1 : at;
    }
    case '\\':
      if (at + 1 < pattern.size()) ++at;
      [[fallthrough]];
    default:
      return pattern[at] == c ? std::optional<std::size_t>(at + 1) : std::nullopt;
  }
}

} // namespace

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool is_word(std::string_view text, std::string_view lower_word) {
  return text.size() == lower_word.size() && lowercase(text) == lower_word;
}

std::optional<long long> parse_integer(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  if (text == "0") return 0;
  const bool negative = text[0] == '-';
  const std::string_view digits = negative ? text.substr(1) : text;
  if (digits.empty() || digits[0] < '1' || digits[0] > '9') return std::nullopt;
  unsigned long long magnitude = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<unsigned long long>(c - '0');
    if (magnitude > (std::numeric_limits<unsigned long long>::max() - digit) / 10)
      return std::nullopt;
    magnitude = magnitude * 10 + digit;
  }
  constexpr auto max = static_cast<unsigned long long>(std::numeric_limits<long long>::max());
  if (negative) {
    if (magnitude > max + 1) return std::nullopt;
    return magnitude == max + 1 ? std::numeric_limits<long long>::min()
                                : -static_cast<long long>(magnitude);
  }
  if (magnitude > max) return std::nullopt;
  return static_cast<long long>(magnitude);
}

std::optional<long double> parse_float(std::string_view text) {
  if (text.empty() || text.size() >= float_chars_max) return std::nullopt;
  if (std::isspace(static_cast<unsigned char>(text[0]))) return std::nullopt;
  const std::string buffer(text); // NUL-terminated for strtold
  char* end = nullptr;
  errno = 0;
  const long double number = std::strtold(buffer.c_str(), &end);
  if (end != buffer.c_str() + buffer.size()) return std::nullopt; // also catches embedded NULs
  if (errno == ERANGE && (std::isinf(number) || number == 0.0L)) return std::nullopt;
  if (errno == EINVAL || std::isnan(number)) return std::nullopt;
  return number;
}

std::optional<double> parse_score(std::string_view text) {
  if (text.empty() || text.size() >= float_chars_max) return std::nullopt;
  if (std::isspace(static_cast<unsigned char>(text[0]))) return std::nullopt;
  const std::string buffer(text); // NUL-terminated for strtod
  char* end = nullptr;
  errno = 0;
  const double number = std::strtod(buffer.c_str(), &end);
  if (end != buffer.c_str() + buffer.size()) return std::nullopt; // also catches embedded NULs
  if (errno == ERANGE && (std::isinf(number) || number == 0.0)) return std::nullopt;
  if (std::isnan(number)) return std::nullopt;
  return number;
}

std::string format_float(long double number) {
  std::string buffer(float_chars_max + 64, '\0');
  const int written = std::snprintf(buffer.data(), buffer.size(), "%.17Lf", number);
  if (written <= 0 || static_cast<std::size_t>(written) >= buffer.size()) return "0";
  buffer.resize(static_cast<std::size_t>(written));
  if (buffer.find('.') != std::string::npos) {
    while (buffer.back() == '0')
      buffer.pop_back();
    if (buffer.back() == '.') buffer.pop_back();
  }
  if (buffer == "-0") buffer = "0";
  return buffer;
}

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative matching with backtracking to the last '*': every other token eats exactly one
  // character, so retrying from the last star is enough and bounds the work to O(|p| * |t|).
  std::size_t p = 0;
  std::size_t t = 0;
  std::optional<std::size_t> star_pattern;
  std::size_t star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      while (p < pattern.size() && pattern[p] == '*')
        ++p;
      if (p == pattern.size()) return true;
      star_pattern = p;
      star_text = t;
      continue;
    }
    if (p < pattern.size()) {
      if (const auto next = token_match(pattern, p, text[t])) {
        p = *next;
        ++t;
        continue;
      }
    }
    if (!star_pattern) return false;
    p = *star_pattern;
    t = ++star_text;
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

std::optional<std::pair<std::size_t, std::size_t>> clamp_range(long long start, long long stop,
                                                               std::size_t length) {
  const auto size = static_cast<long long>(length);
  if (start < 0) start = size + start;
  if (stop < 0) stop = size + stop;
  if (start < 0) start = 0;
  if (start > stop || start >= size) return std::nullopt;
  if (stop >= size) stop = size - 1;
  return std::pair{static_cast<std::size_t>(start), static_cast<std::size_t>(stop)};
}

std::optional<scan_options> parse_scan_options(const argv_type& argv, std::size_t first,
                                               bool type_allowed, std::string& error) {
  scan_options options;
  for (std::size_t i = first; i < argv.size(); i += 2) {
    const bool has_value = i + 1 < argv.size();
    if (has_value && is_word(argv[i], "count")) {
      const auto count = parse_integer(argv[i + 1]);
      if (!count) {
        error = error_reply(not_integer);
        return std::nullopt;
      }
      if (*count < 1) {
        error = error_reply(syntax_error);
        return std::nullopt;
      }
      options.count = *count;
    } else if (has_value && is_word(argv[i], "match")) {
      options.pattern = argv[i + 1];
      if (*options.pattern == "*") options.pattern.reset();
    } else if (has_value && type_allowed && is_word(argv[i], "type")) {
      options.type = lowercase(argv[i + 1]);
    } else {
      error = error_reply(syntax_error);
      return std::nullopt;
    }
  }
  return options;
}

std::optional<std::uint64_t> parse_cursor(std::string_view text) {
  // Redis reads the cursor with strtoul: a sign is accepted ("-1" wraps), leading space is not.
  if (!text.empty() && std::isspace(static_cast<unsigned char>(text[0]))) return std::nullopt;
  const std::string buffer(text);
  char* end = nullptr;
  errno = 0;
  const unsigned long long cursor = std::strtoull(buffer.c_str(), &end, 10);
  if (end != buffer.c_str() + buffer.size() || errno == ERANGE) return std::nullopt;
  return cursor;
}

std::string_view type_name(const value& data) {
  switch (data.index()) {
    case 0:
      return "string";
    case 1:
      return "list";
    case 2:
      return "hash";
    case 3:
      return "set";
    case 4:
      return "zset";
    default:
      return "stream";
  }
}

member_page scan_members(const std::vector<std::string_view>& names, std::uint64_t cursor,
                         long long count) {
  member_page page;
  if (names.size() <= scan_whole_max) {
    page.picked.resize(names.size());
    for (std::size_t i = 0; i < names.size(); ++i)
      page.picked[i] = i;
    return page;
  }
  // (cursor of the name, index), for the names at or after `cursor`.
  std::vector<std::pair<std::uint64_t, std::size_t>> ahead;
  for (std::size_t i = 0; i < names.size(); ++i)
    if (auto c = scan_cursor_of(names[i]); c >= cursor) ahead.emplace_back(c, i);
  const std::size_t at_least = static_cast<std::size_t>(std::max(count, 1LL));
  const auto wanted = std::max(at_least, names.size() / 32);
  auto by_cursor = [&](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : names[a.second] < names[b.second];
  };
  if (ahead.size() > wanted) {
    // The page ends after the wanted-th smallest cursor and every name that shares it (a cursor
    // never splits names with the same value).
    std::nth_element(ahead.begin(), ahead.begin() + static_cast<std::ptrdiff_t>(wanted - 1),
                     ahead.end(), by_cursor);
    const auto last = ahead[wanted - 1].first;
    auto rest =
        std::partition(ahead.begin(), ahead.end(), [&](const auto& a) { return a.first <= last; });
    if (rest != ahead.end()) page.next = std::min_element(rest, ahead.end(), by_cursor)->first;
    ahead.erase(rest, ahead.end());
  }
  std::sort(ahead.begin(), ahead.end(), by_cursor);
  for (const auto& a : ahead)
    page.picked.push_back(a.second);
  return page;
}

std::string parse_random_count(const argv_type& argv, std::string_view with_word,
                               std::optional<long long>& count, bool& with) {
  with = false;
  if (argv.size() < 3) return {};
  count = parse_integer(argv[2]);
  if (!count) return error_reply(not_integer);
  if (*count == std::numeric_limits<long long>::min())
    return error_reply("ERR value is out of range, value must between -9223372036854775807 and "
                       "9223372036854775807");
  if (argv.size() > 4 || (argv.size() == 4 && !is_word(argv[3], with_word)))
    return error_reply(syntax_error);
  with = argv.size() == 4;
  constexpr long long half = std::numeric_limits<long long>::max() / 2;
  if (with && (*count < -half || *count > half)) return error_reply("ERR value is out of range");
  if (*count < 0 && static_cast<unsigned long long>(-*count) > limits::kv_random_reply_elements_max)
    return error_reply("ERR value is out of range");
  return {};
}

std::uint64_t random_read_seed(const keyspace& keys, const std::string& key, std::uint64_t now_ms) {
  const entry* e = keys.find_visible(key, now_ms);
  return mix64(now_ms ^ key_hash(key) ^ mix64(e == nullptr ? 0 : e->version) ^
               mix64(keys.read_entropy()));
}

std::string check_subcommand(const argv_type& argv, std::initializer_list<subcommand_arity> table) {
  const std::string parent = lowercase(argv[0]);
  const std::string sub = lowercase(argv[1]);
  const auto n = static_cast<int>(argv.size());
  for (const auto& row : table) {
    if (row.name != sub) continue;
    if (row.arity > 0 ? n == row.arity : n >= -row.arity) return {};
    return arity_error(parent + "|" + sub);
  }
  std::string upper = parent;
  for (auto& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return error_reply("ERR unknown subcommand '" + argv[1].substr(0, 128) + "'. Try " + upper +
                     " HELP.");
}

std::string subcommand_syntax_error(const argv_type& argv) {
  std::string upper = argv[0];
  for (auto& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return error_reply("ERR unknown subcommand or wrong number of arguments for '" +
                     argv[1].substr(0, 128) + "'. Try " + upper + " HELP.");
}

} // namespace prez::kv
