#pragma once
// `prez-server --agent ...` arguments. Pure apart from reading --cluster-secret-file.
#include <string>
#include <variant>
#include <vector>

#include <cstdint>

namespace prez {

struct agent_settings {
  std::string dir;    ///< hosted nodes live in <dir>/<node>/
  std::string secret; ///< the cluster secret spawn requests must be sealed with
  std::string bind = "127.0.0.1";
  std::uint16_t port = 0; ///< where launchers reach the agent (CAF's middleman)
};

struct agent_args {
  agent_settings settings;
  std::string loglevel = "notice";
};

/// Parses `--agent --cluster-port P --dir D [--bind ADDR] [--cluster-secret-file F]
/// [--loglevel L]` (words[0] is --agent). The secret comes from the file, else from
/// `secret_from_env` (PREZ_CLUSTER_SECRET; may be null): an agent without one refuses to start,
/// as it would run whatever any process asked. Returns the reason on failure.
std::variant<agent_args, std::string> parse_agent_args(const std::vector<std::string>& words,
                                                       const char* secret_from_env);

} // namespace prez
