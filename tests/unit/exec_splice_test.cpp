// EXEC with connection commands inside (actors/gateway/exec_splice.hpp, docs/decisions.md D30).

#include <catch2/catch.hpp>

#include "actors/gateway/exec_splice.hpp"

using namespace prez;

TEST_CASE("Connection commands run at the connection and data commands through the log") {
  CHECK(runs_at_connection({"CONFIG", "SET", "maxmemory", "0"}));
  CHECK(runs_at_connection({"client", "setname", "x"}));
  CHECK(runs_at_connection({"INFO"}));
  CHECK(runs_at_connection({"Ping"}));
  CHECK(runs_at_connection({"TIME"}));
  CHECK_FALSE(runs_at_connection({"SET", "a", "b"}));
  CHECK_FALSE(runs_at_connection({"GET", "a"}));
  CHECK_FALSE(runs_at_connection({"NOSUCH"}));
  CHECK_FALSE(runs_at_connection({}));
}

TEST_CASE("plan_exec keeps each kind in order and notes the local places") {
  auto plan = plan_exec({{"SET", "a", "1"}, {"CONFIG", "SET", "x", "y"}, {"GET", "a"}, {"PING"}});
  REQUIRE(plan.data.size() == 2);
  CHECK(plan.data[0][0] == "SET");
  CHECK(plan.data[1][0] == "GET");
  REQUIRE(plan.local.size() == 2);
  CHECK(plan.local[0][0] == "CONFIG");
  CHECK(plan.local[1][0] == "PING");
  CHECK(plan.local_positions == std::vector<std::size_t>{1, 3});
  CHECK(plan.size() == 4);
}

TEST_CASE("array_elements gives each element's own text and refuses non-arrays") {
  auto elements = array_elements("*3\r\n+OK\r\n*2\r\n$1\r\na\r\n:1\r\n$-1\r\n");
  REQUIRE(elements);
  CHECK(*elements == std::vector<std::string>{"+OK\r\n", "*2\r\n$1\r\na\r\n:1\r\n", "$-1\r\n"});
  CHECK(array_elements("*0\r\n") == std::vector<std::string>{});
  CHECK_FALSE(array_elements("*-1\r\n"));
  CHECK_FALSE(array_elements("-UNKNOWN no answer\r\n"));
  CHECK_FALSE(array_elements("*2\r\n+OK\r\n"));
}

TEST_CASE("splice_exec_reply puts local replies at their places") {
  CHECK(splice_exec_reply({"+OK\r\n", "$1\r\nb\r\n"}, {"-ERR bad\r\n", "+PONG\r\n"}, {1, 3}) ==
        "*4\r\n+OK\r\n-ERR bad\r\n$1\r\nb\r\n+PONG\r\n");
  CHECK(splice_exec_reply({}, {"+PONG\r\n", "+OK\r\n"}, {0, 1}) == "*2\r\n+PONG\r\n+OK\r\n");
  CHECK(splice_exec_reply({"+OK\r\n"}, {}, {}) == "*1\r\n+OK\r\n");
  CHECK(splice_exec_reply({"+OK\r\n"}, {"+PONG\r\n"}, {0}) == "*2\r\n+PONG\r\n+OK\r\n");
}
