#include "config/node_config.hpp"

#include "actors/state_machine/kv_state.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <type_traits>
#include <utility>

#include "config/limits.hpp"

namespace prez {

namespace {

/// One line of a config file without its line terminator.
struct config_line {
  std::size_t number; ///< 1-based
  std::string_view text;
};

config_error make_error(const std::string& file, std::size_t line, const std::string& reason) {
  std::string message = file;
  if (line > 0) message += ":" + std::to_string(line);
  message += ": " + reason;
  return config_error{std::move(message), file, line};
}

std::vector<config_line> split_lines(std::string_view text) {
  std::vector<config_line> lines;
  std::size_t number = 0;
  while (!text.empty()) {
    ++number;
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(config_line{number, line});
  }
  return lines;
}

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/// Splits a line into tokens. A token may be double-quoted; inside quotes `\"` and `\\` are the
/// only escapes (any other backslash is kept literally). Returns the reason on failure.
std::variant<std::vector<std::string>, std::string> tokenize(std::string_view line) {
  std::vector<std::string> tokens;
  std::size_t i = 0;
  while (true) {
    while (i < line.size() && is_blank(line[i]))
      ++i;
    if (i == line.size()) return tokens;
    std::string token;
    if (line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < line.size() && !closed) {
        char c = line[i++];
        if (c == '\\' && i < line.size() && (line[i] == '"' || line[i] == '\\'))
          token += line[i++];
        else if (c == '"')
          closed = true;
        else
          token += c;
      }
      if (!closed) return std::string{"unbalanced quotes"};
      if (i < line.size() && !is_blank(line[i]))
        return std::string{"closing quote must be followed by a space"};
    } else {
      while (i < line.size() && !is_blank(line[i]))
        token += line[i++];
    }
    tokens.push_back(std::move(token));
  }
}

/// True for a line that holds nothing: blank or a comment.
bool is_ignorable(std::string_view line) {
  std::size_t first = 0;
  while (first < line.size() && is_blank(line[first]))
    ++first;
  return first == line.size() || line[first] == '#';
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return out;
}

/// Parses a decimal number made of digits only (no sign, no spaces).
std::optional<std::uint64_t> parse_decimal(std::string_view s) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return value;
}

/// Parses `value` as a number within [low, high]; returns the reason on failure.
std::variant<std::uint64_t, std::string> parse_ranged(std::string_view key, std::string_view value,
                                                      std::uint64_t low, std::uint64_t high) {
  auto number = parse_decimal(value);
  if (!number)
    return "'" + std::string(key) + "' must be a number, got '" + std::string(value) + "'";
  if (*number < low || *number > high)
    return "'" + std::string(key) + "' must be between " + std::to_string(low) + " and " +
           std::to_string(high) + ", got " + std::string(value);
  return *number;
}

/// Host names, IPv4 and IPv6 literals (with an optional %zone): no spaces, no brackets.
bool is_valid_host(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == ':' || c == '_' || c == '%';
  });
}

/// Resolves a relative `value` against the directory of `config_file` (pure path arithmetic).
std::string resolve_path(const std::string& config_file, const std::string& value) {
  std::filesystem::path path(value);
  std::filesystem::path base = std::filesystem::path(config_file).parent_path();
  if (path.is_absolute() || base.empty()) return value;
  return (base / path).lexically_normal().string();
}

