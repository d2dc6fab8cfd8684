// List commands
//
// The script below was run against redis-server 7.0.15 and against kv_state; every reply here is
// the byte-exact reply Redis gave.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "actors/state_machine/kv_state.hpp"
#include "tests/unit/kv_script.hpp"

using namespace prez;

using namespace prez::kv_script;

TEST_CASE("List commands: replies match Redis 7 byte for byte", "[kv_lists]") {
  kv_state state;
  run_script(
      state,
      {
          {{"SET", "str", "x"}, "+OK\r\n"},
          {{"LPUSH", "l", "a", "b", "c"}, ":3\r\n"},
          {{"RPUSH", "l", "d", "e"}, ":5\r\n"},
          {{"LPUSHX", "nol", "a"}, ":0\r\n"},
          {{"RPUSHX", "l", "f"}, ":6\r\n"},
          {{"LRANGE", "l", "0", "-1"},
           "*6\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n"},
          {{"LRANGE", "l", "-100", "100"},
           "*6\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n"},
          {{"LRANGE", "l", "5", "2"}, "*0\r\n"},
          {{"LRANGE", "l", "a", "b"}, "-ERR value is not an integer or out of range\r\n"},
          {{"LRANGE", "nol", "0", "-1"}, "*0\r\n"},
          {{"LLEN", "l"}, ":6\r\n"},
          {{"LLEN", "nol"}, ":0\r\n"},
          {{"LINDEX", "l", "0"}, "$1\r\nc\r\n"},
          {{"LINDEX", "l", "-1"}, "$1\r\nf\r\n"},
          {{"LINDEX", "l", "100"}, "$-1\r\n"},
          {{"LINDEX", "l", "abc"}, "-ERR value is not an integer or out of range\r\n"},
          {{"LINDEX", "nol", "abc"}, "$-1\r\n"},
          {{"LSET", "l", "0", "X"}, "+OK\r\n"},
          {{"LSET", "l", "100", "X"}, "-ERR index out of range\r\n"},
          {{"LSET", "nol", "0", "X"}, "-ERR no such key\r\n"},
          {{"LSET", "l", "abc", "X"}, "-ERR value is not an integer or out of range\r\n"},
          {{"LPOP", "l"}, "$1\r\nX\r\n"},
          {{"RPOP", "l"}, "$1\r\nf\r\n"},
          {{"LPOP", "l", "2"}, "*2\r\n$1\r\nb\r\n$1\r\na\r\n"},
          {{"LPOP", "l", "0"}, "*0\r\n"},
          {{"LPOP", "l", "-1"}, "-ERR value is out of range, must be positive\r\n"},
          {{"LPOP", "l", "abc"}, "-ERR value is out of range, must be positive\r\n"},
          {{"LPOP", "nol"}, "$-1\r\n"},
          {{"LPOP", "nol", "2"}, "*-1\r\n"},
          {{"LPOP", "nol", "0"}, "*-1\r\n"},
          {{"LPOP", "l", "1", "2"}, "-ERR wrong number of arguments for 'lpop' command\r\n"},
          {{"RPUSH", "r", "a", "b", "a", "c", "a", "d", "a"}, ":7\r\n"},
          {{"LREM", "r", "2", "a"}, ":2\r\n"},
          {{"LRANGE", "r", "0", "-1"},
           "*5\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\na\r\n"},
          {{"LREM", "r", "-1", "a"}, ":1\r\n"},
          {{"LRANGE", "r", "0", "-1"}, "*4\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nd\r\n"},
          {{"LREM", "r", "0", "a"}, ":1\r\n"},
          {{"LREM", "r", "abc", "a"}, "-ERR value is not an integer or out of range\r\n"},
          {{"LREM", "nol", "0", "a"}, ":0\r\n"},
          {{"LREM", "r", "0", "zz"}, ":0\r\n"}, // no match leaves the list as it was
          {{"LRANGE", "r", "0", "-1"}, "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"},
          {{"LINSERT", "r", "BEFORE", "c", "X"}, ":4\r\n"},
          {{"LINSERT", "r", "AFTER", "d", "Y"}, ":5\r\n"},
          {{"LINSERT", "r", "AFTER", "nop", "Y"}, ":-1\r\n"},
          {{"LINSERT", "r", "MIDDLE", "c", "Y"}, "-ERR syntax error\r\n"},
          {{"LINSERT", "nol", "BEFORE", "a", "b"}, ":0\r\n"},
          {{"LRANGE", "r", "0", "-1"},
           "*5\r\n$1\r\nb\r\n$1\r\nX\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\nY\r\n"},
          {{"LTRIM", "r", "1", "-2"}, "+OK\r\n"},
          {{"LRANGE", "r", "0", "-1"}, "*3\r\n$1\r\nX\r\n$1\r\nc\r\n$1\r\nd\r\n"},
          {{"LTRIM", "r", "5", "10"}, "+OK\r\n"},
          {{"EXISTS", "r"}, ":0\r\n"},
          {{"LTRIM", "r", "abc", "1"}, "-ERR value is not an integer or out of range\r\n"},
          {{"RPUSH", "p", "a", "b", "c", "1", "2", "3", "c", "c"}, ":8\r\n"},
          {{"LPOS", "p", "c"}, ":2\r\n"},
          {{"LPOS", "p", "c", "RANK", "2"}, ":6\r\n"},
          {{"LPOS", "p", "c", "RANK", "-1"}, ":7\r\n"},
          {{"LPOS", "p", "c", "COUNT", "0"}, "*3\r\n:2\r\n:6\r\n:7\r\n"},
          {{"LPOS", "p", "c", "COUNT", "2", "RANK", "-1"}, "*2\r\n:7\r\n:6\r\n"},
          {{"LPOS", "p", "c", "MAXLEN", "2"}, "$-1\r\n"},
          {{"LPOS", "p", "c", "RANK", "0"},
           "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or "
           "use negative to start from the end of the list\r\n"},
          {{"LPOS", "p", "c", "COUNT", "-1"}, "-ERR COUNT can't be negative\r\n"},
          {{"LPOS", "p", "c", "MAXLEN", "-1"}, "-ERR MAXLEN can't be negative\r\n"},
          {{"LPOS", "p", "c", "BOGUS"}, "-ERR syntax error\r\n"},
          {{"LPOS", "p", "c", "RANK"}, "-ERR syntax error\r\n"},
          {{"LPOS", "p", "z"}, "$-1\r\n"},
          {{"LPOS", "p", "z", "COUNT", "1"}, "*0\r\n"},
          {{"LPOS", "nol", "z"}, "$-1\r\n"},
          {{"LPOS", "nol", "z", "COUNT", "1"}, "*0\r\n"},
          {{"LPOS", "p", "c", "RANK", "abc"}, "-ERR value is not an integer or out of range\r\n"},
          {{"LPOS", "p", "c", "COUNT", "abc"}, "-ERR COUNT can't be negative\r\n"},
          {{"RPUSH", "m1", "a", "b", "c"}, ":3\r\n"},
          {{"LMOVE", "m1", "m2", "LEFT", "RIGHT"}, "$1\r\na\r\n"},
          {{"LMOVE", "m1", "m2", "RIGHT", "LEFT"}, "$1\r\nc\r\n"},
          {{"LRANGE", "m2", "0", "-1"}, "*2\r\n$1\r\nc\r\n$1\r\na\r\n"},
          {{"LMOVE", "m1", "m1", "LEFT", "RIGHT"}, "$1\r\nb\r\n"},
          {{"LRANGE", "m1", "0", "-1"}, "*1\r\n$1\r\nb\r\n"},
          {{"LMOVE", "m1", "m2", "UP", "DOWN"}, "-ERR syntax error\r\n"},
          {{"LMOVE", "nol", "m2", "LEFT", "LEFT"}, "$-1\r\n"},
          {{"LMOVE", "m1", "str", "LEFT", "LEFT"},
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
          {{"LMOVE", "str", "m1", "LEFT", "LEFT"},
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
          {{"RPOPLPUSH", "m1", "m3"}, "$1\r\nb\r\n"},
          {{"RPOPLPUSH", "m1", "m3"}, "$-1\r\n"},
          {{"EXISTS", "m1"}, ":0\r\n"},
          {{"RPOPLPUSH", "nol", "m3"}, "$-1\r\n"},
          {{"LPUSH", "str", "a"},
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      });
}
