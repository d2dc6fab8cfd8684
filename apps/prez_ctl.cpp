// prez-ctl: the operator's tool. Speaks RESP to prez nodes over plain TCP; every decision (the
// arguments, INFO parsing, lag, the table and JSON, how replies print) is in
// actors/gateway/ctl_report, this file only moves bytes. `prez-ctl up` and `prez-ctl add` also
// spawn nodes on agents through CAF's remote spawning (actors/agent, config/cluster_file).
// `prez-ctl --help` lists the commands.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "caf/all.hpp"
#include "caf/io/all.hpp"

#include "actors/agent/launcher_actor.hpp"
#include "actors/gateway/ctl_report.hpp"
#include "actors/gateway/resp3.hpp"
#include "apps/ctl_connection.hpp"
#include "apps/ctl_snapshot_save.hpp"
#include "config/cluster_file.hpp"
#include "messages/spawn_request.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
using prez::address_of;

std::string request(const prez::ctl_endpoint& endpoint, const std::string& password,
                    const std::vector<std::string>& argv, std::string& reply,
                    prez::resp2_reply& parsed) {
  return prez::ctl_request(endpoint, password, argv, reply, parsed);
}

int run_status(const prez::ctl_args& args) {
  std::vector<prez::node_status> nodes;
  for (const auto& endpoint : args.nodes) {
    std::string reply;
    prez::resp2_reply parsed;
    auto address = address_of(endpoint);
    auto error = request(endpoint, args.password, {"INFO", "raft"}, reply, parsed);
    if (!error.empty())
      nodes.push_back(prez::node_down(address, error));
    else if (parsed.type == '-')
      nodes.push_back(prez::node_down(address, std::string(parsed.payload)));
    else if (parsed.type != '$' || parsed.null)
      nodes.push_back(prez::node_down(address, "INFO raft answered no text"));
    else
      nodes.push_back(prez::node_from_info(address, parsed.payload));
  }
  prez::compute_lag(nodes);
  auto text = args.json ? prez::format_status_json(nodes) : prez::format_status_table(nodes);
  std::fwrite(text.data(), 1, text.size(), stdout);
  if (!args.json) {
    auto leaders = prez::count_leaders(nodes);
    if (leaders != 1) std::fprintf(stderr, "prez-ctl: %zu leaders among the answers\n", leaders);
  }
  return prez::status_exit_code(nodes);
}

