#pragma once
// The spawn request a launcher (prez-ctl up / add) sends an agent (prez-server --agent) through
// CAF's remote spawning: which node to host and its configuration files, sealed with the cluster
// secret so that only a launcher that knows it can start a node (docs/decisions.md D26). Pure: no
// CAF, no I/O.
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include <msgpack.hpp>

namespace prez {

inline constexpr std::uint32_t spawn_request_version = 1;
/// A request older or newer than this (by the agent's clock) is refused: a recorded request
/// cannot be replayed much later. Generous, as hosts' clocks differ.
inline constexpr std::uint64_t spawn_request_age_max_ms = 10 * 60 * 1000;
/// Larger sealed requests are refused before they are decoded.
inline constexpr std::size_t spawn_request_bytes_max = 256 * 1024;

struct spawn_request {
  std::uint32_t version = spawn_request_version;
  std::string node;       ///< the node's name (is_valid_node_name)
  std::string prez_conf;  ///< its prez.conf, without `dir` and `cluster-config-file` (the agent's)
  std::string nodes_conf; ///< its nodes.conf
  std::uint64_t issued_ms = 0; ///< the launcher's wall clock, Unix milliseconds
  std::uint64_t nonce = 0;     ///< random: two requests never seal to the same bytes
  MSGPACK_DEFINE(version, node, prez_conf, nodes_conf, issued_ms, nonce)
};

/// msgpack bytes of `request` followed by their HMAC-SHA256 under `secret` (non-empty).
std::vector<char> seal_spawn_request(const spawn_request& request, const std::string& secret);

/// Checks the seal under `secret`, decodes, and checks the version, the node name and the age
/// against `now_ms`. Returns the request, or why it is refused (a sentence for the launcher).
std::variant<spawn_request, std::string> open_spawn_request(const std::vector<char>& sealed,
                                                            const std::string& secret,
                                                            std::uint64_t now_ms);

} // namespace prez
