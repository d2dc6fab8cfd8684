// `prez-server --agent` arguments (actors/agent/agent_args.hpp).
#include "actors/agent/agent_args.hpp"

#include "config/node_config.hpp"

namespace prez {

std::variant<agent_args, std::string> parse_agent_args(const std::vector<std::string>& words,
                                                       const char* secret_from_env) {
  agent_args args;
  std::string secret_file;
  bool have_port = false;
  for (std::size_t i = 1; i < words.size(); ++i) {
    const auto& flag = words[i];
    if (i + 1 >= words.size()) return "--agent: '" + flag + "' needs a value";
    const auto& value = words[++i];
    if (flag == "--cluster-port") {
      auto parsed = parse_address("127.0.0.1:" + value);
      if (auto* reason = std::get_if<std::string>(&parsed))
        return "--agent: --cluster-port: " + *reason;
      args.settings.port = std::get<std::pair<std::string, std::uint16_t>>(parsed).second;
      have_port = true;
    } else if (flag == "--dir") {
      if (value.empty()) return std::string("--agent: --dir is empty");
      args.settings.dir = value;
    } else if (flag == "--bind") {
      args.settings.bind = value;
    } else if (flag == "--cluster-secret-file") {
      secret_file = value;
    } else if (flag == "--loglevel") {
      if (!is_valid_loglevel(value)) return "--agent: invalid --loglevel '" + value + "'";
      args.loglevel = value;
    } else {
      return "--agent: unknown option '" + flag +
             "' (expected --cluster-port, --dir, --bind, --cluster-secret-file, --loglevel)";
    }
  }
  if (!have_port) return std::string("--agent: --cluster-port is required");
  if (args.settings.dir.empty()) return std::string("--agent: --dir is required");
  if (!secret_file.empty()) {
    auto text = read_config_file(secret_file);
    if (auto* error = std::get_if<config_error>(&text)) return error->message;
    args.settings.secret = std::get<std::string>(text);
    while (!args.settings.secret.empty() &&
           (args.settings.secret.back() == '\n' || args.settings.secret.back() == '\r'))
      args.settings.secret.pop_back();
  } else if (secret_from_env != nullptr) {
    args.settings.secret = secret_from_env;
  }
  if (args.settings.secret.empty())
    return std::string("--agent: no cluster secret (set PREZ_CLUSTER_SECRET or "
                       "--cluster-secret-file): an agent starts nodes only for a launcher that "
                       "proves it");
  if (args.settings.secret.size() < 16 || args.settings.secret.size() > 512)
    return std::string("--agent: the cluster secret must be 16..512 bytes");
  return args;
}

} // namespace prez
