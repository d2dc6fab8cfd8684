// prez-ctl snapshot save's decisions (actors/gateway/ctl_backup, D25): arguments, FETCH replies,
// which READ errors start the save over, the report line.

#include <catch2/catch.hpp>

#include <memory>

#include "actors/gateway/ctl_backup.hpp"
#include "actors/gateway/ctl_report.hpp"

using namespace prez;

namespace {

ctl_parse_result parse(std::vector<std::string> args) {
  return parse_ctl_args(args);
}

resp2_reply reply_of(const std::string& text) {
  static std::vector<std::unique_ptr<std::string>> kept; // the reply views into its text
  kept.push_back(std::make_unique<std::string>(text));
  auto parsed = parse_resp2_reply(*kept.back());
  REQUIRE(parsed);
  return *parsed;
}

} // namespace

TEST_CASE("snapshot save takes a file and an optional host:port, options anywhere",
          "[ctl_backup]") {
  auto plain = parse({"snapshot", "save", "backup.snap"});
  REQUIRE(plain.error.empty());
  CHECK(plain.args.action == ctl_action::snapshot_save);
  CHECK(plain.args.save_path == "backup.snap");
  CHECK(plain.args.target.host == "127.0.0.1");
  CHECK(plain.args.target.port == 9000);

  auto at = parse({"--password", "pw", "snapshot", "save", "/tmp/b.snap", "10.0.0.2:7001"});
  REQUIRE(at.error.empty());
  CHECK(at.args.save_path == "/tmp/b.snap");
  CHECK(at.args.target.host == "10.0.0.2");
  CHECK(at.args.target.port == 7001);
  CHECK(at.args.password == "pw");

  auto port = parse({"snapshot", "save", "b.snap", "--port", "9100"});
  REQUIRE(port.error.empty());
  CHECK(port.args.target.port == 9100);

  CHECK_THAT(parse({"snapshot", "save"}).error, Catch::Contains("<file>"));
  CHECK_THAT(parse({"snapshot", "save", "a", "b:1", "c"}).error, Catch::Contains("<file>"));
  CHECK_THAT(parse({"snapshot", "save", "a", "nowhere"}).error, Catch::Contains("bad address"));
  // The plain snapshot command is unchanged.
  auto now = parse({"snapshot"});
  REQUIRE(now.error.empty());
  CHECK(now.args.action == ctl_action::command);
  CHECK(now.args.command == std::vector<std::string>{"RAFT.SNAPSHOT"});
  CHECK_FALSE(parse({"snapshot", "load", "x"}).error.empty());
  CHECK_THAT(ctl_usage(), Catch::Contains("snapshot save <file> [host:port]"));
}

TEST_CASE("a FETCH reply is three integers, index at least 1", "[ctl_backup]") {
  auto fetched = parse_fetch_reply(reply_of("*3\r\n:120\r\n:4\r\n:98765\r\n"));
  REQUIRE(fetched);
  CHECK(fetched->index == 120);
  CHECK(fetched->term == 4);
  CHECK(fetched->bytes == 98765);
  for (auto bad : {"*3\r\n:0\r\n:4\r\n:10\r\n", "*2\r\n:1\r\n:4\r\n", "*3\r\n:1\r\n:-4\r\n:10\r\n",
                   "*3\r\n$1\r\n1\r\n:4\r\n:10\r\n", "+OK\r\n", "-ERR no\r\n", "*-1\r\n"})
    CHECK_FALSE(parse_fetch_reply(reply_of(bad)));
}

TEST_CASE("only a snapshot that went away starts the save over", "[ctl_backup]") {
  CHECK(is_snapshot_gone("ERR snapshot read: snapshot 12 is not being served (fetch it again with "
                         "RAFT.SNAPSHOT FETCH: ...)"));
  CHECK_FALSE(is_snapshot_gone("ERR snapshot read: offset 9 is past the end of snapshot 12"));
  CHECK_FALSE(is_snapshot_gone("NOAUTH Authentication required."));
  CHECK(is_retryable_fetch_error("CLUSTERDOWN snapshot fetch: no linearizable read"));
  CHECK(is_retryable_fetch_error("TRYAGAIN"));
  CHECK_FALSE(is_retryable_fetch_error("ERR snapshot fetch failed: disk full"));
  CHECK_FALSE(is_retryable_fetch_error("NOAUTH Authentication required."));
}

TEST_CASE("a MOVED answer names the leader to save from instead", "[ctl_backup]") {
  auto leader = moved_to("MOVED 0 127.0.0.1:9002");
  REQUIRE(leader);
  CHECK(leader->host == "127.0.0.1");
  CHECK(leader->port == 9002);
  auto v6 = moved_to("MOVED 0 [::1]:9002");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK_FALSE(moved_to("MOVED 0 "));
  CHECK_FALSE(moved_to("MOVED 0"));
  CHECK_FALSE(moved_to("ERR MOVED 0 127.0.0.1:9002"));
  CHECK_FALSE(moved_to("CLUSTERDOWN no leader"));
}

TEST_CASE("the report names the file, index, term, keys, bytes and node", "[ctl_backup]") {
  CHECK(format_saved("b.snap", {120, 4, 98765}, 1000, "127.0.0.1:9001") ==
        "saved b.snap: index 120, term 4, 1000 keys, 98765 bytes (from 127.0.0.1:9001)\n");
}
