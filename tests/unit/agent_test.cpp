// cluster.conf, sealed spawn requests and `prez-server --agent` arguments (pure parts of
// actors/agent and config/cluster_file).
#include <catch2/catch.hpp>

#include "actors/agent/agent_args.hpp"
#include "actors/agent/hosted_node.hpp"
#include "config/cluster_file.hpp"
#include "messages/frame_auth.hpp"
#include "messages/spawn_request.hpp"

namespace {

const char* good_plan = "# a cluster\n"
                        "cluster-secret \"0123456789abcdef 0123\"\n"
                        "node n1 127.0.0.1:7001 9001 7101\n"
                        "node n2 127.0.0.1:7002 9002 7102\n"
                        "node n3 127.0.0.1:7003 9003 7103 learner\n"
                        "set cluster-node-timeout 700\n"
                        "set requirepass \"pass word\"\n";

std::string error_of(std::string_view text) {
  auto parsed = prez::parse_cluster_file(text, "cluster.conf");
  auto* error = std::get_if<prez::config_error>(&parsed);
  return error ? error->message : std::string();
}

} // namespace

TEST_CASE("cluster.conf: nodes, secret and settings", "[agent]") {
  auto parsed = prez::parse_cluster_file(good_plan, "cluster.conf");
  REQUIRE(std::holds_alternative<prez::cluster_plan>(parsed));
  const auto& plan = std::get<prez::cluster_plan>(parsed);
  CHECK(plan.secret == "0123456789abcdef 0123");
  REQUIRE(plan.nodes.size() == 3);
  CHECK(plan.nodes[0] == prez::planned_node{"n1", "127.0.0.1", 7001, 9001, 7101, false, 3});
  CHECK(plan.nodes[2].learner);
  CHECK(plan.find("n2") == &plan.nodes[1]);
  CHECK(plan.find("n9") == nullptr);

  // Each node's prez.conf parses as prez.conf, with the settings and the quoted values intact.
  auto conf = prez::node_prez_conf(plan, plan.nodes[2], true);
  auto node = prez::parse_node_config(conf + "cluster-config-file nodes.conf\n", "x/prez.conf");
  REQUIRE(std::holds_alternative<prez::node_config>(node));
  const auto& config = std::get<prez::node_config>(node);
  CHECK(config.name == "n3");
  CHECK(config.port == 9003);
  CHECK(config.cluster_port == 7103);
  CHECK(config.cluster_secret == plan.secret);
  CHECK(config.requirepass == "pass word");
  CHECK(config.cluster_node_timeout_ms == 700);
  CHECK(config.cluster_join);
  CHECK(config.learner);

  auto nodes = prez::parse_nodes_file(prez::plan_nodes_conf(plan), "nodes.conf");
  REQUIRE(std::holds_alternative<std::vector<prez::cluster_member>>(nodes));
  const auto& members = std::get<std::vector<prez::cluster_member>>(nodes);
  REQUIRE(members.size() == 3);
  CHECK(members[1].cluster_port == 7102);
  CHECK(members[2].learner);
}

