// Key-space commands
//
// The script below was run against redis-server 7.0.15 and against kv_state; every reply here is
// the byte-exact reply Redis gave (KEYS lists keys in prez's hash order, not Redis's\n// dictionary
// order: see docs/expiry.md).

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "actors/state_machine/kv_state.hpp"
#include "tests/unit/kv_script.hpp"

using namespace prez;

using namespace prez::kv_script;

TEST_CASE("Key-space commands: replies match Redis 7 byte for byte", "[kv_keys]") {
  kv_state state;
  run_script(
      state,
      {
          {{"MSET", "a", "1", "b", "2", "c", "3"}, "+OK\r\n"},
          {{"DEL", "a", "a", "nokey"}, ":1\r\n"},
          {{"UNLINK", "b"}, ":1\r\n"},
          {{"EXISTS", "a", "b", "c", "c"}, ":2\r\n"},
          {{"TYPE", "c"}, "+string\r\n"},
          {{"TYPE", "nokey"}, "+none\r\n"},
          {{"SADD", "st", "x"}, ":1\r\n"},
          {{"TYPE", "st"}, "+set\r\n"},
          {{"HSET", "h", "f", "v"}, ":1\r\n"},
          {{"TYPE", "h"}, "+hash\r\n"},
          {{"RPUSH", "l", "x"}, ":1\r\n"},
          {{"TYPE", "l"}, "+list\r\n"},
          {{"RENAME", "nokey", "x"}, "-ERR no such key\r\n"},
          {{"RENAME", "c", "c"}, "+OK\r\n"},
          {{"RENAMENX", "c", "c"}, ":0\r\n"},
          {{"RENAME", "c", "d"}, "+OK\r\n"},
          {{"GET", "d"}, "$1\r\n3\r\n"},
          {{"SET", "e", "5"}, "+OK\r\n"},
          {{"RENAMENX", "d", "e"}, ":0\r\n"},
          {{"RENAME", "d", "e"}, "+OK\r\n"},
          {{"GET", "e"}, "$1\r\n3\r\n"},
          {{"EXPIRE", "e", "100"}, ":1\r\n"},
          {{"RENAME", "e", "f"}, "+OK\r\n"},
          {{"TTL", "f"}, ":100\r\n"},
          {{"KEYS", "*"}, "*4\r\n$1\r\nf\r\n$2\r\nst\r\n$1\r\nl\r\n$1\r\nh\r\n"},
          {{"KEYS", "f"}, "*1\r\n$1\r\nf\r\n"},
          {{"KEYS", "[a-f]"}, "*1\r\n$1\r\nf\r\n"},
          {{"KEYS", "?"}, "*3\r\n$1\r\nf\r\n$1\r\nl\r\n$1\r\nh\r\n"},
          {{"KEYS", "h*"}, "*1\r\n$1\r\nh\r\n"},
          {{"DBSIZE"}, ":4\r\n"},
          {{"EXPIRE", "f", "100", "NX"}, ":0\r\n"},
          {{"EXPIRE", "f", "200", "XX"}, ":1\r\n"},
          {{"TTL", "f"}, ":200\r\n"},
          {{"EXPIRE", "f", "100", "GT"}, ":0\r\n"},
          {{"EXPIRE", "f", "300", "GT"}, ":1\r\n"},
          {{"EXPIRE", "f", "400", "LT"}, ":0\r\n"},
          {{"EXPIRE", "f", "100", "LT"}, ":1\r\n"},
          {{"TTL", "f"}, ":100\r\n"},
          {{"EXPIRE", "h", "100", "GT"}, ":0\r\n"},
          {{"EXPIRE", "h", "100", "XX"}, ":0\r\n"},
          {{"EXPIRE", "h", "100", "LT"}, ":1\r\n"},
          {{"TTL", "h"}, ":100\r\n"},
          {{"EXPIRE", "f", "100", "NX", "XX"},
           "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"},
          {{"EXPIRE", "f", "100", "GT", "LT"},
           "-ERR GT and LT options at the same time are not compatible\r\n"},
          {{"EXPIRE", "f", "100", "FOO"}, "-ERR Unsupported option FOO\r\n"},
          {{"EXPIRE", "f", "abc"}, "-ERR value is not an integer or out of range\r\n"},
          {{"EXPIRE", "f", "9223372036854775807"},
           "-ERR invalid expire time in 'expire' command\r\n"},
          {{"PEXPIRE", "f", "9223372036854775807"},
           "-ERR invalid expire time in 'pexpire' command\r\n"},
          {{"EXPIRE", "nokey", "100"}, ":0\r\n"},
          {{"PERSIST", "f"}, ":1\r\n"},
          {{"PERSIST", "f"}, ":0\r\n"},
          {{"TTL", "f"}, ":-1\r\n"},
          {{"PTTL", "nokey"}, ":-2\r\n"},
          {{"TTL", "nokey"}, ":-2\r\n"},
          {{"EXPIRETIME", "f"}, ":-1\r\n"},
          {{"EXPIRETIME", "nokey"}, ":-2\r\n"},
          {{"EXPIREAT", "f", "1"}, ":1\r\n"},
          {{"EXISTS", "f"}, ":0\r\n"},
          {{"PEXPIREAT", "l", "1"}, ":1\r\n"},
          {{"EXISTS", "l"}, ":0\r\n"},
          {{"EXPIRE", "h", "-1"}, ":1\r\n"},
          {{"EXISTS", "h"}, ":0\r\n"},
          {{"EXPIREAT", "st", "99999999999"}, ":1\r\n"},
          {{"EXPIRETIME", "st"}, ":99999999999\r\n"},
          {{"PEXPIRETIME", "st"}, ":99999999999000\r\n"},
          {{"FLUSHDB", "bogus"}, "-ERR syntax error\r\n"},
          {{"FLUSHDB", "async", "sync"}, "-ERR syntax error\r\n"},
          {{"FLUSHALL", "SYNC"}, "+OK\r\n"},
          {{"DBSIZE"}, ":0\r\n"},
          {{"RANDOMKEY"}, "$-1\r\n"},
          {{"SCAN", "0"}, "*2\r\n$1\r\n0\r\n*0\r\n"},
          {{"SCAN", "abc"}, "-ERR invalid cursor\r\n"},
          {{"SCAN", "0", "COUNT", "0"}, "-ERR syntax error\r\n"},
          {{"SCAN", "0", "COUNT", "abc"}, "-ERR value is not an integer or out of range\r\n"},
          {{"SCAN", "0", "MATCH"}, "-ERR syntax error\r\n"},
          {{"SCAN", "0", "bogus", "x"}, "-ERR syntax error\r\n"},
          {{"HSCAN", "nokey", "0"}, "*2\r\n$1\r\n0\r\n*0\r\n"},
          {{"HSCAN", "nokey", "0", "bogus"}, "*2\r\n$1\r\n0\r\n*0\r\n"},
          {{"SSCAN", "nokey", "abc"}, "-ERR invalid cursor\r\n"},
          {{"HSET", "h", "a", "1", "b", "2"}, ":2\r\n"},
          {{"HSCAN", "h", "0"},
           "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"},
          {{"HSCAN", "h", "0", "MATCH", "a"}, "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"},
          {{"HSCAN", "h", "0", "COUNT", "0"}, "-ERR syntax error\r\n"},
          {{"SADD", "s", "1", "2", "3"}, ":3\r\n"},
          {{"SSCAN", "s", "0", "MATCH", "2"}, "*2\r\n$1\r\n0\r\n*1\r\n$1\r\n2\r\n"},
          {{"TTL", "h"}, ":-1\r\n"},
          {{"PERSIST", "h"}, ":0\r\n"},
      });
}

TEST_CASE("MEMORY USAGE: prez's own accounting of a key, nil for a missing key", "[kv_keys]") {
  kv_state state;
  state.apply({"SET", "small", "v"}, 1'000);
  state.apply({"SET", "large", std::string(1000, 'x')}, 1'000);
  CHECK(state.read({"MEMORY", "USAGE", "nokey"}, 1'000) == "$-1\r\n");
  CHECK(state.read({"MEMORY", "USAGE", "small"}, 1'000) ==
        ":" + std::to_string(5 + 1 + 48) + "\r\n");
  CHECK(state.read({"MEMORY", "usage", "large", "SAMPLES", "0"}, 1'000) ==
        ":" + std::to_string(5 + 1000 + 48) + "\r\n");
}
