// CONFIG's shape checks and GET reply (actors/gateway/server_commands.hpp), Redis 7.0's texts.

#include <catch2/catch.hpp>

#include "actors/gateway/server_commands.hpp"
#include "config/runtime_config.hpp"

using namespace prez;

namespace {

std::string shape_error(std::vector<std::string> argv) {
  std::string sub;
  return config_shape_error(argv, sub);
}

} // namespace

TEST_CASE("CONFIG's shape errors are Redis's") {
  CHECK(shape_error({"CONFIG"}) == "-ERR wrong number of arguments for 'config' command\r\n");
  CHECK(shape_error({"CONFIG", "GET"}) ==
        "-ERR wrong number of arguments for 'config|get' command\r\n");
  CHECK(shape_error({"CONFIG", "SET", "a"}) ==
        "-ERR wrong number of arguments for 'config|set' command\r\n");
  CHECK(shape_error({"CONFIG", "RESETSTAT", "x"}) ==
        "-ERR wrong number of arguments for 'config|resetstat' command\r\n");
  CHECK(shape_error({"CONFIG", "REWRITE", "x"}) ==
        "-ERR wrong number of arguments for 'config|rewrite' command\r\n");
  CHECK(shape_error({"CONFIG", "Foo"}) == "-ERR unknown subcommand 'Foo'. Try CONFIG HELP.\r\n");
  std::string sub;
  CHECK(config_shape_error({"config", "SeT", "a", "b"}, sub).empty());
  CHECK(sub == "set");
}

TEST_CASE("CONFIG GET answers a flat name/value array") {
  runtime_config config(default_single_node_config());
  CHECK(config_get_reply(config, {"CONFIG", "GET", "appendonly", "nosuch"}) ==
        "*2\r\n$10\r\nappendonly\r\n$3\r\nyes\r\n");
  CHECK(config_get_reply(config, {"CONFIG", "GET", "nosuch*"}) == "*0\r\n");
  CHECK(config_help_reply().rfind("*11\r\n+CONFIG <subcommand>", 0) == 0);
}
