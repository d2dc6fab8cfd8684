// COMMAND GETKEYS' key finder (actors/gateway/command_keys.hpp), checked against Redis 7.0.15.

#include <catch2/catch.hpp>

#include "actors/gateway/command_keys.hpp"
#include "actors/gateway/server_commands.hpp"

using namespace prez;

namespace {

std::vector<std::size_t> positions(std::vector<std::string> argv) {
  const auto found = find_command_keys(argv);
  REQUIRE(found.error.empty());
  std::vector<std::size_t> out;
  for (const auto& key : found.keys)
    out.push_back(key.position);
  return out;
}

std::string error_of(std::vector<std::string> argv) {
  return find_command_keys(argv).error;
}

using list = std::vector<std::size_t>;

} // namespace

TEST_CASE("Fixed and ranged key positions") {
  CHECK(positions({"GET", "k"}) == list{1});
  CHECK(positions({"set", "k", "v", "EX", "10"}) == list{1});
  CHECK(positions({"DEL", "a", "b", "c"}) == list{1, 2, 3});
  CHECK(positions({"MSET", "a", "1", "b", "2"}) == list{1, 3});
  CHECK(positions({"BLPOP", "a", "b", "0"}) == list{1, 2});
  CHECK(positions({"LMOVE", "a", "b", "LEFT", "RIGHT"}) == list{1, 2});
  CHECK(positions({"BITOP", "AND", "d", "a", "b"}) == list{2, 3, 4});
  CHECK(positions({"SINTERSTORE", "d", "a", "b"}) == list{1, 2, 3});
  CHECK(positions({"OBJECT", "ENCODING", "k"}) == list{2});
  CHECK(positions({"MEMORY", "USAGE", "k", "SAMPLES", "5"}) == list{2});
  CHECK(positions({"WATCH", "a", "b"}) == list{1, 2});
}

TEST_CASE("SORT extracts the last STORE and skips option arguments") {
  CHECK(positions({"SORT", "abc", "STORE", "def"}) == list{1, 3});
  CHECK(positions({"sort", "abc", "store", "invalid", "store", "stillbad", "store", "def"}) ==
        list{1, 7});
  CHECK(positions({"SORT", "abc", "BY", "store", "LIMIT", "store", "store"}) == list{1});
  CHECK(positions({"SORT", "abc", "GET", "#", "STORE"}) == list{1});
  CHECK(positions({"SORT_RO", "abc", "STORE", "def"}) == list{1});
}

TEST_CASE("Keys counted by a numkeys argument") {
  CHECK(positions({"ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"}) == list{1, 3, 4});
  CHECK(positions({"ZINTER", "2", "a", "b", "WITHSCORES"}) == list{2, 3});
  CHECK(positions({"ZDIFF", "1", "a"}) == list{2});
  CHECK(positions({"LMPOP", "2", "a", "b", "LEFT"}) == list{2, 3});
  CHECK(positions({"BLMPOP", "0", "2", "a", "b", "LEFT"}) == list{3, 4});
  CHECK(positions({"ZMPOP", "1", "a", "MIN"}) == list{2});
  CHECK(positions({"BZMPOP", "1.5", "1", "a", "MAX"}) == list{3});
  CHECK(positions({"SINTERCARD", "2", "a", "b", "LIMIT", "1"}) == list{2, 3});
  CHECK(positions({"ZINTERCARD", "1", "a"}) == list{2});
  CHECK(error_of({"ZUNIONSTORE", "d", "3", "a", "b"}) == "Invalid arguments specified for command");
  CHECK(error_of({"ZUNIONSTORE", "d", "0", "a"}) == "Invalid arguments specified for command");
  CHECK(error_of({"LMPOP", "x", "a", "LEFT"}) == "Invalid arguments specified for command");
}

TEST_CASE("EVAL and its kin are known by name and may have no keys") {
  CHECK(positions({"EVAL", "return 1", "2", "a", "b", "arg"}) == list{3, 4});
  CHECK(positions({"EVALSHA", "abc", "1", "a"}) == list{3});
  CHECK(positions({"EVAL_RO", "s", "1", "a"}) == list{3});
  CHECK(positions({"EVALSHA_RO", "s", "1", "a", "b"}) == list{3});
  CHECK(positions({"EVAL", "return 1", "0"}).empty());
  CHECK(positions({"EVAL", "return 1", "5", "a"}).empty());
}