/// Applies one `key value` pair to `config`. Returns the reason on failure, empty on success.
std::string apply_key(node_config& config, const std::string& key, const std::string& value) {
  auto ranged = [&](std::uint64_t low, std::uint64_t high, auto& field) -> std::string {
    auto parsed = parse_ranged(key, value, low, high);
    if (auto* reason = std::get_if<std::string>(&parsed)) return *reason;
    field = static_cast<std::remove_reference_t<decltype(field)>>(std::get<std::uint64_t>(parsed));
    return {};
  };
  if (key == "name") {
    if (!is_valid_node_name(value))
      return "invalid name '" + value + "': use 1.." + std::to_string(limits::node_name_bytes_max) +
             " characters from [A-Za-z0-9._-]";
    config.name = value;
  } else if (key == "port") {
    return ranged(1, 65535, config.port);
  } else if (key == "cluster-port") {
    return ranged(1, 65535, config.cluster_port);
  } else if (key == "metrics-port") {
    return ranged(0, 65535, config.metrics_port);
  } else if (key == "cluster-node-timeout") {
    return ranged(50, 600000, config.cluster_node_timeout_ms);
  } else if (key == "cluster-link-window") {
    return ranged(limits::link_window_bytes_min, limits::link_window_bytes_max,
                  config.cluster_link_window_bytes);
  } else if (key == "maxclients") {
    return ranged(1, limits::maxclients_max, config.maxclients);
  } else if (key == "snapshot-entries") {
    return ranged(0, limits::snapshot_entries_max, config.snapshot_entries);
  } else if (key == "snapshot-bytes") {
    return ranged(0, limits::snapshot_bytes_max_setting, config.snapshot_bytes);
  } else if (key == "snapshot-trailing-entries") {
    return ranged(0, limits::snapshot_entries_max, config.snapshot_trailing_entries);
  } else if (key == "audit-log-max-bytes") {
    return ranged(0, limits::audit_log_max_bytes_max, config.audit_log_max_bytes);
  } else if (key == "audit-log-keep") {
    return ranged(1, limits::audit_log_keep_max, config.audit_log_keep);
  } else if (key == "bind") {
    if (!is_valid_host(value)) return "invalid bind address '" + value + "'";
    config.bind = value;
  } else if (key == "loglevel") {
    std::string level = to_lower(value);
    if (!is_valid_loglevel(level))
      return "invalid loglevel '" + value +
             "' (expected debug, verbose, notice, warning, trace, info, warn, error, critical or "
             "off)";
    config.loglevel = level;
  } else if (key == "notify-keyspace-events") {
    const auto flags = kv::parse_notify_flags(value);
    if (!flags)
      return "invalid notify-keyspace-events '" + value +
             "' (use the letters of Ag$lshzxeKEtmdn, or \"\" for none)";
    config.notify_keyspace_events = kv::notify_flags_text(*flags);
  } else if (key == "follower-mode") {
    std::string mode = to_lower(value);
    if (mode != "proxy" && mode != "redirect")
      return "invalid follower-mode '" + value + "' (expected proxy or redirect)";
    config.mode = mode == "proxy" ? follower_mode::proxy : follower_mode::redirect;
  } else if (key == "requirepass") {
    if (value.empty() || value.size() > 512) return "'requirepass' must be 1..512 bytes";
    config.requirepass = value;
  } else if (key == "cluster-secret") {
    if (value.size() < 16 || value.size() > 512)
      return "'cluster-secret' must be 16..512 bytes (the same on every node)";
    config.cluster_secret = value;
  } else if (key == "cluster-join") {
    const auto flag = to_lower(value);
    if (flag != "yes" && flag != "no")
      return "invalid cluster-join '" + value + "' (expected yes or no)";
    config.cluster_join = flag == "yes";
  } else if (key == "role") {
    const auto word = to_lower(value);
    if (word != "voter" && word != "learner")
      return "invalid role '" + value + "' (expected voter or learner)";
    config.learner = word == "learner";
  } else if (key == "protected-mode") {
    std::string flag = to_lower(value);
    if (flag != "yes" && flag != "no")
      return "invalid protected-mode '" + value + "' (expected yes or no)";
    config.protected_mode = flag == "yes";
  } else if (key == "tls-cert-file" || key == "tls-key-file" || key == "tls-ca-cert-file") {
    if (value.empty()) return "'" + key + "' must not be empty";
    (key == "tls-cert-file"  ? config.tls_cert_file
     : key == "tls-key-file" ? config.tls_key_file
                             : config.tls_ca_cert_file) = resolve_path(config.source_file, value);
  } else if (key == "dir" || key == "cluster-config-file" || key == "audit-log") {
    if (value.empty()) return "'" + key + "' must not be empty";
    if (key == "audit-log" && value.back() == '/') return "'audit-log' must name a file";
    (key == "dir"         ? config.dir
     : key == "audit-log" ? config.audit_log
                          : config.cluster_config_file) = resolve_path(config.source_file, value);
  } else if (auto stored = parse_stored_parameter(key, value)) {
    if (!stored->refusal.empty()) return "invalid " + key + " '" + value + "': " + stored->refusal;
    config.stored_parameters[stored->name] = stored->value;
  } else {
    return "unknown key '" + key + "'";
  }
  return {};
}

