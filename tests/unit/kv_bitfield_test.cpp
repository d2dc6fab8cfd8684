// BITFIELD and BITFIELD_RO (kv_bitmaps.cpp). Replies were checked against redis-server 7.0.15
// (the differential test compares many more); these pin the overflow rules at the edges.

#include <catch2/catch.hpp>

#include "actors/state_machine/kv_state.hpp"
#include "tests/unit/kv_script.hpp"

using namespace prez;
using namespace prez::kv_script;

TEST_CASE("BITFIELD wraps saturates or fails at the edges of signed and unsigned fields",
          "[kv_bitfield]") {
  kv_state state;
  run_script(
      state,
      {
          {{"BITFIELD", "b", "GET", "i8", "0"}, "*1\r\n:0\r\n"},
          {{"EXISTS", "b"}, ":0\r\n"}, // GETs alone create nothing
          {{"BITFIELD", "b", "SET", "i8", "0", "127", "INCRBY", "i8", "0", "1"},
           "*2\r\n:0\r\n:-128\r\n"},
          {{"BITFIELD", "b", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "-1000"}, "*1\r\n:-128\r\n"},
          {{"BITFIELD", "b", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "-1", "GET", "i8", "0"},
           "*2\r\n$-1\r\n:-128\r\n"},
          {{"BITFIELD", "b", "SET", "u63", "8", "9223372036854775807"}, "*1\r\n:0\r\n"},
          {{"BITFIELD", "b", "OVERFLOW", "SAT", "INCRBY", "u63", "8", "-5", "GET", "u63", "8"},
           "*2\r\n:9223372036854775802\r\n:9223372036854775802\r\n"},
          {{"BITFIELD", "b", "SET", "i64", "100", "-9223372036854775808", "INCRBY", "i64", "100",
            "-1"},
           "*2\r\n:0\r\n:9223372036854775807\r\n"},
          {{"BITFIELD", "b", "SET", "u4", "#100", "1"}, "*1\r\n:0\r\n"},
          {{"STRLEN", "b"}, ":51\r\n"}, // grown to hold bit 403
          {{"BITFIELD_RO", "b", "GET", "u4", "#100"}, "*1\r\n:1\r\n"},
          {{"BITFIELD_RO", "b", "INCRBY", "u4", "0", "1"},
           "-ERR BITFIELD_RO only supports the GET subcommand\r\n"},
          {{"BITFIELD", "b", "GET", "u64", "0"},
           "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not "
           "supported but i64 is.\r\n"},
      });
}
