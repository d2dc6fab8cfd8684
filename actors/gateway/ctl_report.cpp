#include "actors/gateway/ctl_report.hpp"

#include "actors/gateway/ctl_backup.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>

namespace prez {

namespace {

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  auto value = parse_u64(text);
  if (!value || *value == 0 || *value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(*value);
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// The RESP argv of a thin-wrapper command (`node ...`, `transfer`, `snapshot`), or a usage error.
std::string wrapper_command(const std::vector<std::string>& words, std::vector<std::string>& out) {
  const auto& verb = words[0];
  const auto rest = words.size() - 1;
  if (verb == "transfer") {
    if (rest != 1) return "transfer takes one node name";
    out = {"RAFT.TRANSFER", words[1]};
    return {};
  }
  if (verb == "snapshot") {
    if (rest != 0) return "snapshot takes no arguments";
    out = {"RAFT.SNAPSHOT"};
    return {};
  }
  if (verb != "node") return "unknown command '" + verb + "'";
  if (rest == 0) return "node needs add, remove or list";
  const auto sub = lowercase(words[1]);
  if (sub == "list") {
    if (rest != 1) return "node list takes no arguments";
    out = {"RAFT.NODE", "LIST"};
    return {};
  }
  if (sub == "remove") {
    if (rest != 2) return "node remove takes one node name";
    out = {"RAFT.NODE", "REMOVE", words[2]};
    return {};
  }
  if (sub != "add") return "unknown node subcommand '" + words[1] + "'";
  if (rest != 3 && rest != 4) return "node add takes <name> <host:port> [learner]";
  if (!parse_endpoint(words[3])) return "node add: bad address '" + words[3] + "' (want host:port)";
  out = {"RAFT.NODE", "ADD", words[2], words[3]};
  if (rest == 4) {
    if (lowercase(words[4]) != "learner") return "node add: unknown option '" + words[4] + "'";
    out.emplace_back("LEARNER");
  }
  return {};
}

/// Takes the option at `args[i]` (advancing `i` past its value); returns a usage error or "".
std::string take_option(const std::vector<std::string>& args, std::size_t& i, ctl_args& out,
                        bool& help) {
  std::string name = args[i];
  std::optional<std::string> value;
  if (auto eq = name.find('='); eq != std::string::npos) {
    value = name.substr(eq + 1);
    name.resize(eq);
  }
  if (name == "--help" || name == "-h") {
    help = true;
    return {};
  }
  if (name == "--json") {
    out.json = true;
    return value ? "--json takes no value" : "";
  }
  if (name != "--host" && name != "--port" && name != "--password")
    return "unknown option '" + name + "'";
  if (!value) {
    if (i + 1 >= args.size()) return name + " needs a value";
    value = args[++i];
  }
  if (name == "--host") {
    if (value->empty()) return "--host needs a value";
    out.target.host = *value;
  } else if (name == "--port") {
    auto port = parse_port(*value);
    if (!port) return "--port: bad port '" + *value + "' (want 1..65535)";
    out.target.port = *port;
  } else {
    out.password = *value;
  }
  return {};
}

std::string pad(std::string text, std::size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text;
}

/// Aligned columns, two spaces apart, the last column unpadded; every line ends in '\n'.
std::string format_columns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (widths.size() <= c) widths.push_back(0);
      widths[c] = std::max(widths[c], row[c].size());
    }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c)
      line += c + 1 == row.size() ? row[c] : pad(row[c], widths[c]) + "  ";
    while (!line.empty() && line.back() == ' ')
      line.pop_back();
    out += line + "\n";
  }
  return out;
}

/// A scalar reply's text (nil as `(nil)`, an integer as `(integer) N`); an array's items joined.
std::string scalar_text(const resp2_reply& reply) {
  if (reply.null) return "(nil)";
  if (reply.type == ':') return "(integer) " + std::string(reply.payload);
  if (reply.type == '*') {
    if (reply.elements.empty()) return "(empty array)";
    std::string out;
    for (const auto& element : reply.elements)
      out += (out.empty() ? "" : " ") + scalar_text(element);
    return out;
  }
  return std::string(reply.payload);
}

} // namespace