std::variant<std::string, config_error> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path, 0, std::string("cannot open file: ") + std::strerror(errno));
  std::string content;
  std::array<char, 4096> chunk{};
  while (in) {
    in.read(chunk.data(), chunk.size());
    content.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
    if (content.size() > limits::config_file_bytes_max)
      return make_error(
          path, 0, "file larger than " + std::to_string(limits::config_file_bytes_max) + " bytes");
  }
  if (in.bad())
    return make_error(path, 0, std::string("cannot read file: ") + std::strerror(errno));
  return content;
}

/// The tokens of one line of either file (prez.conf, nodes.conf): none for a blank line or a
/// comment, or the reason the line is refused.
std::variant<std::vector<std::string>, std::string> tokens_of(const config_line& line) {
  if (line.text.size() > limits::config_line_bytes_max)
    return "line longer than " + std::to_string(limits::config_line_bytes_max) + " bytes";
  if (is_ignorable(line.text)) return std::vector<std::string>{};
  return tokenize(line.text);
}

} // namespace

std::string apply_config_key(node_config& config, const std::string& key,
                             const std::string& value) {
  return apply_key(config, key, value);
}

std::variant<std::string, config_error> read_config_file(const std::string& path) {
  return read_file(path);
}

std::variant<std::vector<std::string>, std::string> split_config_line(std::string_view line) {
  return tokens_of(config_line{0, line});
}

