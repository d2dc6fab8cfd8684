// Tests for prez.conf / nodes.conf parsing, validation and loading (config/node_config.hpp).

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <variant>

#include <unistd.h>

#include "config/limits.hpp"
#include "config/node_config.hpp"
#include "tests/temp_dir.hpp"

using namespace prez;

namespace {

node_config parse_ok(std::string_view text, const std::string& file = "prez.conf") {
  auto result = parse_node_config(text, file);
  if (auto* error = std::get_if<config_error>(&result))
    FAIL("unexpected error: " << error->message);
  return std::get<node_config>(result);
}

std::string parse_error(std::string_view text, const std::string& file = "prez.conf") {
  auto result = parse_node_config(text, file);
  REQUIRE(std::holds_alternative<config_error>(result));
  return std::get<config_error>(result).message;
}

std::vector<cluster_member> nodes_ok(std::string_view text) {
  auto result = parse_nodes_file(text, "nodes.conf");
  if (auto* error = std::get_if<config_error>(&result))
    FAIL("unexpected error: " << error->message);
  return std::get<std::vector<cluster_member>>(result);
}

std::string nodes_error(std::string_view text) {
  auto result = parse_nodes_file(text, "nodes.conf");
  REQUIRE(std::holds_alternative<config_error>(result));
  return std::get<config_error>(result).message;
}

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.starts_with(prefix);
}

/// A fresh directory under /tmp, removed when the test ends.
struct temp_dir : prez::testing::temp_dir {
  temp_dir() : prez::testing::temp_dir("prez-config-test") {}
};

} // namespace

TEST_CASE("defaults: empty prez.conf is a single node", "[config]") {
  node_config config = parse_ok("");
  CHECK(config.name == "prez");
  CHECK(config.port == 9000);
  CHECK(config.bind == "127.0.0.1");
  CHECK(config.cluster_port == 0);
  CHECK(config.cluster_node_timeout_ms == 1000);
  CHECK(config.loglevel == "notice");
  CHECK(config.dir == "./prez-data");
  CHECK(config.mode == follower_mode::proxy);
  CHECK(config.cluster_config_file.empty());
  REQUIRE(config.members.size() == 1);
  CHECK(config.members[0].name == "prez");
  CHECK(config.source_file == "prez.conf");
}

TEST_CASE("default_single_node_config", "[config]") {
  node_config config = default_single_node_config();
  CHECK(config.name == "prez");
  CHECK(config.port == 9000);
  CHECK(config.dir == "./prez-data");
  CHECK(config.source_file.empty());
  REQUIRE(config.members.size() == 1);
  CHECK(config.members[0] == cluster_member{"prez", "127.0.0.1", 0, 0});
}

TEST_CASE("every key, comments, blank lines, CRLF and quoting", "[config]") {
  node_config config = parse_ok("# a comment\n"
                                "\n"
                                "   # indented comment\n"
                                "name node-1.a_b\r\n"
                                "PORT 9001\n"
                                "bind ::1\n"
                                "cluster-port 7001\n"
                                "cluster-config-file \"my nodes.conf\"\n"
                                "cluster-node-timeout 250\n"
                                "loglevel WARNING\n"
                                "dir \"data \\\"x\\\" \\\\ dir\"\n"
                                "follower-mode redirect\n"
                                "\t\n",
                                "/etc/prez/prez.conf");
  CHECK(config.name == "node-1.a_b");
  CHECK(config.port == 9001);
  CHECK(config.bind == "::1");
  CHECK(config.cluster_port == 7001);
  CHECK(config.cluster_config_file == "/etc/prez/my nodes.conf");
  CHECK(config.cluster_node_timeout_ms == 250);
  CHECK(config.loglevel == "warning");
  CHECK(config.dir == "/etc/prez/data \"x\" \\ dir");
  CHECK(config.mode == follower_mode::redirect);
  CHECK(config.members.empty()); // cluster mode: filled by attach_members
}

