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
