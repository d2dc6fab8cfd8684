#include <catch2/catch.hpp>

#include "actors/gateway/info_report.hpp"

using prez::format_info;
using prez::info_snapshot;

namespace {
info_snapshot sample() {
  info_snapshot i;
  i.node_name = "a";
  i.role = "follower";
  i.term = 3;
  i.leader = "b";
  i.leader_address = "127.0.0.1:9001";
  i.voters = 3;
  i.keys = 2;
  i.expiring = 1;
  return i;
}
} // namespace

TEST_CASE("INFO raft shows role, term, leader and its client address") {
  auto text = format_info(sample(), "raft");
  CHECK(text.rfind("# Raft\r\n", 0) == 0);
  CHECK(text.find("role:follower\r\n") != std::string::npos);
  CHECK(text.find("term:3\r\n") != std::string::npos);
  CHECK(text.find("leader:b\r\n") != std::string::npos);
  CHECK(text.find("leader_addr:127.0.0.1:9001\r\n") != std::string::npos);
  CHECK(text.find("# Server") == std::string::npos);
}

TEST_CASE("INFO replication speaks Redis: a follower is a replica of the leader's address") {
  auto text = format_info(sample(), "replication");
  CHECK(text.find("role:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:9001\r\n") !=
        std::string::npos);
  auto leader = sample();
  leader.role = "leader";
  CHECK(format_info(leader, "replication").find("role:master\r\nconnected_slaves:2\r\n") !=
        std::string::npos);
}

TEST_CASE("INFO with no section has every section; an unknown section is empty") {
  auto text = format_info(sample(), "");
  for (auto* header :
       {"# Server", "# Clients", "# Memory", "# Stats", "# Replication", "# Keyspace", "# Raft"})
    CHECK(text.find(header) != std::string::npos);
  CHECK(text.find("db0:keys=2,expires=1,avg_ttl=0") != std::string::npos);
  CHECK(format_info(sample(), "nosuchsection").empty());
}

TEST_CASE("INFO raft has one line per peer link, in the order given") {
  auto i = sample();
  i.peer_links = {{"b", true, 10, 2, 1, 300}, {"c", false, 0, 7, 0, 0}};
  auto text = format_info(i, "raft");
  CHECK(text.find("link_b:connected=1,frames_sent=10,frames_dropped=2,window_drops=1,"
                  "bytes_in_flight=300\r\n") != std::string::npos);
  CHECK(text.find("link_c:connected=0,frames_sent=0,frames_dropped=7,window_drops=0,"
                  "bytes_in_flight=0\r\n") != std::string::npos);
  CHECK(text.find("link_b") < text.find("link_c"));
}

namespace {
bool has(const std::string& text, const char* part) {
  return text.find(part) != std::string::npos;
}
} // namespace

TEST_CASE("INFO sections as Redis 7 selects them: default, all, everything, several, any case") {
  auto i = sample();
  i.commands_applied = {{"set", 3}};
  i.cpu_user_s = 1.5;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{}, {"default"}, {"all"}, {"everything"}, {"DEFAULT"}}) {
    auto text = format_info(i, args);
    CHECK(has(text, "# Server\r\n"));
    CHECK(has(text, "used_cpu_user:1.500000\r\n"));
    CHECK(has(text, "# Raft\r\n"));
    const bool all = !args.empty() && (args[0] == "all" || args[0] == "everything");
    CHECK(has(text, "rejected_calls") == all); // commandstats only with all/everything
  }
  auto cpu = format_info(i, std::vector<std::string>{"cpu"});
  CHECK(cpu.rfind("# CPU\r\n", 0) == 0);
  CHECK_FALSE(has(cpu, "used_memory"));
  auto stats = format_info(i, std::vector<std::string>{"commandSTATS"});
  CHECK(stats ==
        "# Commandstats\r\n"
        "cmdstat_set:calls=3,usec=0,usec_per_call=0.00,rejected_calls=0,failed_calls=0\r\n");
  // Several sections: each once, in Redis's order whatever order they were asked in.
  auto two = format_info(i, std::vector<std::string>{"keyspace", "cpu", "sentinel", "CPU"});
  CHECK(two.rfind("# CPU\r\n", 0) == 0);
  CHECK(has(two, "\r\n# Keyspace\r\n"));
  CHECK_FALSE(has(two, "# Server"));
  CHECK(two.find("# CPU") == two.rfind("# CPU"));
  auto cpu_all = format_info(i, std::vector<std::string>{"cpu", "all"});
  CHECK(cpu_all.find("used_cpu_user_children") == cpu_all.rfind("used_cpu_user_children"));
  CHECK(has(cpu_all, "rejected_calls"));
  CHECK(has(cpu_all, "master_repl_offset:"));
  auto cpu_default = format_info(i, std::vector<std::string>{"cpu", "default"});
  CHECK(has(cpu_default, "used_memory"));
  CHECK_FALSE(has(cpu_default, "rejected_calls"));
  CHECK(format_info(i, std::vector<std::string>{"sentinel"}).empty());
}

TEST_CASE("INFO stats reports no cached MIGRATE sockets since prez has no MIGRATE") {
  auto text = format_info(sample(), "stats");
  CHECK(text == "# Stats\r\ntotal_connections_received:0\r\nmigrate_cached_sockets:0\r\n");
}