TEST_CASE("relative paths resolve against prez.conf's directory", "[config]") {
  CHECK(parse_ok("", "conf/prez.conf").dir == "conf/prez-data");
  CHECK(parse_ok("dir /var/lib/prez\n", "conf/prez.conf").dir == "/var/lib/prez");
  CHECK(parse_ok("dir ../data\n", "a/b/prez.conf").dir == "a/data");
  CHECK(parse_ok("dir data\n", "prez.conf").dir == "data");
  node_config config =
      parse_ok("name a\ncluster-port 7000\ncluster-config-file nodes.conf\n", "/x/y/prez.conf");
  CHECK(config.cluster_config_file == "/x/y/nodes.conf");
}

TEST_CASE("loglevel words and their spdlog names", "[config]") {
  for (const char* word : {"debug", "verbose", "notice", "warning", "trace", "info", "warn",
                           "error", "critical", "off"}) {
    CHECK(parse_ok(std::string("loglevel ") + word + "\n").loglevel == word);
    CHECK_FALSE(spdlog_level_name(word).empty());
  }
  CHECK(spdlog_level_name("verbose") == "debug");
  CHECK(spdlog_level_name("notice") == "info");
  CHECK(spdlog_level_name("warn") == "warning");
  CHECK(spdlog_level_name("loud").empty());
}