std::string quote_config_value(std::string_view value) {
  bool plain = !value.empty() && value.front() != '"';
  for (char c : value)
    if (is_blank(c) || c == '\n' || c == '"' || c == '\\') plain = false;
  if (plain) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::variant<std::pair<std::string, std::uint16_t>, std::string>
parse_address(std::string_view address) {
  std::size_t colon = address.rfind(':');
  if (colon == std::string_view::npos)
    return "invalid address '" + std::string(address) + "' (expected host:port)";
  std::string_view host = address.substr(0, colon);
  std::string_view port_text = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  else if (host.find(':') != std::string_view::npos)
    return "invalid address '" + std::string(address) + "' (write IPv6 as [addr]:port)";
  if (!is_valid_host(host))
    return "invalid address '" + std::string(address) + "' (expected host:port)";
  auto port = parse_decimal(port_text);
  if (!port || *port < 1 || *port > 65535)
    return "invalid port in '" + std::string(address) + "' (expected 1..65535)";
  return std::pair{std::string(host), static_cast<std::uint16_t>(*port)};
}

bool is_valid_node_name(std::string_view name) {
  if (name.empty() || name.size() > limits::node_name_bytes_max) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

bool is_valid_loglevel(std::string_view level) {
  return !spdlog_level_name(level).empty();
}

std::string_view spdlog_level_name(std::string_view level) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 10> table{{
      {"debug", "debug"},
      {"verbose", "debug"},
      {"notice", "info"},
      {"warning", "warning"},
      {"trace", "trace"},
      {"info", "info"},
      {"warn", "warning"},
      {"error", "error"},
      {"critical", "critical"},
      {"off", "off"},
  }};
  for (const auto& [word, spdlog_name] : table)
    if (word == level) return spdlog_name;
  return {};
}

std::variant<node_config, config_error> parse_node_config(std::string_view text,
                                                          const std::string& file_name) {
  node_config config;
  config.source_file = file_name;
  config.dir = resolve_path(file_name, config.dir);
  std::map<std::string, std::size_t> first_line_of_key;
  for (const config_line& line : split_lines(text)) {
    auto tokens_or_reason = tokens_of(line);
    if (auto* reason = std::get_if<std::string>(&tokens_or_reason))
      return make_error(file_name, line.number, *reason);
    auto& tokens = std::get<std::vector<std::string>>(tokens_or_reason);
    if (tokens.empty()) continue; // blank or a comment
    std::string key = to_lower(tokens[0]);
    if (auto [it, inserted] = first_line_of_key.emplace(key, line.number); !inserted)
      return make_error(file_name, line.number,
                        "duplicate key '" + key + "' (first set on line " +
                            std::to_string(it->second) + ")");
    if (tokens.size() == 1)
      return make_error(file_name, line.number, "missing value for '" + key + "'");
    if (tokens.size() > 2)
      return make_error(file_name, line.number,
                        "too many values for '" + key +
                            "' (expected one; quote values with "
                            "spaces)");
    if (std::string reason = apply_key(config, key, tokens[1]); !reason.empty())
      return make_error(file_name, line.number, reason);
  }
  if (config.metrics_port != 0 &&
      (config.metrics_port == config.port || config.metrics_port == config.cluster_port))
    return make_error(file_name, first_line_of_key["metrics-port"],
                      "'metrics-port' " + std::to_string(config.metrics_port) +
                          " is already the client port or the cluster port");
  // TLS is all or nothing: CAF's openssl module connects without any authentication when it has
  // no certificates (docs/decisions.md D24), so a half-configured node must not start.
  const std::array<std::pair<const char*, const std::string*>, 3> tls_keys{{
      {"tls-cert-file", &config.tls_cert_file},
      {"tls-key-file", &config.tls_key_file},
      {"tls-ca-cert-file", &config.tls_ca_cert_file},
  }};
  const auto tls_given = std::count_if(tls_keys.begin(), tls_keys.end(),
                                       [](const auto& key) { return !key.second->empty(); });
  if (tls_given != 0 && tls_given != 3) {
    for (const auto& [key, field] : tls_keys)
      if (field->empty())
        return make_error(file_name, 0,
                          std::string("'") + key +
                              "' is missing: TLS for node links needs tls-cert-file, "
                              "tls-key-file and tls-ca-cert-file together");
  }
  if (config.cluster_config_file.empty()) {
    config.members = {cluster_member{config.name, "127.0.0.1", config.cluster_port, 0}};
    return config;
  }
  if (!first_line_of_key.contains("name"))
    return make_error(file_name, 0, "'name' is required when cluster-config-file is set");
  if (!first_line_of_key.contains("cluster-port"))
    return make_error(file_name, 0, "'cluster-port' is required when cluster-config-file is set");
  return config;
}

std::variant<std::vector<cluster_member>, config_error>
parse_nodes_file(std::string_view text, const std::string& file_name) {
  std::vector<cluster_member> members;
  std::map<std::string, std::size_t> line_of_name;
  std::map<std::string, std::size_t> line_of_address;
  for (const config_line& line : split_lines(text)) {
    auto tokens_or_reason = tokens_of(line);
    if (auto* reason = std::get_if<std::string>(&tokens_or_reason))
      return make_error(file_name, line.number, *reason);
    auto& tokens = std::get<std::vector<std::string>>(tokens_or_reason);
    if (tokens.empty()) continue; // blank or a comment
    if (tokens.size() != 2 && tokens.size() != 3)
      return make_error(file_name, line.number,
                        "expected 'node-name host:cluster-port [learner]', got " +
                            std::to_string(tokens.size()) + " fields");
    if (tokens.size() == 3 && to_lower(tokens[2]) != "learner")
      return make_error(file_name, line.number,
                        "unknown flag '" + tokens[2] + "' (expected 'learner' or nothing)");
    if (!is_valid_node_name(tokens[0]))
      return make_error(file_name, line.number,
                        "invalid node name '" + tokens[0] + "': use 1.." +
                            std::to_string(limits::node_name_bytes_max) +
                            " characters from [A-Za-z0-9._-]");
    auto address = parse_address(tokens[1]);
    if (auto* reason = std::get_if<std::string>(&address))
      return make_error(file_name, line.number, *reason);
    auto& [host, port] = std::get<std::pair<std::string, std::uint16_t>>(address);
    if (auto [it, inserted] = line_of_name.emplace(tokens[0], line.number); !inserted)
      return make_error(file_name, line.number,
                        "duplicate node name '" + tokens[0] + "' (first on line " +
                            std::to_string(it->second) + ")");
    std::string address_key = to_lower(host) + " " + std::to_string(port);
    if (auto [it, inserted] = line_of_address.emplace(address_key, line.number); !inserted)
      return make_error(file_name, line.number,
                        "duplicate address '" + tokens[1] + "' (first on line " +
                            std::to_string(it->second) + ")");
    if (members.size() == limits::cluster_nodes_max)
      return make_error(file_name, line.number,
                        "more than " + std::to_string(limits::cluster_nodes_max) + " nodes");
    members.push_back(cluster_member{tokens[0], host, port, line.number, tokens.size() == 3});
  }
  if (members.empty()) return make_error(file_name, 0, "no nodes listed");
  if (std::none_of(members.begin(), members.end(), [](const auto& m) { return !m.learner; }))
    return make_error(file_name, 0, "no voter listed (every node is a learner)");
  std::sort(members.begin(), members.end(),
            [](const cluster_member& a, const cluster_member& b) { return a.name < b.name; });
  return members;
}

std::variant<std::monostate, config_error> attach_members(node_config& config,
                                                          std::vector<cluster_member> members,
                                                          const std::string& nodes_file_name) {
  auto self = std::find_if(members.begin(), members.end(),
                           [&](const cluster_member& m) { return m.name == config.name; });
  if (self == members.end())
    return make_error(nodes_file_name, 0, "this node '" + config.name + "' is not listed");
  if (self->cluster_port != config.cluster_port)
    return make_error(nodes_file_name, self->source_line,
                      "node '" + config.name + "' has cluster port " +
                          std::to_string(self->cluster_port) + " here but cluster-port " +
                          std::to_string(config.cluster_port) + " in " +
                          (config.source_file.empty() ? "prez.conf" : config.source_file));
  if (config.learner && !self->learner)
    return make_error(nodes_file_name, self->source_line,
                      "node '" + config.name + "' has 'role learner' in " +
                          (config.source_file.empty() ? "prez.conf" : config.source_file) +
                          " but is a voter here: add 'learner' to its line (the same nodes.conf "
                          "on every node, so they agree on who votes)");
  config.members = std::move(members);
  return std::monostate{};
}

std::variant<node_config, config_error> load_node_config(const std::string& path) {
  auto text = read_file(path);
  if (auto* error = std::get_if<config_error>(&text)) return std::move(*error);
  auto parsed = parse_node_config(std::get<std::string>(text), path);
  if (std::holds_alternative<config_error>(parsed) ||
      std::get<node_config>(parsed).cluster_config_file.empty())
    return parsed;
  node_config& config = std::get<node_config>(parsed);
  auto nodes_text = read_file(config.cluster_config_file);
  if (auto* error = std::get_if<config_error>(&nodes_text)) return std::move(*error);
  auto members = parse_nodes_file(std::get<std::string>(nodes_text), config.cluster_config_file);
  if (auto* error = std::get_if<config_error>(&members)) return std::move(*error);
  auto attached = attach_members(config, std::move(std::get<std::vector<cluster_member>>(members)),
                                 config.cluster_config_file);
  if (auto* error = std::get_if<config_error>(&attached)) return std::move(*error);
  return parsed;
}

std::string format_nodes_file(const std::vector<cluster_member>& members,
                              const std::vector<std::string>& removed) {
  std::string out = "# nodes.conf, rewritten by prez from the cluster's committed configuration.\n"
                    "# node-name host:cluster-port [learner]\n";
  for (const auto& m : members) {
    const bool v6 = m.host.find(':') != std::string::npos;
    out += m.name + " " + (v6 ? "[" + m.host + "]" : m.host) + ":" +
           std::to_string(m.cluster_port) + (m.learner ? " learner" : "") + "\n";
  }
  for (const auto& name : removed)
    out += "# removed: " + name + " (names are never reused)\n";
  return out;
}

node_config default_single_node_config() {
  node_config config;
  config.members = {cluster_member{config.name, "127.0.0.1", 0, 0}};
  return config;
}

} // namespace prez