TEST_CASE("cluster.conf: every mistake is refused with its line", "[agent]") {
  CHECK(error_of("node n1 127.0.0.1:7001 9001 7101\n") ==
        "cluster.conf: no cluster-secret: agents only start nodes for a launcher that proves it");
  CHECK(error_of("cluster-secret short\nnode n1 127.0.0.1:7001 9001 7101\n") ==
        "cluster.conf:1: 'cluster-secret' must be 16..512 bytes");
  CHECK(error_of("cluster-secret 0123456789abcdef\n") == "cluster.conf: no node line");
  CHECK(error_of("cluster-secret 0123456789abcdef\nnode n1 127.0.0.1:7001 9001\n")
            .starts_with("cluster.conf:2: expected: node <name>"));
  CHECK(error_of("cluster-secret 0123456789abcdef\nnode n1 127.0.0.1:7001 9001 99999\n") ==
        "cluster.conf:2: cluster port: '99999' is not a port (1..65535)");
  CHECK(error_of("cluster-secret 0123456789abcdef\nnode n1 127.0.0.1:7001 9001 9001\n") ==
        "cluster.conf:2: 127.0.0.1:9001 is used twice");
  CHECK(error_of("cluster-secret 0123456789abcdef\nnode n1 127.0.0.1:7001 9001 7101\n"
                 "node n1 127.0.0.1:7002 9002 7102\n") ==
        "cluster.conf:3: node 'n1' is listed twice");
  CHECK(error_of("cluster-secret 0123456789abcdef\nnode n1 127.0.0.1:7001 9001 7101 learner\n") ==
        "cluster.conf: every node is a learner: at least one must vote");
  CHECK(error_of("cluster-secret 0123456789abcdef\nnode n1 127.0.0.1:7001 9001 7101\n"
                 "set dir /tmp\n")
            .starts_with("cluster.conf:3: 'dir' cannot be set"));
  CHECK(error_of("cluster-secret 0123456789abcdef\nnode n1 127.0.0.1:7001 9001 7101\n"
                 "set loglevel loud\n")
            .starts_with("cluster.conf: node 'n1': cluster.conf:"));
  CHECK(error_of("cluster-secret 0123456789abcdef\nnodes n1\n")
            .starts_with("cluster.conf:2: unknown keyword 'nodes'"));
}

TEST_CASE("spawn requests: only the right secret opens them, and only while fresh", "[agent]") {
  prez::spawn_request request;
  request.node = "n1";
  request.prez_conf = "name n1\n";
  request.nodes_conf = "n1 127.0.0.1:7101\n";
  request.issued_ms = 1'000'000'000;
  request.nonce = 42;
  const std::string secret = "0123456789abcdef";
  auto sealed = prez::seal_spawn_request(request, secret);

  auto opened = prez::open_spawn_request(sealed, secret, request.issued_ms + 1000);
  REQUIRE(std::holds_alternative<prez::spawn_request>(opened));
  CHECK(std::get<prez::spawn_request>(opened).prez_conf == request.prez_conf);
  CHECK(std::get<prez::spawn_request>(opened).nodes_conf == request.nodes_conf);

  auto wrong = prez::open_spawn_request(sealed, "another secret!!", request.issued_ms);
  REQUIRE(std::holds_alternative<std::string>(wrong));
  CHECK(std::get<std::string>(wrong) ==
        "the request is not sealed with this agent's cluster secret");

  // Every flipped byte breaks the seal.
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    auto damaged = sealed;
    damaged[i] ^= 0x20;
    CHECK(std::holds_alternative<std::string>(
        prez::open_spawn_request(damaged, secret, request.issued_ms)));
  }
  auto stale = prez::open_spawn_request(sealed, secret, request.issued_ms + 11 * 60 * 1000);
  REQUIRE(std::holds_alternative<std::string>(stale));
  CHECK(std::get<std::string>(stale).find("replayed, or clocks differ") != std::string::npos);
  CHECK(std::holds_alternative<std::string>(
      prez::open_spawn_request(sealed, secret, request.issued_ms - 11 * 60 * 1000)));

  request.version = 2;
  auto future = prez::open_spawn_request(prez::seal_spawn_request(request, secret), secret,
                                         request.issued_ms);
  REQUIRE(std::holds_alternative<std::string>(future));
  CHECK(std::get<std::string>(future).starts_with("spawn request version 2"));

  request.version = prez::spawn_request_version;
  request.node = "../etc";
  auto bad_name = prez::open_spawn_request(prez::seal_spawn_request(request, secret), secret,
                                           request.issued_ms);
  REQUIRE(std::holds_alternative<std::string>(bad_name));
  CHECK(std::get<std::string>(bad_name) == "'../etc' is not a valid node name");

  std::vector<char> garbage(40, 'x');
  prez::seal_frame(garbage, secret);
  CHECK(std::get<std::string>(prez::open_spawn_request(garbage, secret, 0)) ==
        "the request is not a spawn request (undecodable)");
  CHECK(std::holds_alternative<std::string>(prez::open_spawn_request({}, secret, 0)));
}

