// SORT and SORT_RO
//
// Every reply below is the byte-exact reply redis-server 7.0.15 gave for the same script.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "actors/state_machine/kv_state.hpp"
#include "tests/unit/kv_script.hpp"

using namespace prez;
using namespace prez::kv_script;

TEST_CASE("SORT: numeric, ALPHA, LIMIT, BY, GET and STORE as Redis 7", "[kv_sort]") {
  kv_state state;
  run_script(
      state,
      {
          {{"RPUSH", "l", "3", "1", "2", "10", "1.5"}, ":5\r\n"},
          {{"SORT", "l"}, "*5\r\n$1\r\n1\r\n$3\r\n1.5\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"},
          {{"SORT", "l", "DESC"},
           "*5\r\n$2\r\n10\r\n$1\r\n3\r\n$1\r\n2\r\n$3\r\n1.5\r\n$1\r\n1\r\n"},
          {{"SORT", "l", "LIMIT", "1", "2"}, "*2\r\n$3\r\n1.5\r\n$1\r\n2\r\n"},
          {{"SORT", "l", "LIMIT", "-1", "2"}, "*2\r\n$1\r\n1\r\n$3\r\n1.5\r\n"},
          {{"SORT", "l", "LIMIT", "10", "2"}, "*0\r\n"},
          {{"SORT", "l", "LIMIT", "1", "-1"},
           "*4\r\n$3\r\n1.5\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"},
          {{"SORT", "l", "ALPHA"},
           "*5\r\n$1\r\n1\r\n$3\r\n1.5\r\n$2\r\n10\r\n$1\r\n2\r\n$1\r\n3\r\n"},
          {{"RPUSH", "la", "b", "a", "c"}, ":3\r\n"},
          {{"SORT", "la"}, "-ERR One or more scores can't be converted into double\r\n"},
          {{"SORT", "la", "ALPHA", "DESC"}, "*3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n"},
          {{"MSET", "w_a", "3", "w_b", "1", "w_c", "2"}, "+OK\r\n"},
          {{"SORT", "la", "BY", "w_*"}, "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n"},
          {{"SORT", "la", "BY", "w_*", "GET", "#"}, "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n"},
          {{"SORT", "la", "BY", "w_*", "GET", "#", "GET", "w_*"},
           "*6\r\n$1\r\nb\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n3\r\n"},
          {{"SORT", "la", "BY", "nosort"}, "*3\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nc\r\n"},
          {{"SORT", "la", "BY", "w_*", "GET", "nopat"}, "*3\r\n$-1\r\n$-1\r\n$-1\r\n"},
          {{"HSET", "h_a", "f", "9"}, ":1\r\n"},
          {{"HSET", "h_b", "f", "8"}, ":1\r\n"},
          {{"SORT", "la", "BY", "h_*->f", "GET", "h_*->f", "GET", "#"},
           "*6\r\n$-1\r\n$1\r\nc\r\n$1\r\n8\r\n$1\r\nb\r\n$1\r\n9\r\n$1\r\na\r\n"},
          {{"SORT", "la", "STORE", "dst"},
           "-ERR One or more scores can't be converted into double\r\n"},
          {{"SORT", "nokey", "STORE", "dst"}, ":0\r\n"},
          {{"EXISTS", "dst"}, ":0\r\n"},
          {{"SORT", "la", "ALPHA", "STORE", "dst"}, ":3\r\n"},
          {{"LRANGE", "dst", "0", "-1"}, "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
          {{"SORT", "la", "BY", "w_*", "GET", "nopat", "STORE", "dst"}, ":3\r\n"},
          {{"LRANGE", "dst", "0", "-1"}, "*3\r\n$0\r\n\r\n$0\r\n\r\n$0\r\n\r\n"},
          {{"SORT_RO", "la", "STORE", "dst"}, "-ERR syntax error\r\n"},
          {{"SORT_RO", "la", "ALPHA"}, "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
          {{"SET", "s", "x"}, "+OK\r\n"},
          {{"SORT", "s"}, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
          {{"SORT", "s", "bogus"}, "-ERR syntax error\r\n"},
          {{"SORT", "la", "LIMIT", "1"}, "-ERR syntax error\r\n"},
          {{"SORT", "la", "LIMIT", "x", "1"}, "-ERR value is not an integer or out of range\r\n"},
          {{"RPUSH", "ties", "2", "1", "b", "a"}, ":4\r\n"},
          {{"SORT", "ties", "ALPHA", "BY", "nosort"},
           "*4\r\n$1\r\n2\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\na\r\n"},
          {{"RPUSH", "same", "1", "1.0", "01"}, ":3\r\n"},
          {{"SORT", "same"}, "*3\r\n$2\r\n01\r\n$1\r\n1\r\n$3\r\n1.0\r\n"},
          {{"SORT", "same", "DESC"}, "*3\r\n$3\r\n1.0\r\n$1\r\n1\r\n$2\r\n01\r\n"},
          {{"SORT", "la", "BY", "w_*", "ALPHA"}, "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n"},
          {{"SORT", "la", "GET"}, "-ERR syntax error\r\n"},
          {{"SADD", "st", "3", "1", "2"}, ":3\r\n"},
          {{"SORT", "st"}, "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"},
          {{"SORT", "st", "DESC", "LIMIT", "0", "2"}, "*2\r\n$1\r\n3\r\n$1\r\n2\r\n"},
      });
}

TEST_CASE("SORT is a read without STORE and a write with it", "[kv_sort]") {
  std::string error;
  CHECK(classify({"SORT", "l"}, error) == command_kind::read);
  CHECK(classify({"SORT", "l", "GET", "store"}, error) == command_kind::read);
  CHECK(classify({"SORT", "l", "STORE", "d"}, error) == command_kind::write);
  CHECK(classify({"sort", "l", "alpha", "store", "d"}, error) == command_kind::write);
  CHECK(classify({"SORT_RO", "l"}, error) == command_kind::read);
}