TEST_CASE("prez.conf errors carry file:line", "[config]") {
  CHECK(parse_error("port 1\nfoo bar\n") == "prez.conf:2: unknown key 'foo'");
  CHECK(parse_error("\n\nport\n") == "prez.conf:3: missing value for 'port'");
  CHECK(starts_with(parse_error("port 1 2\n"), "prez.conf:1: too many values for 'port'"));
  CHECK(starts_with(parse_error("port 9000 # client port\n"), "prez.conf:1: too many values"));
  CHECK(parse_error("port abc\n") == "prez.conf:1: 'port' must be a number, got 'abc'");
  CHECK(parse_error("port -1\n") == "prez.conf:1: 'port' must be a number, got '-1'");
  CHECK(parse_error("port 0\n") == "prez.conf:1: 'port' must be between 1 and 65535, got 0");
  CHECK(parse_error("port 65536\n") ==
        "prez.conf:1: 'port' must be between 1 and 65535, got 65536");
  CHECK(starts_with(parse_error("port 99999999999999999999999\n"),
                    "prez.conf:1: 'port' must be a number"));
  CHECK(
      starts_with(parse_error("cluster-port 0\n"), "prez.conf:1: 'cluster-port' must be between"));
  CHECK(parse_error("cluster-node-timeout 49\n") ==
        "prez.conf:1: 'cluster-node-timeout' must be between 50 and 600000, got 49");
  CHECK(starts_with(parse_error("cluster-node-timeout 600001\n"), "prez.conf:1: 'cluster-node"));
  CHECK(parse_error("cluster-link-window 65535\n") ==
        "prez.conf:1: 'cluster-link-window' must be between 65536 and 1073741824, got 65535");
  CHECK(starts_with(parse_error("cluster-link-window 1073741825\n"), "prez.conf:1: 'cluster-link"));
  CHECK(parse_ok("cluster-link-window 65536\n").cluster_link_window_bytes == 65536);
  CHECK(parse_ok("").cluster_link_window_bytes == 64u << 20);
  CHECK(parse_ok("").metrics_port == 0);
  CHECK(parse_ok("metrics-port 0\n").metrics_port == 0);
  CHECK(parse_ok("metrics-port 9100\n").metrics_port == 9100);
  CHECK(parse_ok("metrics-port 65535\n").metrics_port == 65535);
  CHECK(starts_with(parse_error("metrics-port 65536\n"), "prez.conf:1: 'metrics-port' must be"));
  CHECK(parse_error("metrics-port http\n") ==
        "prez.conf:1: 'metrics-port' must be a number, got 'http'");
  CHECK(parse_error("port 9100\nmetrics-port 9100\n") ==
        "prez.conf:2: 'metrics-port' 9100 is already the client port or the cluster port");
  CHECK(starts_with(parse_error("metrics-port 7000\ncluster-port 7000\n"),
                    "prez.conf:1: 'metrics-port' 7000 is already"));
  CHECK(parse_ok("").maxclients == 10000);
  CHECK(parse_ok("maxclients 1\n").maxclients == 1);
  CHECK(parse_ok("maxclients 1048576\n").maxclients == 1048576);
  CHECK(parse_error("maxclients 0\n") ==
        "prez.conf:1: 'maxclients' must be between 1 and 1048576, got 0");
  CHECK(parse_error("\nmaxclients -5\n") == "prez.conf:2: 'maxclients' must be a number, got '-5'");
  CHECK(parse_error("maxclients many\n") ==
        "prez.conf:1: 'maxclients' must be a number, got 'many'");
  CHECK(starts_with(parse_error("maxclients 1048577\n"), "prez.conf:1: 'maxclients' must be"));
  CHECK(parse_ok("").snapshot_entries == 20000);
  CHECK(parse_ok("").snapshot_bytes == 64u << 20);
  CHECK(parse_ok("").snapshot_trailing_entries == 10000);
  CHECK(parse_ok("snapshot-entries 0\n").snapshot_entries == 0);
  CHECK(parse_ok("snapshot-bytes 1000\nsnapshot-trailing-entries 5\n").snapshot_bytes == 1000);
  CHECK(parse_error("snapshot-entries lots\n") ==
        "prez.conf:1: 'snapshot-entries' must be a number, got 'lots'");
  CHECK(parse_error("snapshot-bytes -1\n") ==
        "prez.conf:1: 'snapshot-bytes' must be a number, got '-1'");
  CHECK(starts_with(parse_error("snapshot-trailing-entries 99999999999999999\n"),
                    "prez.conf:1: 'snapshot-trailing-entries' must be between 0 and"));
  CHECK(parse_error("port 1\nPort 2\n") ==
        "prez.conf:2: duplicate key 'port' (first set on line 1)");
  CHECK(starts_with(parse_error("name a b\n"), "prez.conf:1: too many values"));
  CHECK(starts_with(parse_error("name a/b\n"), "prez.conf:1: invalid name 'a/b'"));
  CHECK(
      starts_with(parse_error("name " + std::string(65, 'x') + "\n"), "prez.conf:1: invalid name"));
  CHECK(parse_ok("name " + std::string(64, 'x') + "\n").name.size() == 64);
  CHECK(starts_with(parse_error("name \"\"\n"), "prez.conf:1: invalid name ''"));
  CHECK(starts_with(parse_error("loglevel loud\n"), "prez.conf:1: invalid loglevel 'loud'"));
  CHECK(starts_with(parse_error("follower-mode both\n"), "prez.conf:1: invalid follower-mode"));
  CHECK(parse_error("bind \"a b\"\n") == "prez.conf:1: invalid bind address 'a b'");
  CHECK(parse_error("dir \"\"\n") == "prez.conf:1: 'dir' must not be empty");
  CHECK(parse_error("dir \"abc\n") == "prez.conf:1: unbalanced quotes");
  CHECK(parse_error("dir \"a\"b\n") == "prez.conf:1: closing quote must be followed by a space");
  CHECK(starts_with(parse_error("dir " + std::string(limits::config_line_bytes_max, 'x') + "\n"),
                    "prez.conf:1: line longer than"));
}

TEST_CASE("cluster mode requires name and cluster-port", "[config]") {
  CHECK(parse_error("cluster-port 7000\ncluster-config-file n.conf\n", "p.conf") ==
        "p.conf: 'name' is required when cluster-config-file is set");
  CHECK(parse_error("name a\ncluster-config-file n.conf\n", "p.conf") ==
        "p.conf: 'cluster-port' is required when cluster-config-file is set");
  auto result = parse_node_config("name a\ncluster-config-file n.conf\n", "p.conf");
  CHECK(std::get<config_error>(result).line == 0);
  CHECK(std::get<config_error>(result).file == "p.conf");
}

