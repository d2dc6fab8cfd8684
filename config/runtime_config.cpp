// The CONFIG parameter table and its parsing (runtime_config.hpp). Pure. The parsing rules and the
// error texts are Redis 7.0's (checked against redis-server 7.0.15); the code is prez's own.

#include "config/runtime_config.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <climits>
#include <cstdint>
#include <limits>

#include "actors/state_machine/kv_commands.hpp"
#include "config/assert.hpp"
#include "config/limits.hpp"

namespace prez {

namespace {

enum class value_type { boolean, integer, memory, enumeration, string_value };

/// One parameter CONFIG knows.
struct row {
  std::string_view name;
  std::string_view alias;
  value_type type;
  std::int64_t low;  ///< integer and memory: inclusive bounds
  std::int64_t high; ///< Invariant: low <= high
  parameter_effect effect;
  std::string_view prez_conf_key; ///< see parameter_info
  std::string_view default_value; ///< Redis 7.0's default; the fixed value for `fixed` rows
};

constexpr std::int64_t long_max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t int_max = INT_MAX;
constexpr std::int64_t int_min = INT_MIN;

using enum value_type;
using enum parameter_effect;

/// Sorted by name. Values of rows backed by prez.conf are taken from node_config instead of the
/// default (runtime_config's constructor).
constexpr std::array rows{
    row{"activerehashing", "", boolean, 0, 0, stored, "activerehashing", "yes"},
    row{"appendfsync", "", enumeration, 0, 0, fixed, "", "always"},
    row{"appendonly", "", boolean, 0, 0, fixed, "", "yes"},
    row{"audit-log", "", string_value, 0, 0, immutable, "audit-log", ""},
    row{"audit-log-keep", "", integer, 1, limits::audit_log_keep_max, immutable, "audit-log-keep",
        ""},
    row{"audit-log-max-bytes", "", integer, 0, limits::audit_log_max_bytes_max, immutable,
        "audit-log-max-bytes", ""},
    row{"bind", "", string_value, 0, 0, immutable, "bind", ""},
    row{"cluster-config-file", "", string_value, 0, 0, immutable, "cluster-config-file", ""},
    row{"cluster-link-window", "", integer, limits::link_window_bytes_min,
        limits::link_window_bytes_max, immutable, "cluster-link-window", ""},
    row{"cluster-node-timeout", "", integer, 50, 600000, immutable, "cluster-node-timeout", ""},
    row{"cluster-port", "", integer, 1, 65535, immutable, "cluster-port", ""},
    row{"databases", "", integer, 1, int_max, immutable, "", "1"},
    row{"dir", "", string_value, 0, 0, immutable, "dir", ""},
    row{"follower-mode", "", enumeration, 0, 0, immutable, "follower-mode", ""},
    row{"hash-max-listpack-entries", "hash-max-ziplist-entries", integer, 0, long_max, stored,
        "hash-max-listpack-entries", "128"},
    row{"hash-max-listpack-value", "hash-max-ziplist-value", memory, 0, long_max, stored,
        "hash-max-listpack-value", "64"},
    row{"hll-sparse-max-bytes", "", memory, 0, long_max, stored, "hll-sparse-max-bytes", "3000"},
    row{"lazyfree-lazy-eviction", "", boolean, 0, 0, stored, "lazyfree-lazy-eviction", "no"},
    row{"lazyfree-lazy-expire", "", boolean, 0, 0, stored, "lazyfree-lazy-expire", "no"},
    row{"lazyfree-lazy-server-del", "", boolean, 0, 0, stored, "lazyfree-lazy-server-del", "no"},
    row{"lazyfree-lazy-user-del", "", boolean, 0, 0, stored, "lazyfree-lazy-user-del", "no"},
    row{"lazyfree-lazy-user-flush", "", boolean, 0, 0, stored, "lazyfree-lazy-user-flush", "no"},
    row{"list-compress-depth", "", integer, 0, int_max, stored, "list-compress-depth", "0"},
    row{"list-max-listpack-size", "list-max-ziplist-size", integer, int_min, int_max, stored,
        "list-max-listpack-size", "-2"},
    row{"loglevel", "", enumeration, 0, 0, live, "loglevel", ""},
    row{"maxclients", "", integer, 1, limits::maxclients_max, live, "maxclients", ""},
    row{"maxmemory", "", memory, 0, long_max, fixed, "", "0"},
    row{"metrics-port", "", integer, 0, 65535, immutable, "metrics-port", ""},
    row{"notify-keyspace-events", "", string_value, 0, 0, live, "notify-keyspace-events", ""},
    row{"port", "", integer, 1, 65535, immutable, "port", ""},
    row{"protected-mode", "", boolean, 0, 0, live, "protected-mode", ""},
    row{"replica-lazy-flush", "", boolean, 0, 0, stored, "replica-lazy-flush", "no"},
    row{"requirepass", "", string_value, 0, 0, live, "requirepass", ""},
    row{"save", "", string_value, 0, 0, fixed, "", ""},
    row{"set-max-intset-entries", "", integer, 0, long_max, stored, "set-max-intset-entries",
        "512"},
    row{"set-max-listpack-entries", "", integer, 0, long_max, stored, "set-max-listpack-entries",
        "128"},
    row{"set-max-listpack-value", "", memory, 0, long_max, stored, "set-max-listpack-value", "64"},
    row{"snapshot-bytes", "", integer, 0, limits::snapshot_bytes_max_setting, live,
        "snapshot-bytes", ""},
    row{"snapshot-entries", "", integer, 0, limits::snapshot_entries_max, live, "snapshot-entries",
        ""},
    row{"snapshot-trailing-entries", "", integer, 0, limits::snapshot_entries_max, immutable,
        "snapshot-trailing-entries", ""},
    row{"stream-node-max-bytes", "", memory, 0, long_max, stored, "stream-node-max-bytes", "4096"},
    row{"stream-node-max-entries", "", integer, 0, long_max, stored, "stream-node-max-entries",
        "100"},
    row{"timeout", "", integer, 0, int_max, fixed, "", "0"},
    row{"zset-max-listpack-entries", "zset-max-ziplist-entries", integer, 0, long_max, stored,
        "zset-max-listpack-entries", "128"},
    row{"zset-max-listpack-value", "zset-max-ziplist-value", memory, 0, long_max, stored,
        "zset-max-listpack-value", "64"},
};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return out;
}

const row* find_row(std::string_view name) {
  const auto wanted = lower(name);
  for (const auto& r : rows)
    if (r.name == wanted || (!r.alias.empty() && r.alias == wanted)) return &r;
  return nullptr;
}

/// The value prez.conf gave `r`, as CONFIG GET reports it.
std::string value_from(const node_config& c, const row& r) {
  const auto key = r.prez_conf_key;
  if (r.effect == stored) {
    const auto it = c.stored_parameters.find(std::string(r.name));
    return it == c.stored_parameters.end() ? std::string(r.default_value) : it->second;
  }
  if (key == "audit-log") return c.audit_log;
  if (key == "audit-log-keep") return std::to_string(c.audit_log_keep);
  if (key == "audit-log-max-bytes") return std::to_string(c.audit_log_max_bytes);
  if (key == "bind") return c.bind;
  if (key == "cluster-config-file") return c.cluster_config_file;
  if (key == "cluster-link-window") return std::to_string(c.cluster_link_window_bytes);
  if (key == "cluster-node-timeout") return std::to_string(c.cluster_node_timeout_ms);
  if (key == "cluster-port") return std::to_string(c.cluster_port);
  if (key == "dir") return c.dir;
  if (key == "follower-mode") return c.mode == follower_mode::proxy ? "proxy" : "redirect";
  if (key == "loglevel") return c.loglevel;
  if (key == "maxclients") return std::to_string(c.maxclients);
  if (key == "metrics-port") return std::to_string(c.metrics_port);
  if (key == "notify-keyspace-events") return c.notify_keyspace_events;
  if (key == "port") return std::to_string(c.port);
  if (key == "protected-mode") return c.protected_mode ? "yes" : "no";
  if (key == "requirepass") return c.requirepass;
  if (key == "snapshot-bytes") return std::to_string(c.snapshot_bytes);
  if (key == "snapshot-entries") return std::to_string(c.snapshot_entries);
  if (key == "snapshot-trailing-entries") return std::to_string(c.snapshot_trailing_entries);
  PREZ_ASSERT(false && "a prez.conf key in the CONFIG table has no value_from case");
  return {};
}

/// Redis's strict integer syntax: an optional '-', then digits without a leading zero (but "0").
std::optional<std::int64_t> parse_integer(std::string_view text) {
  const bool negative = !text.empty() && text.front() == '-';
  const auto digits = negative ? text.substr(1) : text;
  if (digits.empty() || (digits.size() > 1 && digits.front() == '0') ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

/// A memory value: digits with an optional unit (b, k, kb, m, mb, g, gb; any case; k = 1000,
/// kb = 1024). nullopt: not a memory value; UINT64_MAX: too large.
std::optional<std::uint64_t> parse_memory(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
    ++digits;
  if (digits == 0) return std::nullopt;
  const auto unit = lower(text.substr(digits));
  std::uint64_t multiplier = 0;
  if (unit.empty() || unit == "b")
    multiplier = 1;
  else if (unit == "k")
    multiplier = 1000;
  else if (unit == "kb")
    multiplier = 1024;
  else if (unit == "m")
    multiplier = 1000 * 1000;
  else if (unit == "mb")
    multiplier = 1024 * 1024;
  else if (unit == "g")
    multiplier = 1000 * 1000 * 1000;
  else if (unit == "gb")
    multiplier = 1024ull * 1024 * 1024;
  else
    return std::nullopt;
  std::uint64_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + digits, number);
  if (ec != std::errc{} || end != text.data() + digits ||
      number > std::numeric_limits<std::uint64_t>::max() / multiplier)
    return std::numeric_limits<std::uint64_t>::max();
  return number * multiplier;
}

std::string between(const row& r) {
  return "argument must be between " + std::to_string(r.low) + " and " + std::to_string(r.high) +
         " inclusive";
}

/// The words an enumeration accepts, as Redis lists them in its error.
std::string_view enum_words(const row& r) {
  if (r.name == "loglevel")
    return "debug, verbose, notice, warning, trace, info, warn, error, critical, off";
  if (r.name == "appendfsync") return "everysec, always, no";
  return "proxy, redirect";
}

bool enum_accepts(const row& r, const std::string& word) {
  if (r.name == "loglevel") return is_valid_loglevel(word);
  if (r.name == "appendfsync") return word == "everysec" || word == "always" || word == "no";
  return word == "proxy" || word == "redirect";
}

/// Parses `text` for `r` into the form CONFIG GET reports. Returns the value, or the reason (the
/// part of Redis's error after " - ") as the second member.
std::pair<std::string, std::string> normalize(const row& r, const std::string& text) {
  switch (r.type) {
    case boolean: {
      const auto word = lower(text);
      if (word != "yes" && word != "no") return {{}, "argument must be 'yes' or 'no'"};
      return {word, {}};
    }
    case integer: {
      const auto number = parse_integer(text);
      if (!number) return {{}, "argument couldn't be parsed into an integer"};
      if (*number < r.low || *number > r.high) return {{}, between(r)};
      return {std::to_string(*number), {}};
    }
    case memory: {
      const auto bytes = parse_memory(text);
      if (!bytes) return {{}, "argument must be a memory value"};
      if (*bytes < static_cast<std::uint64_t>(r.low) || *bytes > static_cast<std::uint64_t>(r.high))
        return {{}, between(r)};
      return {std::to_string(*bytes), {}};
    }
    case enumeration: {
      const auto word = lower(text);
      if (!enum_accepts(r, word))
        return {{}, "argument(s) must be one of the following: " + std::string(enum_words(r))};
      return {word, {}};
    }
    case string_value:
      if (r.name == "notify-keyspace-events") {
        // Held as CONFIG GET answers it (Redis's canonical letters).
        const auto flags = kv::parse_notify_flags(text);
        if (!flags) return {{}, "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."};
        return {kv::notify_flags_text(*flags), {}};
      }
      return {text, {}};
  }
  return {{}, "unknown type"};
}

std::string set_failed(const std::string& argument, const std::string& reason) {
  return "ERR CONFIG SET failed (possibly related to argument '" + argument + "') - " + reason;
}

/// Why a value prez's own parser refuses cannot be set (the same check prez.conf makes), or
/// empty. An empty requirepass is allowed here: it turns the password off, as in Redis.
std::string prez_conf_refusal(const row& r, const std::string& value) {
  if (r.prez_conf_key.empty() || (r.name == "requirepass" && value.empty())) return {};
  // CONFIG REWRITE writes one line per parameter.
  if (value.find_first_of("\r\n") != std::string::npos)
    return "prez.conf values cannot hold a line break";
  node_config scratch;
  return apply_config_key(scratch, std::string(r.prez_conf_key), value);
}

} // namespace

std::optional<stored_parameter> parse_stored_parameter(std::string_view key,
                                                       const std::string& value) {
  const row* r = find_row(key);
  if (r == nullptr || r->effect != stored) return std::nullopt;
  auto [normalized, reason] = normalize(*r, value);
  return stored_parameter{std::string(r->name), std::move(normalized), std::move(reason)};
}

const std::vector<parameter_info>& config_parameter_table() {
  static const std::vector<parameter_info> table = [] {
    std::vector<parameter_info> out;
    for (const auto& r : rows)
      out.push_back({r.name, r.alias, r.effect, r.prez_conf_key});
    return out;
  }();
  return table;
}

bool is_glob_pattern(std::string_view pattern) {
  return pattern.find_first_of("*?[") != std::string_view::npos;
}

runtime_config::runtime_config(const node_config& config) {
  for (const auto& r : rows) {
    PREZ_ASSERT(r.low <= r.high);
    values_.emplace(std::string(r.name),
                    r.prez_conf_key.empty() ? std::string(r.default_value) : value_from(config, r));
  }
}

std::string runtime_config::set(const std::vector<std::string>& pairs) {
  if (pairs.size() % 2 != 0) return "ERR syntax error";
  // First the names, in order, as Redis 7 does: unknown, immutable, duplicate.
  // A name given twice is refused; a name and its alias are not (Redis 7.0 compares the names as
  // written): the later one wins, as the values are applied in order below.
  std::vector<const row*> targets;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < pairs.size(); i += 2) {
    const row* r = find_row(pairs[i]);
    if (r == nullptr)
      return "ERR Unknown option or number of arguments for CONFIG SET - '" + pairs[i] + "'";
    if (r->effect == immutable) return set_failed(pairs[i], "can't set immutable config");
    auto name = lower(pairs[i]);
    if (std::find(names.begin(), names.end(), name) != names.end())
      return set_failed(pairs[i], "duplicate parameter");
    names.push_back(std::move(name));
    targets.push_back(r);
  }
  // Then the values; nothing changes unless every one passes.
  std::vector<std::pair<std::string, std::string>> changes;
  for (std::size_t i = 0; i < pairs.size(); i += 2) {
    const row& r = *targets[i / 2];
    auto [value, reason] = normalize(r, pairs[i + 1]);
    if (reason.empty() && r.effect == fixed && value != r.default_value)
      reason = "prez supports only '" + std::string(r.default_value) + "' here";
    if (reason.empty()) reason = prez_conf_refusal(r, value);
    if (!reason.empty()) return set_failed(pairs[i], reason);
    changes.emplace_back(std::string(r.name), std::move(value));
  }
  for (auto& [name, value] : changes)
    values_.find(name)->second = std::move(value);
  return {};
}

