// Hash commands
//
// The script below was run against redis-server 7.0.15 and against kv_state; every reply here is
// the byte-exact reply Redis gave.

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "actors/state_machine/kv_state.hpp"
#include "tests/unit/kv_script.hpp"

using namespace prez;

using namespace prez::kv_script;

TEST_CASE("Hash commands: replies match Redis 7 byte for byte", "[kv_hashes]") {
  kv_state state;
  run_script(
      state,
      {
          {{"HSET", "h", "a", "1", "b", "2"}, ":2\r\n"},
          {{"HSET", "h", "a", "3", "c", "4"}, ":1\r\n"},
          {{"HSET", "h", "a"}, "-ERR wrong number of arguments for 'hset' command\r\n"},
          {{"HMSET", "h", "a", "1", "b"}, "-ERR wrong number of arguments for 'hmset' command\r\n"},
          {{"HMSET", "h", "x", "9"}, "+OK\r\n"},
          {{"HSETNX", "h", "a", "5"}, ":0\r\n"},
          {{"HSETNX", "h", "z", "5"}, ":1\r\n"},
          {{"HGET", "h", "a"}, "$1\r\n3\r\n"},
          {{"HGET", "h", "nof"}, "$-1\r\n"},
          {{"HGET", "nokey", "a"}, "$-1\r\n"},
          {{"HMGET", "h", "a", "nof", "b"}, "*3\r\n$1\r\n3\r\n$-1\r\n$1\r\n2\r\n"},
          {{"HMGET", "nokey", "a", "b"}, "*2\r\n$-1\r\n$-1\r\n"},
          {{"HDEL", "h", "a", "nof"}, ":1\r\n"},
          {{"HDEL", "nokey", "a"}, ":0\r\n"},
          {{"HEXISTS", "h", "b"}, ":1\r\n"},
          {{"HEXISTS", "h", "a"}, ":0\r\n"},
          {{"HLEN", "h"}, ":4\r\n"},
          {{"HLEN", "nokey"}, ":0\r\n"},
          {{"HKEYS", "nokey"}, "*0\r\n"},
          {{"HVALS", "nokey"}, "*0\r\n"},
          {{"HGETALL", "nokey"}, "*0\r\n"},
          {{"HINCRBY", "h", "cnt", "5"}, ":5\r\n"},
          {{"HINCRBY", "h", "cnt", "abc"}, "-ERR value is not an integer or out of range\r\n"},
          {{"HINCRBY", "h", "x", "1"}, ":10\r\n"},
          {{"HINCRBY", "h", "z", "1"}, ":6\r\n"},
          {{"HSET", "h", "s", "abc"}, ":1\r\n"},
          {{"HINCRBY", "h", "s", "1"}, "-ERR hash value is not an integer\r\n"},
          {{"HSET", "h", "max", "9223372036854775807"}, ":1\r\n"},
          {{"HINCRBY", "h", "max", "1"}, "-ERR increment or decrement would overflow\r\n"},
          {{"HINCRBYFLOAT", "h", "fl", "10.5"}, "$4\r\n10.5\r\n"},
          {{"HINCRBYFLOAT", "h", "fl", "0.1"}, "$4\r\n10.6\r\n"},
          {{"HINCRBYFLOAT", "h", "fl", "abc"}, "-ERR value is not a valid float\r\n"},
          {{"HINCRBYFLOAT", "h", "s", "1"}, "-ERR hash value is not a float\r\n"},
          {{"HINCRBYFLOAT", "h", "fl", "inf"}, "-ERR value is NaN or Infinity\r\n"},
          {{"HSTRLEN", "h", "s"}, ":3\r\n"},
          {{"HSTRLEN", "h", "nof"}, ":0\r\n"},
          {{"HSTRLEN", "nokey", "f"}, ":0\r\n"},
          {{"SET", "str", "x"}, "+OK\r\n"},
          {{"HGET", "str", "a"},
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
          {{"HSET", "str", "a", "b"},
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
          {{"HGETALL", "str"},
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
          {{"HDEL", "h", "b", "c", "x", "z", "cnt", "s", "max", "fl"}, ":8\r\n"},
          {{"EXISTS", "h"}, ":0\r\n"},
      });
}

TEST_CASE("HRANDFIELD: whole hash, distinct picks, repeated draws, values paired", "[kv_hashes]") {
  kv_state state;
  state.apply({"HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"}, 1'000);
  CHECK(state.read({"HRANDFIELD", "h", "9", "WITHVALUES"}, 1'000) ==
        "*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$"
        "1\r\n4\r\n");
  // Two distinct fields, in field order, each with its own value.
  const auto two = state.read({"HRANDFIELD", "h", "2", "WITHVALUES"}, 1'000);
  CHECK(two.rfind("*4\r\n", 0) == 0);
  for (const char* pair : {"$1\r\na\r\n$1\r\n1\r\n", "$1\r\nb\r\n$1\r\n2\r\n",
                           "$1\r\nc\r\n$1\r\n3\r\n", "$1\r\nd\r\n$1\r\n4\r\n"})
    CHECK(two.find(pair) == two.rfind(pair)); // never twice
  // A negative count draws that many times, repeats allowed; every draw is a field of h.
  const auto drawn = state.read({"HRANDFIELD", "h", "-50"}, 1'000);
  CHECK(drawn.rfind("*50\r\n", 0) == 0);
  // The picks change with time (the seed mixes the read's time), so over many reads every field
  // turns up.
  std::set<std::string> seen;
  for (std::uint64_t t = 1'000; t < 1'200; ++t)
    seen.insert(state.read({"HRANDFIELD", "h"}, t));
  CHECK(seen.size() == 4);
  CHECK(state.read({"HRANDFIELD", "nokey"}, 1'000) == "$-1\r\n");
  CHECK(state.read({"HRANDFIELD", "nokey", "3"}, 1'000) == "*0\r\n");
}
