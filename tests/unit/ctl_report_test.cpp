#include <catch2/catch.hpp>

#include "actors/gateway/ctl_report.hpp"
#include "actors/gateway/info_report.hpp"

using namespace prez;

namespace {

/// INFO raft text as the server writes it (info_report), so a renamed field fails here.
std::string info_text(const std::string& name, const std::string& role, std::uint64_t term,
                      std::uint64_t commit, std::uint64_t applied) {
  info_snapshot i;
  i.node_name = name;
  i.role = role;
  i.term = term;
  i.leader = "n1";
  i.commit_index = commit;
  i.last_applied = applied;
  i.last_log_index = commit + 2;
  i.snapshot_index = 5;
  i.membership = "voter";
  return format_info(i, "raft");
}

ctl_parse_result parse(std::vector<std::string> args) {
  return parse_ctl_args(args);
}

} // namespace

TEST_CASE("parse_endpoint takes host:port and [v6]:port, rejects the rest") {
  auto a = parse_endpoint("127.0.0.1:9000");
  REQUIRE(a);
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 9000);
  auto b = parse_endpoint("[::1]:7000");
  REQUIRE(b);
  CHECK(b->host == "::1");
  CHECK(b->port == 7000);
  for (auto bad : {"", "host", "host:", ":9000", "host:0", "host:65536", "host:9x", "::1:9000"})
    CHECK_FALSE(parse_endpoint(bad));
}

TEST_CASE("status takes addresses, defaults to --host/--port, and --json") {
  auto r = parse({"status", "a:1", "--json", "b:2"});
  REQUIRE(r.error.empty());
  CHECK(r.args.action == ctl_action::status);
  CHECK(r.args.json);
  REQUIRE(r.args.nodes.size() == 2);
  CHECK(r.args.nodes[1].host == "b");
  CHECK(r.args.nodes[1].port == 2);

  auto d = parse({"--host", "10.0.0.1", "--port=9100", "status"});
  REQUIRE(d.error.empty());
  REQUIRE(d.args.nodes.size() == 1);
  CHECK(d.args.nodes[0].host == "10.0.0.1");
  CHECK(d.args.nodes[0].port == 9100);

  CHECK(parse({"status", "nonsense"}).error == "status: bad address 'nonsense' (want host:port)");
}

TEST_CASE("the thin wrappers build RAFT.NODE / RAFT.TRANSFER / RAFT.SNAPSHOT") {
  using argv = std::vector<std::string>;
  auto add = parse({"node", "add", "n4", "127.0.0.1:7003", "learner", "--password", "pw"});
  REQUIRE(add.error.empty());
  CHECK(add.args.action == ctl_action::command);
  CHECK(add.args.command == argv{"RAFT.NODE", "ADD", "n4", "127.0.0.1:7003", "LEARNER"});
  CHECK(add.args.password == "pw");
  CHECK(add.args.target.host == "127.0.0.1");
  CHECK(add.args.target.port == 9000);
  CHECK(parse({"node", "remove", "n2"}).args.command == argv{"RAFT.NODE", "REMOVE", "n2"});
  CHECK(parse({"node", "list"}).args.command == argv{"RAFT.NODE", "LIST"});
  CHECK(parse({"transfer", "n2"}).args.command == argv{"RAFT.TRANSFER", "n2"});
  CHECK(parse({"snapshot"}).args.command == argv{"RAFT.SNAPSHOT"});
}

TEST_CASE("usage errors name what is wrong; help wins") {
  CHECK(parse({}).error == "no command given");
  CHECK(parse({"frobnicate"}).error == "unknown command 'frobnicate'");
  CHECK(parse({"--bogus", "status"}).error == "unknown option '--bogus'");
  CHECK(parse({"status", "--port"}).error == "--port needs a value");
  CHECK(parse({"--port", "0", "snapshot"}).error == "--port: bad port '0' (want 1..65535)");
  CHECK(parse({"transfer"}).error == "transfer takes one node name");
  CHECK(parse({"node", "add", "n4"}).error == "node add takes <name> <host:port> [learner]");
  CHECK(parse({"node", "add", "n4", "nohost", "learner"}).error ==
        "node add: bad address 'nohost' (want host:port)");
  CHECK(parse({"node", "add", "n4", "h:1", "voter"}).error == "node add: unknown option 'voter'");
  CHECK(parse({"node", "rename"}).error == "unknown node subcommand 'rename'");
  CHECK(parse({"snapshot", "--json"}).error == "--json is only for status");
  CHECK(parse({"snapshot", "now"}).error == "snapshot takes no arguments");
  auto help = parse({"frobnicate", "--help"});
  CHECK(help.error.empty());
  CHECK(help.args.action == ctl_action::help);
  CHECK(parse({"help"}).args.action == ctl_action::help);
  CHECK(ctl_usage().find("prez-ctl") != std::string::npos);
}

TEST_CASE("parse_info_fields skips headers and keeps values with colons") {
  auto fields = parse_info_fields("# Raft\r\nrole:leader\r\nleader_addr:127.0.0.1:9000\r\n\r\nx\n");
  CHECK(fields.size() == 2);
  CHECK(fields["role"] == "leader");
  CHECK(fields["leader_addr"] == "127.0.0.1:9000");
}