std::vector<std::pair<std::string, std::string>>
runtime_config::get(const std::vector<std::string>& patterns) const {
  std::vector<std::pair<std::string, std::string>> out;
  auto add = [&](std::string name, const std::string& value) {
    const auto key = lower(name);
    for (const auto& [seen, unused] : out)
      if (lower(seen) == key) return;
    out.emplace_back(std::move(name), value);
  };
  for (const auto& pattern : patterns) {
    if (!is_glob_pattern(pattern)) {
      if (const row* r = find_row(pattern)) add(pattern, values_.find(r->name)->second);
      continue;
    }
    const auto folded = lower(pattern);
    for (const auto& r : rows) {
      const auto& value = values_.find(r.name)->second;
      if (kv::glob_match(folded, r.name)) add(std::string(r.name), value);
      if (!r.alias.empty() && kv::glob_match(folded, r.alias)) add(std::string(r.alias), value);
    }
  }
  return out;
}

std::optional<std::string> runtime_config::value(std::string_view name) const {
  const row* r = find_row(name);
  if (r == nullptr) return std::nullopt;
  return values_.find(r->name)->second;
}

namespace {

std::uint64_t to_u64(const std::string& text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  PREZ_ASSERT(ec == std::errc{} && end == text.data() + text.size());
  return value;
}

} // namespace