TEST_CASE("nodes.conf: 3 nodes, sorted by name, comments and IPv6", "[config]") {
  auto members = nodes_ok("# the cluster\n"
                          "c 10.0.0.3:7002\n"
                          "\n"
                          "a 127.0.0.1:7000\n"
                          "b [::1]:7001\r\n");
  REQUIRE(members.size() == 3);
  CHECK(members[0] == cluster_member{"a", "127.0.0.1", 7000, 4});
  CHECK(members[1] == cluster_member{"b", "::1", 7001, 5});
  CHECK(members[2] == cluster_member{"c", "10.0.0.3", 7002, 2});
}

TEST_CASE("nodes.conf errors carry file:line", "[config]") {
  CHECK(nodes_error("a 127.0.0.1:7000 extra\n") ==
        "nodes.conf:1: unknown flag 'extra' (expected 'learner' or nothing)");
  CHECK(nodes_error("a 127.0.0.1:7000 learner x\n") ==
        "nodes.conf:1: expected 'node-name host:cluster-port [learner]', got 4 fields");
  CHECK(nodes_error("\na\n") ==
        "nodes.conf:2: expected 'node-name host:cluster-port [learner]', got 1 fields");
  CHECK(nodes_error("a 127.0.0.1:7000 learner\n") ==
        "nodes.conf: no voter listed (every node is a learner)");
  CHECK(starts_with(nodes_error("a/b 127.0.0.1:7000\n"), "nodes.conf:1: invalid node name 'a/b'"));
  CHECK(starts_with(nodes_error("a 127.0.0.1\n"), "nodes.conf:1: invalid address '127.0.0.1'"));
  CHECK(starts_with(nodes_error("a ::1:7000\n"), "nodes.conf:1: invalid address"));
  CHECK(starts_with(nodes_error("a :7000\n"), "nodes.conf:1: invalid address"));
  CHECK(nodes_error("a 127.0.0.1:0\n") ==
        "nodes.conf:1: invalid port in '127.0.0.1:0' (expected 1..65535)");
  CHECK(starts_with(nodes_error("a 127.0.0.1:65536\n"), "nodes.conf:1: invalid port"));
  CHECK(starts_with(nodes_error("a 127.0.0.1:x\n"), "nodes.conf:1: invalid port"));
  CHECK(nodes_error("a h:1\nb h:2\na h:3\n") ==
        "nodes.conf:3: duplicate node name 'a' (first on line 1)");
  CHECK(nodes_error("a h:1\n# c\nb H:1\n") ==
        "nodes.conf:3: duplicate address 'H:1' (first on line 1)");
  CHECK(nodes_error("") == "nodes.conf: no nodes listed");
  CHECK(nodes_error("# only a comment\n\n") == "nodes.conf: no nodes listed");
  CHECK(nodes_error("a \"h:1\n") == "nodes.conf:1: unbalanced quotes");

  std::string many;
  for (std::size_t i = 0; i < limits::cluster_nodes_max; ++i)
    many += "n" + std::to_string(i) + " 127.0.0.1:" + std::to_string(7000 + i) + "\n";
  CHECK(nodes_ok(many).size() == limits::cluster_nodes_max);
  many += "extra 127.0.0.1:8000\n";
  CHECK(nodes_error(many) == "nodes.conf:" + std::to_string(limits::cluster_nodes_max + 1) +
                                 ": more than " + std::to_string(limits::cluster_nodes_max) +
                                 " nodes");
}