TEST_CASE("Redis's GETKEYS errors") {
  CHECK(error_of({"NOSUCHCOMMAND", "a"}) == "Invalid command specified");
  CHECK(error_of({"PING"}) == "The command has no key arguments");
  CHECK(error_of({"PUBLISH", "ch", "msg"}) == "The command has no key arguments");
  CHECK(error_of({"OBJECT", "HELP"}) == "The command has no key arguments");
  CHECK(error_of({"OBJECT", "NOSUCH", "k"}) == "Invalid command specified");
  CHECK(error_of({"GET"}) == "Invalid number of arguments specified for command");
  CHECK(error_of({"GET", "a", "b"}) == "Invalid number of arguments specified for command");
  CHECK(error_of({"ZUNIONSTORE", "d", "1"}) == "Invalid number of arguments specified for command");
}

TEST_CASE("COMMAND GETKEYS and GETKEYSANDFLAGS replies") {
  CHECK(command_reply({"COMMAND", "GETKEYS", "SORT", "abc", "STORE", "def"}) ==
        "*2\r\n$3\r\nabc\r\n$3\r\ndef\r\n");
  CHECK(command_reply({"COMMAND", "GETKEYS", "SORT_RO", "abc"}) == "*1\r\n$3\r\nabc\r\n");
  CHECK(command_reply({"COMMAND", "GETKEYSANDFLAGS", "SORT", "abc", "STORE", "def"}) ==
        "*2\r\n*2\r\n$3\r\nabc\r\n*2\r\n+RO\r\n+access\r\n"
        "*2\r\n$3\r\ndef\r\n*2\r\n+OW\r\n+update\r\n");
  CHECK(command_reply({"COMMAND", "GETKEYS", "EVAL", "s", "0"}) == "*0\r\n");
  CHECK(command_reply({"COMMAND", "GETKEYS", "GET", "a", "b"}) ==
        "-ERR Invalid number of arguments specified for command\r\n");
  CHECK(command_reply({"COMMAND", "GETKEYS", "PING", "x"}) ==
        "-ERR The command has no key arguments\r\n");
  // COMMAND GETKEYS needs a command and at least one argument (Redis: arity -4).
  CHECK(command_reply({"COMMAND", "GETKEYS", "GET"}) ==
        "-ERR wrong number of arguments for 'command|getkeys' command\r\n");
  CHECK(command_reply({"COMMAND", "GETKEYS"}) ==
        "-ERR wrong number of arguments for 'command|getkeys' command\r\n");
}

namespace {

std::vector<std::vector<std::string_view>> flags(std::vector<std::string> argv) {
  std::vector<std::vector<std::string_view>> out;
  for (const auto& key : find_command_keys(argv).keys)
    out.push_back(key.flags);
  return out;
}

using flag_lists = std::vector<std::vector<std::string_view>>;

} // namespace

TEST_CASE("GETKEYSANDFLAGS flags as redis-server 7.0.15 answers them") {
  CHECK(flags({"SET", "k", "v"}) == flag_lists{{"OW", "update"}});
  CHECK(flags({"SET", "k", "v", "GET"}) == flag_lists{{"RW", "access", "update"}});
  CHECK(flags({"GET", "a"}) == flag_lists{{"RO", "access"}});
  CHECK(flags({"DEL", "a"}) == flag_lists{{"RM", "delete"}});
  CHECK(flags({"LPUSH", "k", "v"}) == flag_lists{{"RW", "insert"}});
  CHECK(flags({"INCR", "k"}) == flag_lists{{"RW", "access", "update"}});
  CHECK(flags({"LMOVE", "a", "b", "LEFT", "LEFT"}) ==
        flag_lists{{"RW", "access", "delete"}, {"RW", "insert"}});
  CHECK(flags({"RENAME", "a", "b"}) == flag_lists{{"RW", "access", "delete"}, {"OW", "update"}});
  CHECK(flags({"BLPOP", "a", "0"}) == flag_lists{{"RW", "access", "delete"}});
  CHECK(flags({"ZUNIONSTORE", "d", "1", "a"}) == flag_lists{{"OW", "update"}, {"RO", "access"}});
  CHECK(flags({"SINTERSTORE", "d", "a"}) == flag_lists{{"RW", "update"}, {"RO", "access"}});
  CHECK(flags({"EXISTS", "a"}) == flag_lists{{"RO"}});
  CHECK(flags({"EXPIRE", "a", "1"}) == flag_lists{{"RW", "update"}});
  CHECK(flags({"COPY", "a", "b"}) == flag_lists{{"RO", "access"}, {"OW", "update"}});
  CHECK(flags({"RESTORE", "a", "0", "x"}) == flag_lists{{"OW", "update"}});
  CHECK(flags({"GETDEL", "a"}) == flag_lists{{"RW", "access", "delete"}});
}