TEST_CASE("node_from_info reads the server's INFO raft; a missing field means down") {
  auto n = node_from_info("h:1", info_text("n1", "leader", 4, 20, 18));
  REQUIRE(n.up);
  CHECK(n.name == "n1");
  CHECK(n.role == "leader");
  CHECK(n.term == 4);
  CHECK(n.commit_index == 20);
  CHECK(n.last_applied == 18);
  CHECK(n.last_log_index == 22);
  CHECK(n.snapshot_index == 5);
  CHECK(n.membership == "voter");
  CHECK(n.leader == "n1");

  auto foreign = node_from_info("h:2", "# Server\r\nredis_version:7.0.0\r\n");
  CHECK_FALSE(foreign.up);
  CHECK(foreign.down_reason == "INFO raft lacks node");
  auto garbled = node_from_info("h:3", "node:x\nrole:follower\nmembership:voter\nterm:abc\n");
  CHECK_FALSE(garbled.up);
  CHECK(garbled.down_reason == "INFO raft lacks a number for term");
}

TEST_CASE("lag is the leader's commit index minus each node's applied index") {
  std::vector<node_status> nodes{node_from_info("h:1", info_text("n1", "follower", 4, 18, 15)),
                                 node_from_info("h:2", info_text("n2", "leader", 4, 20, 20)),
                                 node_from_info("h:3", info_text("n3", "follower", 4, 20, 25)),
                                 node_down("h:4", "connection refused")};
  compute_lag(nodes);
  CHECK(nodes[0].lag == std::optional<std::uint64_t>(5));
  CHECK(nodes[1].lag == std::optional<std::uint64_t>(0));
  CHECK(nodes[2].lag == std::optional<std::uint64_t>(0)); // ahead of the leader: no lag
  CHECK_FALSE(nodes[3].lag);
  CHECK(count_leaders(nodes) == 1);
  CHECK(status_exit_code(nodes) == 1); // one down
  nodes.pop_back();
  CHECK(status_exit_code(nodes) == 0);
}

TEST_CASE("with two leaders the newer term's is the reference, and the exit code is 1") {
  std::vector<node_status> nodes{node_from_info("h:1", info_text("n1", "leader", 3, 10, 10)),
                                 node_from_info("h:2", info_text("n2", "leader", 5, 30, 30)),
                                 node_from_info("h:3", info_text("n3", "follower", 5, 30, 29))};
  CHECK(find_leader(nodes) == std::optional<std::size_t>(1));
  compute_lag(nodes);
  CHECK(nodes[0].lag == std::optional<std::uint64_t>(20));
  CHECK(nodes[2].lag == std::optional<std::uint64_t>(1));
  CHECK(status_exit_code(nodes) == 1);
}

TEST_CASE("no leader: no lag, exit code 1") {
  std::vector<node_status> nodes{node_from_info("h:1", info_text("n1", "candidate", 3, 10, 10))};
  compute_lag(nodes);
  CHECK_FALSE(nodes[0].lag);
  CHECK(status_exit_code(nodes) == 1);
  CHECK(status_exit_code({}) == 1);
}

TEST_CASE("the status table has a header, aligned rows in order, and down rows") {
  std::vector<node_status> nodes{node_from_info("h:1", info_text("n1", "leader", 4, 20, 20)),
                                 node_down("longer-host:9002", "connection refused"),
                                 node_from_info("h:3", info_text("node-3", "follower", 4, 20, 7))};
  compute_lag(nodes);
  CHECK(
      format_status_table(nodes) ==
      "NAME    ADDRESS           ROLE      TERM  COMMIT  APPLIED  LAST_LOG  LAG  SNAPSHOT  "
      "MEMBERSHIP\n"
      "n1      h:1               leader    4     20      20       22        0    5         voter\n"
      "-       longer-host:9002  down: connection refused\n"
      "node-3  h:3               follower  4     20      7        22        13   5         "
      "voter\n");
}

TEST_CASE("the status JSON has every fact, null lag without a leader, escaped strings") {
  std::vector<node_status> nodes{node_from_info("h:1", info_text("n1", "leader", 4, 20, 20)),
                                 node_down("h:2", "said \"no\"\n")};
  compute_lag(nodes);
  CHECK(format_status_json(nodes) ==
        "[\n"
        "  {\"address\": \"h:1\", \"up\": true, \"name\": \"n1\", \"role\": \"leader\", \"term\": "
        "4, \"commit_index\": 20, \"last_applied\": 20, \"last_log_index\": 22, \"lag\": 0, "
        "\"snapshot_index\": 5, \"membership\": \"voter\", \"leader\": \"n1\"},\n"
        "  {\"address\": \"h:2\", \"up\": false, \"down_reason\": \"said \\\"no\\\"\\u000a\"}\n"
        "]\n");
  CHECK(format_status_json({}) == "[]\n");
  CHECK(json_quote("a\\b\x01") == "\"a\\\\b\\u0001\"");
}

TEST_CASE("format_reply prints scalars, lists and RAFT.NODE LIST rows") {
  auto print = [](std::string_view bytes) {
    auto reply = parse_resp2_reply(bytes);
    REQUIRE(reply);
    return format_reply(*reply);
  };
  CHECK(print("+OK\r\n") == "OK\n");
  CHECK(print(":42\r\n") == "(integer) 42\n");
  CHECK(print("$-1\r\n") == "(nil)\n");
  CHECK(print("$5\r\nhello\r\n") == "hello\n");
  CHECK(print("*0\r\n") == "(empty array)\n");
  CHECK(print("*2\r\n$1\r\na\r\n:3\r\n") == "a\n(integer) 3\n");
  CHECK(print("*2\r\n*3\r\n$2\r\nn1\r\n$14\r\n127.0.0.1:7000\r\n$5\r\nvoter\r\n"
              "*3\r\n$6\r\nnode-2\r\n$14\r\n127.0.0.1:7001\r\n$7\r\nlearner\r\n") ==
        "n1      127.0.0.1:7000  voter\n"
        "node-2  127.0.0.1:7001  learner\n");
}
