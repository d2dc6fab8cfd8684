// Set commands
//
// The script below was run against redis-server 7.0.15 and against kv_state; every reply here is
// the byte-exact reply Redis gave, except that prez lists members in\n// sorted order (SMEMBERS,
// SUNION, SDIFF, SPOP/SRANDMEMBER with a count covering the set) where\n// Redis uses its hash
// table's order.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "actors/state_machine/kv_state.hpp"
#include "tests/unit/kv_script.hpp"

using namespace prez;

using namespace prez::kv_script;

TEST_CASE("Set commands: replies match Redis 7 byte for byte", "[kv_sets]") {
  kv_state state;
  run_script(state,
             {
                 {{"SET", "str", "x"}, "+OK\r\n"},
                 {{"SADD", "s", "a", "b", "c"}, ":3\r\n"},
                 {{"SADD", "s", "a", "d"}, ":1\r\n"},
                 {{"SREM", "s", "a", "z"}, ":1\r\n"},
                 {{"SREM", "nos", "a"}, ":0\r\n"},
                 {{"SMEMBERS", "s"}, "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"},
                 {{"SMEMBERS", "nos"}, "*0\r\n"},
                 {{"SISMEMBER", "s", "b"}, ":1\r\n"},
                 {{"SISMEMBER", "s", "z"}, ":0\r\n"},
                 {{"SMISMEMBER", "s", "b", "z", "c"}, "*3\r\n:1\r\n:0\r\n:1\r\n"},
                 {{"SMISMEMBER", "nos", "a"}, "*1\r\n:0\r\n"},
                 {{"SCARD", "s"}, ":3\r\n"},
                 {{"SCARD", "nos"}, ":0\r\n"},
                 {{"SPOP", "nos"}, "$-1\r\n"},
                 {{"SPOP", "nos", "2"}, "*0\r\n"},
                 {{"SPOP", "s", "0"}, "*0\r\n"},
                 {{"SPOP", "s", "-1"}, "-ERR value is out of range, must be positive\r\n"},
                 {{"SPOP", "s", "abc"}, "-ERR value is out of range, must be positive\r\n"},
                 {{"SPOP", "s", "1", "2"}, "-ERR syntax error\r\n"},
                 {{"SRANDMEMBER", "nos"}, "$-1\r\n"},
                 {{"SRANDMEMBER", "nos", "2"}, "*0\r\n"},
                 {{"SRANDMEMBER", "s", "0"}, "*0\r\n"},
                 {{"SRANDMEMBER", "s", "abc"}, "-ERR value is not an integer or out of range\r\n"},
                 {{"SRANDMEMBER", "s", "1", "2"}, "-ERR syntax error\r\n"},
                 {{"SRANDMEMBER", "s", "10"}, "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"},
                 {{"SRANDMEMBER", "s", "-9223372036854775808"},
                  "-ERR value is out of range, value must between -9223372036854775807 and "
                  "9223372036854775807\r\n"},
                 {{"SADD", "t", "c", "d", "e"}, ":3\r\n"},
                 {{"SMOVE", "s", "t", "b"}, ":1\r\n"},
                 {{"SMOVE", "s", "t", "z"}, ":0\r\n"},
                 {{"SMOVE", "nos", "t", "a"}, ":0\r\n"},
                 {{"SMOVE", "s", "s", "c"}, ":1\r\n"},
                 {{"SMOVE", "s", "str", "c"},
                  "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
                 {{"SMOVE", "str", "s", "c"},
                  "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
                 {{"SINTER", "s", "t"}, "*2\r\n$1\r\nc\r\n$1\r\nd\r\n"},
                 {{"SUNION", "s", "t"}, "*4\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"},
                 {{"SDIFF", "s", "t"}, "*0\r\n"},
                 {{"SDIFF", "t", "s"}, "*2\r\n$1\r\nb\r\n$1\r\ne\r\n"},
                 {{"SINTER", "s", "nos"}, "*0\r\n"},
                 {{"SUNION", "nos", "s"}, "*2\r\n$1\r\nc\r\n$1\r\nd\r\n"},
                 {{"SDIFF", "nos", "s"}, "*0\r\n"},
                 {{"SINTER", "s", "str"},
                  "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
                 {{"SINTER", "nos", "str"},
                  "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
                 {{"SINTERSTORE", "d", "s", "t"}, ":2\r\n"},
                 {{"SMEMBERS", "d"}, "*2\r\n$1\r\nc\r\n$1\r\nd\r\n"},
                 {{"SUNIONSTORE", "d", "s", "t", "nos"}, ":4\r\n"},
                 {{"SMEMBERS", "d"}, "*4\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"},
                 {{"SDIFFSTORE", "d", "s", "s"}, ":0\r\n"},
                 {{"EXISTS", "d"}, ":0\r\n"},
                 {{"SET", "d", "x"}, "+OK\r\n"},
                 {{"SUNIONSTORE", "d", "s"}, ":2\r\n"},
                 {{"TYPE", "d"}, "+set\r\n"},
                 {{"SDIFFSTORE", "d", "s", "str"},
                  "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
                 {{"SADD", "str", "a"},
                  "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
                 {{"SPOP", "t", "10"}, "*4\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"},
                 {{"EXISTS", "t"}, ":0\r\n"},
             });
}