std::string ctl_usage() {
  return "usage: prez-ctl [options] <command> [arguments]\n"
         "\n"
         "commands:\n"
         "  status [host:port ...]             INFO raft of every node given (default: --host and\n"
         "                                     --port), one row each: name, address, role, term,\n"
         "                                     commit/applied/last log index, lag behind the\n"
         "                                     leader, snapshot index, membership, or down: "
         "reason\n"
         "  node add <name> <host:port> [learner]\n"
         "                                     add a node (RAFT.NODE ADD; host:port is its "
         "cluster\n"
         "                                     port)\n"
         "  node remove <name>                 remove a node (RAFT.NODE REMOVE)\n"
         "  node list                          the members: name, cluster address, voter|learner|\n"
         "                                     joining (RAFT.NODE LIST)\n"
         "  transfer <name>                    hand leadership to <name> (RAFT.TRANSFER)\n"
         "  snapshot                           take a snapshot now (RAFT.SNAPSHOT)\n"
         "  snapshot save <file> [host:port]   back the cluster up into <file>: every write\n"
         "                                     acknowledged before it began (RAFT.SNAPSHOT FETCH,\n"
         "                                     READ); checked as a node checks its snapshots\n"
         "  help                               this text\n"
         "\n"
         "options:\n"
         "  --host H        node to send node/transfer/snapshot to (default 127.0.0.1)\n"
         "  --port P        its client (RESP) port (default 9000)\n"
         "  --password PW   AUTH with PW first (requirepass); also from PREZ_CTL_PASSWORD\n"
         "  --json          status: a JSON array instead of the table\n"
         "  -h, --help      this text\n"
         "\n"
         "Every node gets 2 s to connect and answer. Exit codes: 0 success (status: every node\n"
         "answered and exactly one is leader); 1 a node failed, answered an error or status found\n"
         "a down node or not exactly one leader; 2 usage error.\n";
}

std::optional<ctl_endpoint> parse_endpoint(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  else if (host.find(':') != std::string_view::npos)
    return std::nullopt; // a bare IPv6 address is ambiguous: write [v6]:port
  auto port = parse_port(text.substr(colon + 1));
  if (host.empty() || !port) return std::nullopt;
  return ctl_endpoint{std::string(host), *port};
}

ctl_parse_result parse_ctl_args(const std::vector<std::string>& args) {
  ctl_parse_result result;
  auto& out = result.args;
  bool help = false;
  std::vector<std::string> words;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i].size() > 1 && args[i][0] == '-') {
      result.error = take_option(args, i, out, help);
      if (!result.error.empty()) return result;
    } else {
      words.push_back(args[i]);
    }
  }
  if (help || (!words.empty() && words[0] == "help")) {
    out.action = ctl_action::help;
    return result;
  }
  if (words.empty()) {
    result.error = "no command given";
    return result;
  }
  if (words[0] == "status") {
    out.action = ctl_action::status;
    for (std::size_t i = 1; i < words.size(); ++i) {
      auto endpoint = parse_endpoint(words[i]);
      if (!endpoint) {
        result.error = "status: bad address '" + words[i] + "' (want host:port)";
        return result;
      }
      out.nodes.push_back(*endpoint);
    }
    if (out.nodes.empty()) out.nodes.push_back(out.target);
    if (out.nodes.size() > ctl_limits::status_nodes_max)
      result.error = "status: at most " + std::to_string(ctl_limits::status_nodes_max) + " nodes";
    return result;
  }
  if (out.json) {
    result.error = "--json is only for status";
    return result;
  }
  if (words[0] == "snapshot" && words.size() > 1 && words[1] == "save") {
    result.error = parse_snapshot_save(words, out); // backups: ctl_backup.hpp
    return result;
  }
  out.action = ctl_action::command;
  result.error = wrapper_command(words, out.command);
  return result;
}

std::map<std::string, std::string> parse_info_fields(std::string_view text) {
  std::map<std::string, std::string> fields;
  while (!text.empty()) {
    auto eol = text.find('\n');
    auto line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    fields[std::string(line.substr(0, colon))] = std::string(line.substr(colon + 1));
  }
  return fields;
}

node_status node_down(std::string address, std::string reason) {
  node_status status;
  status.address = std::move(address);
  status.down_reason = std::move(reason);
  return status;
}

node_status node_from_info(std::string address, std::string_view info_text) {
  const auto fields = parse_info_fields(info_text);
  node_status status;
  status.address = std::move(address);
  for (const char* key : {"node", "role", "membership"})
    if (!fields.contains(key))
      return node_down(status.address, "INFO raft lacks " + std::string(key));
  status.name = fields.at("node");
  status.role = fields.at("role");
  status.membership = fields.at("membership");
  if (auto it = fields.find("leader"); it != fields.end()) status.leader = it->second;
  const std::pair<const char*, std::uint64_t*> numbers[] = {
      {"term", &status.term},
      {"commit_index", &status.commit_index},
      {"last_applied", &status.last_applied},
      {"last_log_index", &status.last_log_index},
      {"snapshot_index", &status.snapshot_index},
  };
  for (const auto& [key, field] : numbers) {
    auto it = fields.find(key);
    auto value = it == fields.end() ? std::nullopt : parse_u64(it->second);
    if (!value)
      return node_down(status.address, "INFO raft lacks a number for " + std::string(key));
    *field = *value;
  }
  status.up = true;
  return status;
}