std::uint64_t runtime_config::maxclients() const {
  return to_u64(values_.find("maxclients")->second);
}
std::string runtime_config::requirepass() const {
  return values_.find("requirepass")->second;
}
std::string runtime_config::loglevel() const {
  return values_.find("loglevel")->second;
}
bool runtime_config::protected_mode() const {
  return values_.find("protected-mode")->second == "yes";
}
std::uint64_t runtime_config::snapshot_entries() const {
  return to_u64(values_.find("snapshot-entries")->second);
}
std::uint64_t runtime_config::snapshot_bytes() const {
  return to_u64(values_.find("snapshot-bytes")->second);
}
int runtime_config::notify_keyspace_events() const {
  const auto flags = kv::parse_notify_flags(values_.find("notify-keyspace-events")->second);
  PREZ_ASSERT(flags.has_value());
  return *flags;
}

std::variant<std::string, config_error>
runtime_config::rewrite(std::string_view old_text, const std::string& file_name) const {
  auto parsed = parse_node_config(old_text, file_name);
  if (auto* error = std::get_if<config_error>(&parsed)) return std::move(*error);
  const runtime_config on_disk(std::get<node_config>(parsed));
  // The file's lines, without their terminators.
  std::vector<std::string> lines;
  for (std::size_t start = 0; start < old_text.size();) {
    auto end = old_text.find('\n', start);
    if (end == std::string_view::npos) end = old_text.size();
    lines.emplace_back(old_text.substr(start, end - start));
    start = end + 1;
  }
  std::vector<std::string> appended;
  for (const auto& r : rows) {
    if (r.prez_conf_key.empty()) continue;
    const auto& now = values_.find(r.name)->second;
    if (now == on_disk.values_.find(r.name)->second) continue;
    const bool remove = r.name == "requirepass" && now.empty();
    const std::string line = std::string(r.prez_conf_key) + " " + quote_config_value(now);
    auto holds_key = [&](const std::string& text) {
      auto tokens = split_config_line(text);
      auto* words = std::get_if<std::vector<std::string>>(&tokens);
      return words != nullptr && !words->empty() && find_row(words->front()) == &r;
    };
    auto it = std::find_if(lines.begin(), lines.end(), holds_key);
    if (it != lines.end() && remove)
      lines.erase(it);
    else if (it != lines.end())
      *it = line;
    else if (!remove)
      appended.push_back(line);
  }
  std::string out;
  for (const auto& line : lines)
    out += line + "\n";
  if (!appended.empty()) {
    out += "# Set by CONFIG SET and written by CONFIG REWRITE\n";
    for (const auto& line : appended)
      out += line + "\n";
  }
  // The new text must load, and give what CONFIG GET reports now.
  auto reparsed = parse_node_config(out, file_name);
  if (auto* error = std::get_if<config_error>(&reparsed)) return std::move(*error);
  const runtime_config check(std::get<node_config>(reparsed));
  for (const auto& r : rows)
    if (!r.prez_conf_key.empty() &&
        check.values_.find(r.name)->second != values_.find(r.name)->second)
      return config_error{file_name + ": rewriting '" + std::string(r.name) + "' failed", file_name,
                          0};
  return out;
}

} // namespace prez