TEST_CASE("attach_members validates this node", "[config]") {
  auto members = nodes_ok("a 127.0.0.1:7000\nb 127.0.0.1:7001\nc 127.0.0.1:7002\n");
  node_config config = parse_ok("name b\ncluster-port 7001\ncluster-config-file nodes.conf\n");
  REQUIRE(std::holds_alternative<std::monostate>(attach_members(config, members, "nodes.conf")));
  CHECK(config.members == members);

  node_config missing = parse_ok("name x\ncluster-port 7001\ncluster-config-file nodes.conf\n");
  auto error = attach_members(missing, members, "nodes.conf");
  REQUIRE(std::holds_alternative<config_error>(error));
  CHECK(std::get<config_error>(error).message == "nodes.conf: this node 'x' is not listed");
  CHECK(missing.members.empty());

  node_config wrong_port = parse_ok("name b\ncluster-port 7005\ncluster-config-file nodes.conf\n");
  error = attach_members(wrong_port, members, "nodes.conf");
  REQUIRE(std::holds_alternative<config_error>(error));
  CHECK(std::get<config_error>(error).message ==
        "nodes.conf:2: node 'b' has cluster port 7001 here but cluster-port 7005 in prez.conf");
}

TEST_CASE("nodes.conf learners, role and cluster-join", "[config]") {
  auto members = nodes_ok("a 127.0.0.1:7000\nb 127.0.0.1:7001 LEARNER\nc [::1]:7002 learner\n");
  REQUIRE(members.size() == 3);
  CHECK_FALSE(members[0].learner);
  CHECK(members[1].learner);
  CHECK(members[2].learner);
  // What prez writes back reads the same (source lines aside), removed names as comments.
  auto text = format_nodes_file(members, {"old-1"});
  CHECK(text.find("# removed: old-1") != std::string::npos);
  auto again = nodes_ok(text);
  REQUIRE(again.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(again[i].name == members[i].name);
    CHECK(again[i].host == members[i].host);
    CHECK(again[i].cluster_port == members[i].cluster_port);
    CHECK(again[i].learner == members[i].learner);
  }

  node_config learner =
      parse_ok("name b\ncluster-port 7001\ncluster-config-file nodes.conf\nrole learner\n");
  CHECK(learner.learner);
  CHECK(std::holds_alternative<std::monostate>(attach_members(learner, members, "nodes.conf")));
  node_config says_learner =
      parse_ok("name a\ncluster-port 7000\ncluster-config-file nodes.conf\nrole learner\n");
  auto error = attach_members(says_learner, members, "nodes.conf");
  REQUIRE(std::holds_alternative<config_error>(error));
  CHECK(starts_with(std::get<config_error>(error).message,
                    "nodes.conf:1: node 'a' has 'role learner' in prez.conf but is a voter here"));
  CHECK(parse_error("role observer\n") ==
        "prez.conf:1: invalid role 'observer' (expected voter or learner)");

  CHECK(parse_ok("cluster-join yes\n").cluster_join);
  CHECK_FALSE(parse_ok("cluster-join no\n").cluster_join);
  CHECK(parse_error("cluster-join maybe\n") ==
        "prez.conf:1: invalid cluster-join 'maybe' (expected yes or no)");
}

TEST_CASE("load_node_config: 3- and 5-node clusters from files", "[config]") {
  temp_dir dir;
  for (int size : {3, 5}) {
    std::string nodes = "# " + std::to_string(size) + " nodes\n";
    for (int i = size - 1; i >= 0; --i)
      nodes += "node" + std::to_string(i) + " 127.0.0.1:" + std::to_string(7100 + i) + "\n";
    dir.write("cluster/nodes.conf", nodes);
    std::string path = dir.write("cluster/prez.conf", "name node2\n"
                                                      "port 9102\n"
                                                      "cluster-port 7102\n"
                                                      "cluster-config-file nodes.conf\n"
                                                      "dir data-2\n");
    auto result = load_node_config(path);
    if (auto* error = std::get_if<config_error>(&result)) FAIL(error->message);
    node_config config = std::get<node_config>(result);
    CHECK(config.source_file == path);
    CHECK(config.cluster_config_file ==
          (std::filesystem::path(dir.path) / "cluster/nodes.conf").string());
    CHECK(config.dir == (std::filesystem::path(dir.path) / "cluster/data-2").string());
    REQUIRE(config.members.size() == static_cast<std::size_t>(size));
    for (int i = 0; i < size; ++i) {
      CHECK(config.members[static_cast<std::size_t>(i)].name == "node" + std::to_string(i));
      CHECK(config.members[static_cast<std::size_t>(i)].cluster_port == 7100 + i);
    }
  }
}