std::optional<std::size_t> find_leader(const std::vector<node_status>& nodes) {
  std::optional<std::size_t> found;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (!nodes[i].up || nodes[i].role != "leader") continue;
    if (!found || nodes[i].term > nodes[*found].term) found = i;
  }
  return found;
}

void compute_lag(std::vector<node_status>& nodes) {
  const auto leader = find_leader(nodes);
  for (auto& node : nodes) {
    node.lag.reset();
    if (!leader || !node.up) continue;
    const auto commit = nodes[*leader].commit_index;
    node.lag = commit > node.last_applied ? commit - node.last_applied : 0;
  }
}

std::size_t count_leaders(const std::vector<node_status>& nodes) {
  return static_cast<std::size_t>(std::count_if(
      nodes.begin(), nodes.end(), [](const auto& n) { return n.up && n.role == "leader"; }));
}

int status_exit_code(const std::vector<node_status>& nodes) {
  bool all_up = std::all_of(nodes.begin(), nodes.end(), [](const auto& n) { return n.up; });
  return all_up && count_leaders(nodes) == 1 ? 0 : 1;
}

std::string format_status_table(const std::vector<node_status>& nodes) {
  std::vector<std::vector<std::string>> rows{{"NAME", "ADDRESS", "ROLE", "TERM", "COMMIT",
                                              "APPLIED", "LAST_LOG", "LAG", "SNAPSHOT",
                                              "MEMBERSHIP"}};
  for (const auto& n : nodes) {
    if (!n.up) {
      rows.push_back({"-", n.address, "down: " + n.down_reason});
      continue;
    }
    rows.push_back({n.name, n.address, n.role, std::to_string(n.term),
                    std::to_string(n.commit_index), std::to_string(n.last_applied),
                    std::to_string(n.last_log_index), n.lag ? std::to_string(*n.lag) : "-",
                    std::to_string(n.snapshot_index), n.membership});
  }
  // A down row's reason stands where ROLE starts and does not widen the columns after NAME and
  // ADDRESS.
  std::vector<std::size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c)
      if (row.size() == widths.size() || c < 2) widths[c] = std::max(widths[c], row[c].size());
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c)
      line += c + 1 == row.size() ? row[c] : pad(row[c], widths[c]) + "  ";
    out += line + "\n";
  }
  return out;
}

std::string json_quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      char escaped[7];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string format_status_json(const std::vector<node_status>& nodes) {
  std::string out = "[";
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const auto& n = nodes[i];
    out += i == 0 ? "\n  {" : ",\n  {";
    out += "\"address\": " + json_quote(n.address) + ", \"up\": " + (n.up ? "true" : "false");
    if (!n.up) {
      out += ", \"down_reason\": " + json_quote(n.down_reason) + "}";
      continue;
    }
    out += ", \"name\": " + json_quote(n.name) + ", \"role\": " + json_quote(n.role) +
           ", \"term\": " + std::to_string(n.term) +
           ", \"commit_index\": " + std::to_string(n.commit_index) +
           ", \"last_applied\": " + std::to_string(n.last_applied) +
           ", \"last_log_index\": " + std::to_string(n.last_log_index) +
           ", \"lag\": " + (n.lag ? std::to_string(*n.lag) : "null") +
           ", \"snapshot_index\": " + std::to_string(n.snapshot_index) +
           ", \"membership\": " + json_quote(n.membership) +
           ", \"leader\": " + json_quote(n.leader) + "}";
  }
  return out + (nodes.empty() ? "]\n" : "\n]\n");
}

std::string format_reply(const resp2_reply& reply) {
  if (reply.type != '*' || reply.null || reply.elements.empty()) return scalar_text(reply) + "\n";
  bool rows = std::all_of(reply.elements.begin(), reply.elements.end(),
                          [](const auto& e) { return e.type == '*' && !e.null; });
  if (!rows) {
    std::string out;
    for (const auto& element : reply.elements)
      out += scalar_text(element) + "\n";
    return out;
  }
  std::vector<std::vector<std::string>> table;
  for (const auto& element : reply.elements) {
    std::vector<std::string> row;
    for (const auto& item : element.elements)
      row.push_back(scalar_text(item));
    table.push_back(std::move(row));
  }
  return format_columns(table);
}

} // namespace prez