TEST_CASE("prez-server --agent arguments", "[agent]") {
  using words = std::vector<std::string>;
  auto ok = prez::parse_agent_args(
      words{"--agent", "--cluster-port", "7001", "--dir", "d", "--bind", "0.0.0.0"},
      "0123456789abcdef");
  REQUIRE(std::holds_alternative<prez::agent_args>(ok));
  const auto& args = std::get<prez::agent_args>(ok);
  CHECK(args.settings.port == 7001);
  CHECK(args.settings.dir == "d");
  CHECK(args.settings.bind == "0.0.0.0");
  CHECK(args.settings.secret == "0123456789abcdef");

  auto error = [](const words& w, const char* env) {
    auto parsed = prez::parse_agent_args(w, env);
    auto* text = std::get_if<std::string>(&parsed);
    return text ? *text : std::string();
  };
  CHECK(error({"--agent", "--cluster-port", "7001", "--dir", "d"}, nullptr)
            .starts_with("--agent: no cluster secret"));
  CHECK(error({"--agent", "--cluster-port", "7001", "--dir", "d"}, "short") ==
        "--agent: the cluster secret must be 16..512 bytes");
  CHECK(error({"--agent", "--dir", "d"}, "0123456789abcdef") ==
        "--agent: --cluster-port is required");
  CHECK(error({"--agent", "--cluster-port", "7001"}, "0123456789abcdef") ==
        "--agent: --dir is required");
  CHECK(error({"--agent", "--cluster-port", "0", "--dir", "d"}, "0123456789abcdef")
            .starts_with("--agent: --cluster-port: "));
  CHECK(error({"--agent", "--cluster-port"}, "0123456789abcdef") ==
        "--agent: '--cluster-port' needs a value");
  CHECK(error({"--agent", "--port", "1"}, "0123456789abcdef")
            .starts_with("--agent: unknown option '--port'"));
  CHECK(error({"--agent", "--cluster-port", "7001", "--dir", "d", "--cluster-secret-file",
               "/nonexistent/secret"},
              "0123456789abcdef")
            .find("cannot open file") != std::string::npos);
}

TEST_CASE("a hosted node's prez.conf: the agent decides the paths", "[agent]") {
  auto conf = prez::hosted_prez_conf("name n1\nport 9001\ncluster-port 7101");
  REQUIRE(std::holds_alternative<std::string>(conf));
  CHECK(std::get<std::string>(conf) ==
        "name n1\nport 9001\ncluster-port 7101\ndir data\ncluster-config-file nodes.conf\n");
  for (const char* text : {"name n1\ndir /etc\n", "name n1\n  DIR \"/tmp/x\"\n",
                           "cluster-config-file /etc/passwd\n", "Cluster-Config-File x\nname n1"}) {
    auto refused = prez::hosted_prez_conf(text);
    REQUIRE(std::holds_alternative<prez::hosted_conf_error>(refused));
    CHECK_THAT(std::get<prez::hosted_conf_error>(refused).message,
               Catch::Contains("which the agent decides"));
  }
  // A comment that mentions dir is not a setting.
  CHECK(std::holds_alternative<std::string>(prez::hosted_prez_conf("# dir /etc\nname n1\n")));
}

TEST_CASE("hosted.conf names one node", "[agent]") {
  CHECK(prez::parse_hosted_record(prez::hosted_record("n1")) == std::optional<std::string>("n1"));
  CHECK(prez::parse_hosted_record("# written by the agent\n\nnode n2\n") ==
        std::optional<std::string>("n2"));
  CHECK_FALSE(prez::parse_hosted_record(""));
  CHECK_FALSE(prez::parse_hosted_record("node n1\nnode n2\n"));
  CHECK_FALSE(prez::parse_hosted_record("node\n"));
  CHECK_FALSE(prez::parse_hosted_record("node n1 n2\n"));
  CHECK_FALSE(prez::parse_hosted_record("nodes n1\n"));
  CHECK_FALSE(prez::parse_hosted_record("node ../etc\n"));
  CHECK_FALSE(prez::parse_hosted_record("node \"unterminated\n"));
}
