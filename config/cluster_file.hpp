#pragma once
// cluster.conf: the launcher's description of a whole cluster, for `prez-ctl up` and `prez-ctl
// add`, which spawn each node on an agent (`prez-server --agent`). Pure: text in, result out.
//
//   # cluster.conf
//   cluster-secret "at least 16 bytes"          # required: proves prez-ctl to the agents, and
//                                              # becomes every node's cluster-secret
//   node n1 10.0.0.1:7000 9000 7100            # name, agent host:port, client port, cluster port
//   node n2 10.0.0.2:7000 9000 7100
//   node n3 10.0.0.3:7000 9000 7100 learner    # optional: a non-voting member
//   set cluster-node-timeout 1000              # any prez.conf setting, for every node
//
// A node listens for clients and peers on its agent's host. Same comment, quoting and error
// rules as prez.conf (config/node_config.hpp): errors read `file:line: reason`.
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "config/node_config.hpp"

namespace prez {

struct planned_node {
  std::string name;
  std::string agent_host;
  std::uint16_t agent_port = 0;
  std::uint16_t port = 0;         ///< client (RESP) port
  std::uint16_t cluster_port = 0; ///< peer port
  bool learner = false;
  std::size_t source_line = 0;
  friend bool operator==(const planned_node&, const planned_node&) = default;
};

struct cluster_plan {
  std::string secret;
  std::vector<planned_node> nodes;                           ///< in file order
  std::vector<std::pair<std::string, std::string>> settings; ///< `set key value`, in order
  std::string source_file;
  const planned_node* find(const std::string& name) const;
};

/// Parses cluster.conf text. Every node's generated prez.conf is checked with
/// parse_node_config, so a bad `set` line is reported here, at the launcher, not by an agent.
std::variant<cluster_plan, config_error> parse_cluster_file(std::string_view text,
                                                            const std::string& file_name);

/// Reads and parses `path` (at most limits::config_file_bytes_max bytes).
std::variant<cluster_plan, config_error> load_cluster_file(const std::string& path);

/// The prez.conf a node of `plan` runs with, without `dir` and `cluster-config-file` (its agent
/// adds those). `joining`: the node joins the running cluster (`cluster-join yes`).
std::string node_prez_conf(const cluster_plan& plan, const planned_node& node, bool joining);

/// The nodes.conf every node of `plan` starts from (all its nodes, learners tagged).
std::string plan_nodes_conf(const cluster_plan& plan);

} // namespace prez
