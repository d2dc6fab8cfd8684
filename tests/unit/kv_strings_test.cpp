// String commands
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

TEST_CASE("String commands: replies match Redis 7 byte for byte", "[kv_strings]") {
  kv_state state;
  run_script(
      state,
      {
          {{"SET", "k", "v"}, "+OK\r\n"},
          {{"GET", "k"}, "$1\r\nv\r\n"},
          {{"SET", "k", "v2", "GET"}, "$1\r\nv\r\n"},
          {{"SET", "k", "v3", "NX"}, "$-1\r\n"},
          {{"SET", "k", "v3", "NX", "GET"}, "$2\r\nv2\r\n"},
          {{"SET", "n", "v", "XX"}, "$-1\r\n"},
          {{"SET", "n", "v", "XX", "GET"}, "$-1\r\n"},
          {{"SET", "k", "v", "EX", "0"}, "-ERR invalid expire time in 'set' command\r\n"},
          {{"SET", "k", "v", "EX", "-1"}, "-ERR invalid expire time in 'set' command\r\n"},
          {{"SET", "k", "v", "EX", "abc"}, "-ERR value is not an integer or out of range\r\n"},
          {{"SET", "k", "v", "EX", "100", "PX", "100"}, "-ERR syntax error\r\n"},
          {{"SET", "k", "v", "KEEPTTL", "EX", "10"}, "-ERR syntax error\r\n"},
          {{"SET", "k", "v", "EX", "10", "EX", "20"}, "+OK\r\n"},
          {{"SET", "k", "v", "PX", "9223372036854775807"},
           "-ERR invalid expire time in 'set' command\r\n"},
          {{"SET", "k", "v", "EX", "9223372036854775"},
           "-ERR invalid expire time in 'set' command\r\n"},
          {{"SET", "k", "v", "bogus"}, "-ERR syntax error\r\n"},
          {{"SET", "k", "v", "NX", "XX"}, "-ERR syntax error\r\n"},
          {{"SET", "k"}, "-ERR wrong number of arguments for 'set' command\r\n"},
          {{"GETSET", "k", "new"}, "$1\r\nv\r\n"},
          {{"GETSET", "nokey", "x"}, "$-1\r\n"},
          {{"GETDEL", "k"}, "$3\r\nnew\r\n"},
          {{"GETDEL", "k"}, "$-1\r\n"},
          {{"SET", "s", "hello"}, "+OK\r\n"},
          {{"GETEX", "s"}, "$5\r\nhello\r\n"},
          {{"GETEX", "s", "EX", "100"}, "$5\r\nhello\r\n"},
          {{"TTL", "s"}, ":100\r\n"},
          {{"GETEX", "s", "PERSIST"}, "$5\r\nhello\r\n"},
          {{"TTL", "s"}, ":-1\r\n"},
          {{"GETEX", "s", "EX", "10", "PERSIST"}, "-ERR syntax error\r\n"},
          {{"GETEX", "s", "bogus"}, "-ERR syntax error\r\n"},
          {{"GETEX", "s", "EX", "0"}, "-ERR invalid expire time in 'getex' command\r\n"},
          {{"GETEX", "nokey", "EX", "10"}, "$1\r\nx\r\n"},
          {{"SETNX", "s", "x"}, ":0\r\n"},
          {{"SETNX", "s2", "x"}, ":1\r\n"},
          {{"SETEX", "e", "0", "v"}, "-ERR invalid expire time in 'setex' command\r\n"},
          {{"SETEX", "e", "abc", "v"}, "-ERR value is not an integer or out of range\r\n"},
          {{"SETEX", "e", "100", "v"}, "+OK\r\n"},
          {{"TTL", "e"}, ":100\r\n"},
          {{"PSETEX", "e", "0", "v"}, "-ERR invalid expire time in 'psetex' command\r\n"},
          {{"PSETEX", "e", "100000", "v"}, "+OK\r\n"},
          {{"MSET", "a", "1", "b", "2", "c", "3"}, "+OK\r\n"},
          {{"MSET", "a", "1", "b"}, "-ERR wrong number of arguments for 'mset' command\r\n"},
          {{"MGET", "a", "b", "c", "nokey"}, "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\nx\r\n"},
          {{"MSETNX", "a", "1", "z", "2"}, ":0\r\n"},
          {{"MSETNX", "y", "1", "z", "2"}, ":1\r\n"},
          {{"APPEND", "a", "23"}, ":3\r\n"},
          {{"APPEND", "newa", "abc"}, ":3\r\n"},
          {{"STRLEN", "a"}, ":3\r\n"},
          {{"STRLEN", "nokey"}, ":1\r\n"},
          {{"SET", "r", "\"Hello World\""}, "+OK\r\n"},
          {{"GETRANGE", "r", "0", "3"}, "$4\r\n\"Hel\r\n"},
          {{"GETRANGE", "r", "-3", "-1"}, "$3\r\nld\"\r\n"},
          {{"GETRANGE", "r", "0", "-1"}, "$13\r\n\"Hello World\"\r\n"},
          {{"GETRANGE", "r", "10", "100"}, "$3\r\nld\"\r\n"},
          {{"GETRANGE", "r", "-1", "-5"}, "$0\r\n\r\n"},
          {{"GETRANGE", "r", "5", "3"}, "$0\r\n\r\n"},
          {{"GETRANGE", "nokey", "0", "10"}, "$1\r\nx\r\n"},
          {{"GETRANGE", "r", "a", "1"}, "-ERR value is not an integer or out of range\r\n"},
          {{"SETRANGE", "r", "6", "Redis"}, ":13\r\n"},
          {{"GET", "r"}, "$13\r\n\"HelloRedisd\"\r\n"},
          {{"SETRANGE", "sr", "5", "x"}, ":6\r\n"},
          {{"GET", "sr"}, std::string("$6\r\n\0\0\0\0\0x\r\n", 12)}, // SETRANGE pads with NULs
          {{"SETRANGE", "sr2", "0", ""}, ":0\r\n"},
          {{"EXISTS", "sr2"}, ":0\r\n"},
          {{"SETRANGE", "r", "-1", "x"}, "-ERR offset is out of range\r\n"},
          {{"SETRANGE", "r", "536870912", "x"},
           "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"},
          {{"INCR", "cnt"}, ":1\r\n"},
          {{"INCRBY", "cnt", "10"}, ":11\r\n"},
          {{"DECR", "cnt"}, ":10\r\n"},
          {{"DECRBY", "cnt", "5"}, ":5\r\n"},
          {{"INCRBY", "cnt", "abc"}, "-ERR value is not an integer or out of range\r\n"},
          {{"INCR", "r"}, "-ERR value is not an integer or out of range\r\n"},
          {{"SET", "big", "9223372036854775807"}, "+OK\r\n"},
          {{"INCR", "big"}, "-ERR increment or decrement would overflow\r\n"},
          {{"SET", "small", "-9223372036854775808"}, "+OK\r\n"},
          {{"DECR", "small"}, "-ERR increment or decrement would overflow\r\n"},
          {{"DECRBY", "cnt", "-9223372036854775808"}, "-ERR decrement would overflow\r\n"},
          {{"SET", "lead", "01"}, "+OK\r\n"},
          {{"INCR", "lead"}, "-ERR value is not an integer or out of range\r\n"},
          {{"SET", "plus", "+1"}, "+OK\r\n"},
          {{"INCR", "plus"}, "-ERR value is not an integer or out of range\r\n"},
          {{"INCRBYFLOAT", "f", "10.5"}, "$4\r\n10.5\r\n"},
          {{"INCRBYFLOAT", "f", "0.1"}, "$4\r\n10.6\r\n"},
          {{"INCRBYFLOAT", "f", "-5.0e3"}, "$23\r\n-4989.39999999999999991\r\n"},
          {{"INCRBYFLOAT", "f", "abc"}, "-ERR value is not a valid float\r\n"},
          {{"INCRBYFLOAT", "r", "1"}, "-ERR value is not a valid float\r\n"},
          {{"SET", "fl", "3.0e3"}, "+OK\r\n"},
          {{"INCRBYFLOAT", "fl", "200"}, "$4\r\n3200\r\n"},
          {{"INCRBYFLOAT", "fl", "inf"}, "-ERR increment would produce NaN or Infinity\r\n"},
          {{"SET", "fl2", "5.0e3"}, "+OK\r\n"},
          {{"INCRBYFLOAT", "fl2", "2.0e2"}, "$4\r\n5200\r\n"},
          {{"INCRBYFLOAT", "f3", "1.1"}, "$3\r\n1.1\r\n"},
          {{"INCRBYFLOAT", "f3", "2.2"}, "$3\r\n3.3\r\n"},
          {{"INCRBYFLOAT", "f4", " 1"}, "-ERR value is not a valid float\r\n"},
          {{"INCRBYFLOAT", "f4", "1e500"},
           "$500\r\n9999999999999999999753271266966287622744388042706262434481484050155791062309198"
           "135008537233975527553247122153304996303552782407414828335624055223280062576697286608441"
           "503825923495942799871211259011937632469756159461752950800360353065680494019420667892417"
           "634237816557798586644672685124605657306871327670350055995275161591539202517224426216916"
           "128225350108278424579065957210785627629051937228766257119671912505440289144249911222915"
           "6173599930406858801483355454171563029859120153204924601865711052337971200\r\n"},
          {{"LPUSH", "lst", "a"}, ":1\r\n"},
          {{"GET", "lst"},
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
          {{"INCR", "lst"},
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
          {{"APPEND", "lst", "x"},
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
          {{"SET", "lst", "x", "GET"},
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
          {{"GETDEL", "lst"},
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
          {{"STRLEN", "lst"},
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
          {{"MGET", "lst", "a"}, "*2\r\n$-1\r\n$3\r\n123\r\n"},
          {{"GETEX", "lst"},
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      });
}
