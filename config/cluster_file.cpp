// cluster.conf parsing and the files each node is spawned with (config/cluster_file.hpp).
#include "config/cluster_file.hpp"

#include <algorithm>
#include <set>
#include <tuple>

namespace prez {

namespace {

config_error error_at(const std::string& file, std::size_t line, const std::string& reason) {
  auto where = line == 0 ? file : file + ":" + std::to_string(line);
  return config_error{where + ": " + reason, file, line};
}

std::variant<std::uint16_t, std::string> parse_port(const std::string& text) {
  if (text.empty() || text.size() > 5 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return "'" + text + "' is not a port (1..65535)";
  auto value = std::stoul(text);
  if (value < 1 || value > 65535) return "'" + text + "' is not a port (1..65535)";
  return static_cast<std::uint16_t>(value);
}

/// Keys a `set` line may not give: the plan itself decides them, or the agent does.
bool reserved_key(const std::string& key) {
  static const std::set<std::string> reserved{
      "name", "bind",           "port",         "cluster-port", "cluster-config-file",
      "dir",  "cluster-secret", "cluster-join", "role"};
  return reserved.contains(key);
}

} // namespace

const planned_node* cluster_plan::find(const std::string& name) const {
  for (const auto& node : nodes)
    if (node.name == name) return &node;
  return nullptr;
}

std::variant<cluster_plan, config_error> parse_cluster_file(std::string_view text,
                                                            const std::string& file_name) {
  cluster_plan plan;
  plan.source_file = file_name;
  std::size_t number = 0;
  std::set<std::string> keys_set;
  std::set<std::pair<std::string, std::uint16_t>> addresses;
  while (!text.empty()) {
    ++number;
    auto end = text.find('\n');
    auto line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    auto split = split_config_line(line);
    if (auto* reason = std::get_if<std::string>(&split))
      return error_at(file_name, number, *reason);
    auto& tokens = std::get<std::vector<std::string>>(split);
    if (tokens.empty()) continue;
    std::string keyword = tokens[0];
    std::transform(keyword.begin(), keyword.end(), keyword.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (keyword == "cluster-secret") {
      if (tokens.size() != 2)
        return error_at(file_name, number, "expected: cluster-secret <16..512 bytes>");
      if (!plan.secret.empty()) return error_at(file_name, number, "cluster-secret given twice");
      if (tokens[1].size() < 16 || tokens[1].size() > 512)
        return error_at(file_name, number, "'cluster-secret' must be 16..512 bytes");
      plan.secret = tokens[1];
    } else if (keyword == "node") {
      if (tokens.size() != 5 && tokens.size() != 6)
        return error_at(file_name, number,
                        "expected: node <name> <agent host:port> <client port> <cluster port> "
                        "[learner]");
      planned_node node;
      node.name = tokens[1];
      node.source_line = number;
      if (!is_valid_node_name(node.name))
        return error_at(file_name, number, "invalid node name '" + node.name + "'");
      if (plan.find(node.name))
        return error_at(file_name, number, "node '" + node.name + "' is listed twice");
      auto agent = parse_address(tokens[2]);
      if (auto* reason = std::get_if<std::string>(&agent))
        return error_at(file_name, number, "agent address: " + *reason);
      std::tie(node.agent_host, node.agent_port) =
          std::get<std::pair<std::string, std::uint16_t>>(agent);
      auto port = parse_port(tokens[3]);
      if (auto* reason = std::get_if<std::string>(&port))
        return error_at(file_name, number, "client port: " + *reason);
      node.port = std::get<std::uint16_t>(port);
      auto cluster_port = parse_port(tokens[4]);
      if (auto* reason = std::get_if<std::string>(&cluster_port))
        return error_at(file_name, number, "cluster port: " + *reason);
      node.cluster_port = std::get<std::uint16_t>(cluster_port);
      if (tokens.size() == 6) {
        if (tokens[5] != "learner")
          return error_at(file_name, number, "expected 'learner' or nothing after the ports");
        node.learner = true;
      }
      for (auto used : {node.port, node.cluster_port, node.agent_port})
        if (!addresses.insert({node.agent_host, used}).second)
          return error_at(file_name, number,
                          node.agent_host + ":" + std::to_string(used) + " is used twice");
      plan.nodes.push_back(std::move(node));
    } else if (keyword == "set") {
      if (tokens.size() != 3) return error_at(file_name, number, "expected: set <key> <value>");
      std::string key = tokens[1];
      std::transform(key.begin(), key.end(), key.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (reserved_key(key))
        return error_at(file_name, number,
                        "'" + key +
                            "' cannot be set: the node lines, cluster-secret or the agent "
                            "decide it");
      if (!keys_set.insert(key).second)
        return error_at(file_name, number, "'" + key + "' is set twice");
      plan.settings.emplace_back(key, tokens[2]);
    } else {
      return error_at(file_name, number,
                      "unknown keyword '" + tokens[0] + "' (expected cluster-secret, node or set)");
    }
  }
  if (plan.secret.empty())
    return error_at(file_name, 0,
                    "no cluster-secret: agents only start nodes for a launcher that proves it");
  if (plan.nodes.empty()) return error_at(file_name, 0, "no node line");
  if (plan.nodes.size() > limits::cluster_nodes_max)
    return error_at(file_name, 0,
                    "more than " + std::to_string(limits::cluster_nodes_max) + " nodes");
  if (std::none_of(plan.nodes.begin(), plan.nodes.end(),
                   [](const planned_node& n) { return !n.learner; }))
    return error_at(file_name, 0, "every node is a learner: at least one must vote");
  // Every node's prez.conf must be valid, so a bad `set` line is reported here with its line.
  for (const auto& node : plan.nodes) {
    auto parsed = parse_node_config(
        node_prez_conf(plan, node, false) + "cluster-config-file nodes.conf\n", file_name);
    if (auto* error = std::get_if<config_error>(&parsed))
      return error_at(file_name, 0, "node '" + node.name + "': " + error->message);
  }
  return plan;
}

std::variant<cluster_plan, config_error> load_cluster_file(const std::string& path) {
  auto text = read_config_file(path);
  if (auto* error = std::get_if<config_error>(&text)) return *error;
  return parse_cluster_file(std::get<std::string>(text), path);
}

std::string node_prez_conf(const cluster_plan& plan, const planned_node& node, bool joining) {
  std::string out = "# written by prez-ctl from " + plan.source_file + "\n";
  out += "name " + node.name + "\n";
  out += "bind " + node.agent_host + "\n";
  out += "port " + std::to_string(node.port) + "\n";
  out += "cluster-port " + std::to_string(node.cluster_port) + "\n";
  out += "cluster-secret " + quote_config_value(plan.secret) + "\n";
  if (node.learner) out += "role learner\n";
  if (joining) out += "cluster-join yes\n";
  for (const auto& [key, value] : plan.settings)
    out += key + " " + quote_config_value(value) + "\n";
  return out;
}

std::string plan_nodes_conf(const cluster_plan& plan) {
  std::vector<cluster_member> members;
  for (const auto& node : plan.nodes)
    members.push_back({node.name, node.agent_host, node.cluster_port, 0, node.learner});
  std::sort(members.begin(), members.end(),
            [](const cluster_member& a, const cluster_member& b) { return a.name < b.name; });
  return format_nodes_file(members, {});
}

} // namespace prez