TEST_CASE("load_node_config: single node and file errors", "[config]") {
  temp_dir dir;
  std::string single = dir.write("single.conf", "port 9200\n");
  auto result = load_node_config(single);
  REQUIRE(std::holds_alternative<node_config>(result));
  CHECK(std::get<node_config>(result).members.size() == 1);
  CHECK(std::get<node_config>(result).dir ==
        (std::filesystem::path(dir.path) / "prez-data").string());

  std::string missing = (std::filesystem::path(dir.path) / "nope.conf").string();
  result = load_node_config(missing);
  REQUIRE(std::holds_alternative<config_error>(result));
  CHECK(starts_with(std::get<config_error>(result).message, missing + ": cannot open file"));

  std::string bad = dir.write("bad.conf", "port 1\nbogus 2\n");
  result = load_node_config(bad);
  REQUIRE(std::holds_alternative<config_error>(result));
  CHECK(std::get<config_error>(result).message == bad + ":2: unknown key 'bogus'");

  // Errors inside nodes.conf name nodes.conf (resolved path), with its line.
  std::string nodes = dir.write("nodes.conf", "a 127.0.0.1:7000\na 127.0.0.1:7001\n");
  std::string conf =
      dir.write("a.conf", "name a\ncluster-port 7000\ncluster-config-file nodes.conf\n");
  result = load_node_config(conf);
  REQUIRE(std::holds_alternative<config_error>(result));
  CHECK(std::get<config_error>(result).message ==
        nodes + ":2: duplicate node name 'a' (first on line 1)");

  dir.write("nodes.conf", "b 127.0.0.1:7001\n");
  result = load_node_config(conf);
  REQUIRE(std::holds_alternative<config_error>(result));
  CHECK(std::get<config_error>(result).message == nodes + ": this node 'a' is not listed");

  std::string orphan =
      dir.write("orphan.conf", "name a\ncluster-port 7000\ncluster-config-file none.conf\n");
  result = load_node_config(orphan);
  REQUIRE(std::holds_alternative<config_error>(result));
  CHECK(
      starts_with(std::get<config_error>(result).message,
                  (std::filesystem::path(dir.path) / "none.conf").string() + ": cannot open file"));

  std::string huge = dir.write("huge.conf", std::string(limits::config_file_bytes_max + 1, '#'));
  result = load_node_config(huge);
  REQUIRE(std::holds_alternative<config_error>(result));
  CHECK(starts_with(std::get<config_error>(result).message, huge + ": file larger than"));
}

TEST_CASE("the sample files load", "[config]") {
  std::string path = std::string(PREZ_SOURCE_DIR) + "/config/prez.conf.sample";
  auto result = load_node_config(path);
  if (auto* error = std::get_if<config_error>(&result)) FAIL(error->message);
  CHECK(std::get<node_config>(result).members.size() == 3);
}

TEST_CASE("requirepass and protected-mode") {
  auto config = parse_ok("requirepass \"two words\"\nprotected-mode no\n");
  CHECK(config.requirepass == "two words");
  CHECK_FALSE(config.protected_mode);
  CHECK(parse_ok("port 9000\n").protected_mode);
  CHECK(parse_ok("port 9000\n").requirepass.empty());
  CHECK(parse_error("protected-mode maybe\n") ==
        "prez.conf:1: invalid protected-mode 'maybe' (expected yes or no)");
  CHECK(parse_error("requirepass \"\"\n") == "prez.conf:1: 'requirepass' must be 1..512 bytes");
}

