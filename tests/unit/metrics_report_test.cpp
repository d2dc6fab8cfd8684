#include <catch2/catch.hpp>

#include <set>
#include <sstream>
#include <string>

#include "actors/gateway/metrics_report.hpp"

using namespace prez;

namespace {

info_snapshot sample() {
  info_snapshot i;
  i.role = "follower";
  i.term = 7;
  i.leader = "node-b";
  i.leader_heard_recently = true;
  i.commit_index = 120;
  i.last_applied = 118;
  i.last_log_index = 125;
  i.persisted_index = 124;
  i.snapshot_index = 100;
  i.snapshot_bytes = 4096;
  i.snapshots_taken = 2;
  i.snapshots_installed = 1;
  i.voters = 3;
  i.learners = 1;
  i.role_epoch = 4;
  i.peer_frames_refused = 9;
  i.peer_links = {peer_link_info{"node-a", true, 50, 1, 0, 0},
                  peer_link_info{"node-c", false, 10, 6, 0, 0}};
  i.keys = 42;
  i.connected_clients = 3;
  i.total_connections = 17;
  i.commands_applied = {{"incr", 5}, {"set", 11}};
  return i;
}

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

} // namespace

TEST_CASE("Label values escape backslash, double quote and newline") {
  CHECK(escape_label_value("plain-name.1") == "plain-name.1");
  CHECK(escape_label_value("a\\b") == "a\\\\b");
  CHECK(escape_label_value("say \"hi\"") == "say \\\"hi\\\"");
  CHECK(escape_label_value("two\nlines") == "two\\nlines");
  CHECK(escape_label_value("\\\"\n") == "\\\\\\\"\\n");
}

TEST_CASE("The metrics text holds every figure, one series per label set") {
  auto text = format_metrics(sample());
  CHECK(has_line(text, "prez_raft_term 7"));
  CHECK(has_line(text, "prez_raft_role{role=\"leader\"} 0"));
  CHECK(has_line(text, "prez_raft_role{role=\"follower\"} 1"));
  CHECK(has_line(text, "prez_raft_role{role=\"candidate\"} 0"));
  CHECK(has_line(text, "prez_raft_commit_index 120"));
  CHECK(has_line(text, "prez_raft_applied_index 118"));
  CHECK(has_line(text, "prez_raft_last_log_index 125"));
  CHECK(has_line(text, "prez_raft_persisted_index 124"));
  CHECK(has_line(text, "prez_snapshot_index 100"));
  CHECK(has_line(text, "prez_snapshot_bytes 4096"));
  CHECK(has_line(text, "prez_snapshots_taken_total 2"));
  CHECK(has_line(text, "prez_snapshots_installed_total 1"));
  CHECK(has_line(text, "prez_raft_voters 3"));
  CHECK(has_line(text, "prez_raft_learners 1"));
  CHECK(has_line(text, "prez_peer_link_connected{peer=\"node-a\"} 1"));
  CHECK(has_line(text, "prez_peer_link_connected{peer=\"node-c\"} 0"));
  CHECK(has_line(text, "prez_peer_link_frames_sent_total{peer=\"node-a\"} 50"));
  CHECK(has_line(text, "prez_peer_link_frames_dropped_total{peer=\"node-c\"} 6"));
  CHECK(has_line(text, "prez_peer_frames_refused_total 9"));
  CHECK(has_line(text, "prez_keys 42"));
  CHECK(has_line(text, "prez_clients_connected 3"));
  CHECK(has_line(text, "prez_clients_accepted_total 17"));
  CHECK(has_line(text, "prez_leader_known 1"));
  CHECK(has_line(text, "prez_role_changes_total 4"));
  CHECK(has_line(text, "prez_commands_applied_total{command=\"incr\"} 5"));
  CHECK(has_line(text, "prez_commands_applied_total{command=\"set\"} 11"));
  CHECK(text.back() == '\n');
}

TEST_CASE("Every metric has HELP and TYPE once, before its series, and no series repeats") {
  auto info = sample();
  info.peer_links.push_back(peer_link_info{"we\"ird\\peer\nname", true, 1, 0, 0, 0});
  auto text = format_metrics(info);
  CHECK(has_line(text, "prez_peer_link_connected{peer=\"we\\\"ird\\\\peer\\nname\"} 1"));
  std::set<std::string> helped, typed, series;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    REQUIRE_FALSE(line.empty());
    if (line.rfind("# HELP ", 0) == 0) {
      auto name = line.substr(7, line.find(' ', 7) - 7);
      CHECK(helped.insert(name).second);
    } else if (line.rfind("# TYPE ", 0) == 0) {
      auto name = line.substr(7, line.find(' ', 7) - 7);
      CHECK(helped.count(name) == 1);
      CHECK(typed.insert(name).second);
      auto type = line.substr(line.rfind(' ') + 1);
      CHECK((type == "gauge" || type == "counter"));
      if (name.size() > 6 && name.substr(name.size() - 6) == "_total") CHECK(type == "counter");
    } else {
      auto name = line.substr(0, line.find_first_of("{ "));
      CHECK(typed.count(name) == 1);
      CHECK(series.insert(line.substr(0, line.rfind(' '))).second);
    }
  }
}

TEST_CASE("A leader shows leader 1 and knows a leader; nobody known shows 0") {
  auto info = sample();
  info.role = "leader";
  auto text = format_metrics(info);
  CHECK(has_line(text, "prez_raft_role{role=\"leader\"} 1"));
  CHECK(has_line(text, "prez_raft_role{role=\"follower\"} 0"));
  info.role = "candidate";
  info.leader.clear();
  text = format_metrics(info);
  CHECK(has_line(text, "prez_raft_role{role=\"candidate\"} 1"));
  CHECK(has_line(text, "prez_leader_known 0"));
}

TEST_CASE("Health: a node with a fresh leader and a small apply lag is healthy") {
  auto verdict = judge_health(sample(), 1000);
  CHECK(verdict.healthy);
  CHECK(verdict.reason.empty());
  CHECK(verdict.body.rfind("{\"health\":\"true\",", 0) == 0);
  CHECK(verdict.body.find("\"leader\":\"node-b\"") != std::string::npos);
  CHECK(verdict.body.find("\"applied_index\":118") != std::string::npos);
}

TEST_CASE("Health: no leader, a silent leader, a long apply lag or removal is unhealthy") {
  auto no_leader = sample();
  no_leader.leader.clear();
  auto verdict = judge_health(no_leader, 1000);
  CHECK_FALSE(verdict.healthy);
  CHECK(verdict.reason == "no leader known");
  CHECK(verdict.body.rfind("{\"health\":\"false\",\"reason\":\"no leader known\",", 0) == 0);

  auto silent = sample();
  silent.leader_heard_recently = false;
  CHECK(judge_health(silent, 1000).reason ==
        "no contact with the leader within an election timeout");

  auto behind = sample();
  behind.commit_index = 2000;
  behind.last_applied = 999;
  CHECK_FALSE(judge_health(behind, 1000).healthy);
  behind.last_applied = 1000; // exactly the bound behind: still healthy
  CHECK(judge_health(behind, 1000).healthy);

  auto removed = sample();
  removed.membership = "removed";
  CHECK(judge_health(removed, 1000).reason == "removed from the cluster");
}

TEST_CASE("Health JSON escapes what it quotes") {
  auto info = sample();
  info.leader = "a\"b\\c\n";
  auto body = judge_health(info, 1000).body;
  CHECK(body.find("\"leader\":\"a\\\"b\\\\c\\u000a\"") != std::string::npos);
}
