#include "actors/agent/hosted_node.hpp"

#include <cctype>
#include <vector>

#include "config/node_config.hpp"

namespace prez {

namespace {

/// Calls `visit(words)` for every line of `text`, split as prez.conf splits it (an empty vector
/// for a blank or comment line, nullptr for a line that does not split), until it returns false.
template <class Visit>
void each_line(std::string_view text, Visit visit) {
  for (std::size_t start = 0; start <= text.size();) {
    const auto end = text.find('\n', start);
    const auto line = text.substr(start, end == std::string_view::npos ? end : end - start);
    auto tokens = split_config_line(line);
    if (!visit(std::get_if<std::vector<std::string>>(&tokens))) return;
    if (end == std::string_view::npos) return;
    start = end + 1;
  }
}

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

} // namespace

std::variant<std::string, hosted_conf_error> hosted_prez_conf(std::string_view launcher_conf) {
  std::string refused;
  each_line(launcher_conf, [&](const std::vector<std::string>* words) {
    if (words != nullptr && !words->empty()) {
      auto key = lower((*words)[0]);
      if (key == "dir" || key == "cluster-config-file") refused = key;
    }
    return refused.empty();
  });
  if (!refused.empty())
    return hosted_conf_error{"the request sets '" + refused + "', which the agent decides"};
  std::string conf(launcher_conf);
  if (!conf.empty() && conf.back() != '\n') conf += '\n';
  conf += "dir data\ncluster-config-file nodes.conf\n";
  return conf;
}

std::string hosted_record(std::string_view name) {
  return "node " + std::string(name) + "\n";
}

std::optional<std::string> parse_hosted_record(std::string_view text) {
  std::optional<std::string> name;
  bool bad = false;
  each_line(text, [&](const std::vector<std::string>* words) {
    if (words == nullptr)
      bad = true;
    else if (words->empty())
      return true;
    else if (name || words->size() != 2 || (*words)[0] != "node" ||
             !is_valid_node_name((*words)[1]))
      bad = true;
    else
      name = (*words)[1];
    return !bad;
  });
  if (bad) return std::nullopt;
  return name;
}

} // namespace prez
