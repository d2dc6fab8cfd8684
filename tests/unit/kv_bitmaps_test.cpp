// Bitmap commands (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP).
//
// The script below was run against redis-server 7.0.15 and against kv_state; every reply here is
// the byte-exact reply Redis gave. test_redis_compat compares many more cases live.

#include <catch2/catch.hpp>

#include "actors/state_machine/kv_state.hpp"
#include "tests/unit/kv_script.hpp"

using namespace prez;
using namespace prez::kv_script;

TEST_CASE("Bitmap commands: replies match Redis 7 byte for byte", "[kv_bitmaps]") {
  kv_state state;
  run_script(state, {
                        {{"SETBIT", "b", "0", "1"}, ":0\r\n"},
                        {{"SETBIT", "b", "0", "1"}, ":1\r\n"},
                        {{"GET", "b"}, "$1\r\n\x80\r\n"},
                        {{"SETBIT", "b", "15", "1"}, ":0\r\n"},
                        {{"GET", "b"}, "$2\r\n\x80\x01\r\n"},
                        {{"SETBIT", "b", "0", "0"}, ":1\r\n"},
                        {{"GETBIT", "b", "15"}, ":1\r\n"},
                        {{"GETBIT", "b", "16"}, ":0\r\n"},
                        {{"SETBIT", "b", "4294967296", "0"},
                         "-ERR bit offset is not an integer or out of range\r\n"},
                        {{"SET", "s", "foobar"}, "+OK\r\n"},
                        {{"BITCOUNT", "s"}, ":26\r\n"},
                        {{"BITCOUNT", "s", "1", "1"}, ":6\r\n"},
                        {{"BITCOUNT", "s", "5", "30", "BIT"}, ":17\r\n"},
                        {{"BITCOUNT", "s", "0"}, "-ERR syntax error\r\n"},
                        {{"BITPOS", "s", "1"}, ":1\r\n"},
                        {{"BITPOS", "s", "0"}, ":0\r\n"},
                        {{"BITPOS", "s", "1", "2", "-1", "BYTE"}, ":17\r\n"},
                        {{"BITPOS", "s", "1", "7", "15", "BIT"}, ":9\r\n"},
                        {{"SET", "t", "\xff\xff"}, "+OK\r\n"},
                        {{"BITPOS", "t", "0"}, ":16\r\n"},
                        {{"BITPOS", "t", "0", "0", "-1"}, ":-1\r\n"},
                        {{"BITOP", "XOR", "d", "s", "t"}, ":6\r\n"},
                        {{"STRLEN", "d"}, ":6\r\n"},
                        {{"BITOP", "NOT", "d", "s", "t"},
                         "-ERR BITOP NOT must be called with a single source key.\r\n"},
                        {{"BITOP", "AND", "d", "nokey"}, ":0\r\n"},
                        {{"EXISTS", "d"}, ":0\r\n"},
                        {{"LPUSH", "l", "x"}, ":1\r\n"},
                        {{"SETBIT", "l", "0", "1"},
                         "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
                        {{"BITOP", "OR", "d", "l"},
                         "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
                        {{"BITOP", "OR", "l", "s"}, ":6\r\n"},
                        {{"GET", "l"}, "$6\r\nfoobar\r\n"},
                    });
}

TEST_CASE("Bitmap writes are classified as writes and reads as reads", "[kv_bitmaps]") {
  std::string error;
  CHECK(prez::classify({"SETBIT", "k", "1", "1"}, error) == prez::command_kind::write);
  CHECK(prez::classify({"BITOP", "AND", "d", "k"}, error) == prez::command_kind::write);
  CHECK(prez::classify({"GETBIT", "k", "1"}, error) == prez::command_kind::read);
  CHECK(prez::classify({"BITCOUNT", "k"}, error) == prez::command_kind::read);
  CHECK(prez::classify({"BITPOS", "k", "1"}, error) == prez::command_kind::read);
  CHECK(prez::classify({"BITOP", "AND", "d"}, error) == prez::command_kind::unknown);
}