int run_command(const prez::ctl_args& args) {
  std::string reply;
  prez::resp2_reply parsed;
  auto error = request(args.target, args.password, args.command, reply, parsed);
  if (!error.empty()) {
    std::fprintf(stderr, "prez-ctl: %s: %s\n", address_of(args.target).c_str(), error.c_str());
    return 1;
  }
  if (parsed.type == '-') {
    std::fprintf(stderr, "prez-ctl: %.*s\n", static_cast<int>(parsed.payload.size()),
                 parsed.payload.data());
    return 1;
  }
  auto text = prez::format_reply(parsed);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

// --- prez-ctl up / add: spawn nodes on agents ---------------------------------------------------

/// How long one agent may take to answer a spawn (it recovers the node's data dir first), and how
/// long a new cluster may take to elect a leader / a new node to be added.
constexpr auto spawn_timeout = std::chrono::seconds(60);
constexpr auto settle_timeout = std::chrono::seconds(30);

std::uint64_t wall_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

prez::ctl_endpoint client_endpoint(const prez::planned_node& node) {
  return {node.agent_host, node.port};
}

/// The password clients need, when the plan sets one for every node.
std::string plan_password(const prez::cluster_plan& plan) {
  for (const auto& [key, value] : plan.settings)
    if (key == "requirepass") return value;
  return {};
}

/// INFO raft of one node, or nullopt when it does not answer as a node.
std::optional<prez::node_status> info_of(const prez::ctl_endpoint& endpoint,
                                         const std::string& password) {
  std::string reply;
  prez::resp2_reply parsed;
  if (!request(endpoint, password, {"INFO", "raft"}, reply, parsed).empty()) return std::nullopt;
  if (parsed.type != '$' || parsed.null) return std::nullopt;
  auto status = prez::node_from_info(address_of(endpoint), parsed.payload);
  if (!status.up) return std::nullopt;
  return status;
}

/// Spawns `node` of `plan` on its agent. Prints what happened; false on failure.
bool spawn_node(caf::actor_system& system, const prez::cluster_plan& plan,
                const prez::planned_node& node, bool joining) {
  std::random_device entropy;
  prez::spawn_request spawn;
  spawn.node = node.name;
  spawn.prez_conf = prez::node_prez_conf(plan, node, joining);
  spawn.nodes_conf = prez::plan_nodes_conf(plan);
  spawn.issued_ms = wall_ms();
  spawn.nonce = (std::uint64_t{entropy()} << 32) ^ entropy();
  auto sealed = prez::seal_spawn_request(spawn, plan.secret);
  auto agent = address_of({node.agent_host, node.agent_port});
  auto reason =
      prez::spawn_on_agent(system, node.agent_host, node.agent_port, sealed,
                           std::chrono::duration_cast<std::chrono::milliseconds>(spawn_timeout));
  if (!reason.empty()) {
    std::fprintf(stderr, "prez-ctl: %s on agent %s: %s\n", node.name.c_str(), agent.c_str(),
                 reason.c_str());
    return false;
  }
  std::printf("%s: running on agent %s (clients: %s)\n", node.name.c_str(), agent.c_str(),
              address_of(client_endpoint(node)).c_str());
  std::fflush(stdout);
  return true;
}

/// Waits until `done` holds for the nodes' INFO raft answers, polling every 100 ms.
template <class Done>
bool wait_for(const std::vector<prez::ctl_endpoint>& endpoints, const std::string& password,
              Done done) {
  auto deadline = clock_type::now() + settle_timeout;
  while (clock_type::now() < deadline) {
    std::vector<prez::node_status> answers;
    for (const auto& endpoint : endpoints)
      if (auto status = info_of(endpoint, password)) answers.push_back(*status);
    if (done(answers)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

int print_status(const std::vector<prez::ctl_endpoint>& endpoints, const std::string& password) {
  prez::ctl_args status;
  status.action = prez::ctl_action::status;
  status.nodes = endpoints;
  status.password = password;
  return run_status(status);
}

/// prez-ctl up cluster.conf | prez-ctl add cluster.conf <node>
int run_launch(const std::vector<std::string>& words) {
  const bool add = words[0] == "add";
  if (words.size() != (add ? 3u : 2u)) {
    std::fprintf(stderr, "prez-ctl: usage: prez-ctl up <cluster.conf> | prez-ctl add "
                         "<cluster.conf> <node>\n");
    return 2;
  }
  auto loaded = prez::load_cluster_file(words[1]);
  if (auto* error = std::get_if<prez::config_error>(&loaded)) {
    std::fprintf(stderr, "prez-ctl: %s\n", error->message.c_str());
    return 2;
  }
  const auto& plan = std::get<prez::cluster_plan>(loaded);
  const auto password = plan_password(plan);
  std::vector<prez::ctl_endpoint> endpoints;
  for (const auto& node : plan.nodes)
    endpoints.push_back(client_endpoint(node));

  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  cfg.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system system{cfg};
  int exit_code = 0;
  if (!add) {
    for (const auto& node : plan.nodes)
      if (!spawn_node(system, plan, node, false)) exit_code = 1;
    if (exit_code != 0) return exit_code;
    bool led = wait_for(endpoints, password, [](const std::vector<prez::node_status>& nodes) {
      return prez::count_leaders(nodes) == 1;
    });
    if (!led)
      std::fprintf(stderr, "prez-ctl: no leader within %lld s\n",
                   static_cast<long long>(settle_timeout.count()));
    return print_status(endpoints, password) == 0 && led ? 0 : 1;
  }
  const auto* node = plan.find(words[2]);
  if (node == nullptr) {
    std::fprintf(stderr, "prez-ctl: %s has no node '%s' (add its node line first)\n",
                 words[1].c_str(), words[2].c_str());
    return 2;
  }
  if (!spawn_node(system, plan, *node, true)) return 1;
  // RAFT.NODE ADD through any other node: followers route it to the leader like a write.
  std::vector<std::string> argv{"RAFT.NODE", "ADD", node->name,
                                address_of({node->agent_host, node->cluster_port})};
  if (node->learner) argv.push_back("LEARNER");
  std::string added_by;
  std::string last_error = "no other node in the plan";
  for (const auto& other : plan.nodes) {
    if (other.name == node->name) continue;
    std::string reply;
    prez::resp2_reply parsed;
    auto error = request(client_endpoint(other), password, argv, reply, parsed);
    if (error.empty() && parsed.type != '-') {
      added_by = other.name;
      break;
    }
    last_error = address_of(client_endpoint(other)) + ": " +
                 (error.empty() ? std::string(parsed.payload) : error);
  }
  if (added_by.empty()) {
    std::fprintf(stderr, "prez-ctl: RAFT.NODE ADD %s failed: %s\n", node->name.c_str(),
                 last_error.c_str());
    return 1;
  }
  const std::string wanted = node->learner ? "learner" : "voter";
  bool joined = wait_for({client_endpoint(*node)}, password,
                         [&](const std::vector<prez::node_status>& nodes) {
                           return nodes.size() == 1 && nodes[0].membership == wanted;
                         });
  if (!joined)
    std::fprintf(stderr, "prez-ctl: %s was added but is not a %s after %lld s\n",
                 node->name.c_str(), wanted.c_str(),
                 static_cast<long long>(settle_timeout.count()));
  return print_status(endpoints, password) == 0 && joined ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> words(argv + 1, argv + argc);
  if (!words.empty() && (words[0] == "up" || words[0] == "add")) {
    int code = run_launch(words);
    std::fflush(stdout);
    // The actor system's shutdown can wait on the agents' connections; nothing is left to do.
    std::_Exit(code);
  }
  auto parsed = prez::parse_ctl_args(words);
  if (!parsed.error.empty()) {
    std::fprintf(stderr, "prez-ctl: %s\n(prez-ctl --help lists the commands)\n",
                 parsed.error.c_str());
    return 2;
  }
  auto& args = parsed.args;
  if (args.password.empty())
    if (const char* from_env = std::getenv("PREZ_CTL_PASSWORD")) args.password = from_env;
  switch (args.action) {
    case prez::ctl_action::help: {
      auto text = prez::ctl_usage();
      std::fwrite(text.data(), 1, text.size(), stdout);
      return 0;
    }
    case prez::ctl_action::status:
      return run_status(args);
    case prez::ctl_action::command:
      return run_command(args);
    case prez::ctl_action::snapshot_save: // backups (docs/decisions.md D25)
      return prez::run_snapshot_save(args);
  }
  return 2;
}