TEST_CASE("cluster-secret must be long enough to mean something") {
  CHECK(parse_ok("cluster-secret 0123456789abcdef\n").cluster_secret == "0123456789abcdef");
  CHECK(parse_error("cluster-secret short\n") ==
        "prez.conf:1: 'cluster-secret' must be 16..512 bytes (the same on every node)");
}

TEST_CASE("tls-cert-file, tls-key-file and tls-ca-cert-file come together", "[config]") {
  const node_config plain = parse_ok("");
  CHECK_FALSE(tls_enabled(plain));
  auto tls = parse_ok("tls-cert-file node.crt\ntls-key-file /etc/prez/node.key\n"
                      "tls-ca-cert-file ca.crt\n",
                      "conf/prez.conf");
  CHECK(tls_enabled(tls));
  CHECK(tls.tls_cert_file == "conf/node.crt");
  CHECK(tls.tls_key_file == "/etc/prez/node.key");
  CHECK(tls.tls_ca_cert_file == "conf/ca.crt");
  // One or two of them would leave CAF's openssl module without authentication: refused.
  CHECK(parse_error("tls-cert-file node.crt\n") ==
        "prez.conf: 'tls-key-file' is missing: TLS for node links needs tls-cert-file, "
        "tls-key-file and tls-ca-cert-file together");
  CHECK(parse_error("tls-cert-file node.crt\ntls-key-file node.key\n") ==
        "prez.conf: 'tls-ca-cert-file' is missing: TLS for node links needs tls-cert-file, "
        "tls-key-file and tls-ca-cert-file together");
  CHECK(parse_error("tls-ca-cert-file ca.crt\n") ==
        "prez.conf: 'tls-cert-file' is missing: TLS for node links needs tls-cert-file, "
        "tls-key-file and tls-ca-cert-file together");
  CHECK(parse_error("tls-key-file \"\"\n") == "prez.conf:1: 'tls-key-file' must not be empty");
}

TEST_CASE("audit-log, audit-log-max-bytes and audit-log-keep", "[config]") {
  const node_config defaults = parse_ok("");
  CHECK(defaults.audit_log.empty());
  CHECK(defaults.audit_log_max_bytes == 64u << 20);
  CHECK(defaults.audit_log_keep == 5);
  CHECK(parse_ok("audit-log audit.log\n", "conf/prez.conf").audit_log == "conf/audit.log");
  CHECK(parse_ok("audit-log /var/log/prez.audit\n", "conf/prez.conf").audit_log ==
        "/var/log/prez.audit");
  CHECK(parse_ok("audit-log \"my audit.log\"\n").audit_log == "my audit.log");
  const node_config set = parse_ok("audit-log a.log\naudit-log-max-bytes 0\naudit-log-keep 1000\n");
  CHECK(set.audit_log_max_bytes == 0);
  CHECK(set.audit_log_keep == 1000);
  CHECK(parse_ok("AUDIT-LOG-MAX-BYTES 4096\n").audit_log_max_bytes == 4096);
  CHECK(parse_error("audit-log \"\"\n") == "prez.conf:1: 'audit-log' must not be empty");
  CHECK(parse_error("\naudit-log logs/\n") == "prez.conf:2: 'audit-log' must name a file");
  CHECK(parse_error("audit-log-max-bytes 1M\n") ==
        "prez.conf:1: 'audit-log-max-bytes' must be a number, got '1M'");
  CHECK(starts_with(parse_error("audit-log-max-bytes 99999999999999999\n"),
                    "prez.conf:1: 'audit-log-max-bytes' must be between 0 and"));
  CHECK(parse_error("audit-log-keep 0\n") ==
        "prez.conf:1: 'audit-log-keep' must be between 1 and 1000, got 0");
  CHECK(parse_error("audit-log-keep 1001\n") ==
        "prez.conf:1: 'audit-log-keep' must be between 1 and 1000, got 1001");
  CHECK(parse_error("audit-log a\naudit-log b\n") ==
        "prez.conf:2: duplicate key 'audit-log' (first set on line 1)");
}
