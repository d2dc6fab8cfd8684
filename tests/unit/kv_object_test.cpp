// TOUCH, COPY, OBJECT and LCS
//
// The replies below were taken from redis-server 7.0.15 byte for byte, except where prez answers
// differently on purpose (docs/compatibility.md): COPY ... DB n with n != 0 (one database), OBJECT
// REFCOUNT (always 1), OBJECT IDLETIME (always 0).

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "actors/state_machine/kv_state.hpp"
#include "tests/unit/kv_script.hpp"

using namespace prez;
using namespace prez::kv_script;

TEST_CASE("TOUCH and COPY: replies match Redis 7 byte for byte", "[kv_object]") {
  kv_state state;
  run_script(
      state,
      {
          {{"SET", "a", "1"}, "+OK\r\n"},
          {{"RPUSH", "l", "x", "y"}, ":2\r\n"},
          {{"TOUCH", "a", "l", "nokey", "a"}, ":3\r\n"},
          {{"TOUCH"}, "-ERR wrong number of arguments for 'touch' command\r\n"},
          {{"COPY", "a", "b"}, ":1\r\n"},
          {{"COPY", "a", "b"}, ":0\r\n"},
          {{"COPY", "a", "b", "REPLACE"}, ":1\r\n"},
          {{"COPY", "a", "b", "db", "0"}, ":0\r\n"},
          {{"COPY", "a", "b", "DB", "x"}, "-ERR value is not an integer or out of range\r\n"},
          {{"COPY", "a", "b", "DB", "-1"}, "-ERR DB index is out of range\r\n"},
          {{"COPY", "a", "b", "DB", "1"}, "-ERR DB index is out of range\r\n"},
          {{"COPY", "a", "b", "DB", "0", "REPLACE", "extra"}, "-ERR syntax error\r\n"},
          {{"COPY", "a", "b", "bogus"}, "-ERR syntax error\r\n"},
          {{"COPY", "a", "a"}, "-ERR source and destination objects are the same\r\n"},
          {{"COPY", "nokey", "z"}, ":0\r\n"},
          {{"COPY", "a"}, "-ERR wrong number of arguments for 'copy' command\r\n"},
          {{"SET", "ex", "1", "EX", "100"}, "+OK\r\n"},
          {{"COPY", "ex", "ex2"}, ":1\r\n"},
          {{"TTL", "ex2"}, ":100\r\n"},
          {{"COPY", "l", "l2"}, ":1\r\n"},
          {{"RPUSH", "l2", "z"}, ":3\r\n"},
          {{"LLEN", "l"}, ":2\r\n"},
          {{"LRANGE", "l2", "0", "-1"}, "*3\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n"},
      });
}

TEST_CASE("OBJECT: encodings named as Redis 7.0 names them, FREQ's error, HELP", "[kv_object]") {
  kv_state state;
  run_script(
      state,
      {
          {{"SET", "a", "1"}, "+OK\r\n"},
          {{"OBJECT", "ENCODING", "a"}, "$3\r\nint\r\n"},
          {{"OBJECT", "encoding", "nokey"}, "$-1\r\n"},
          {{"RPUSH", "l", "x"}, ":1\r\n"},
          {{"OBJECT", "ENCODING", "l"}, "$9\r\nquicklist\r\n"},
          {{"OBJECT", "FREQ", "a"},
           "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please "
           "note that when switching between policies at runtime LRU and LFU data will take "
           "some time to adjust.\r\n"},
          {{"OBJECT", "FREQ", "nokey"}, "$-1\r\n"},
          {{"OBJECT", "IDLETIME", "a"}, ":0\r\n"},
          {{"OBJECT", "IDLETIME", "nokey"}, "$-1\r\n"},
          {{"OBJECT", "REFCOUNT", "nokey"}, "$-1\r\n"},
          {{"OBJECT", "REFCOUNT", "l"}, ":1\r\n"},
          {{"OBJECT"}, "-ERR wrong number of arguments for 'object' command\r\n"},
          {{"OBJECT", "ENCODING"},
           "-ERR wrong number of arguments for 'object|encoding' command\r\n"},
          {{"OBJECT", "encoding", "a", "b"},
           "-ERR wrong number of arguments for 'object|encoding' command\r\n"},
          {{"OBJECT", "bogus", "a"}, "-ERR unknown subcommand 'bogus'. Try OBJECT HELP.\r\n"},
          {{"SET", "s", "abcdefghijabcdefghijabcdefghijabcdefghijabcd"}, "+OK\r\n"},
          {{"OBJECT", "ENCODING", "s"}, "$6\r\nembstr\r\n"},
          {{"SET", "s", "abcdefghijabcdefghijabcdefghijabcdefghijabcde"}, "+OK\r\n"},
          {{"OBJECT", "ENCODING", "s"}, "$3\r\nraw\r\n"},
          {{"SET", "n", "-9223372036854775808"}, "+OK\r\n"},
          {{"OBJECT", "ENCODING", "n"}, "$3\r\nint\r\n"},
          {{"SET", "n", "012"}, "+OK\r\n"},
          {{"OBJECT", "ENCODING", "n"}, "$6\r\nembstr\r\n"},
          {{"HSET", "h", "f", "v"}, ":1\r\n"},
          {{"SADD", "st", "1", "2"}, ":2\r\n"},
          {{"SADD", "st2", "a"}, ":1\r\n"},
          {{"OBJECT", "ENCODING", "h"}, "$8\r\nlistpack\r\n"},
          {{"OBJECT", "ENCODING", "st"}, "$6\r\nintset\r\n"},
          {{"OBJECT", "ENCODING", "st2"}, "$9\r\nhashtable\r\n"},
          {{"OBJECT", "HELP"},
           "*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+ENCODING "
           "<key>\r\n+    Return the kind of internal representation used in order to store the "
           "value\r\n+    associated with a <key>.\r\n+FREQ <key>\r\n+    Return the access "
           "frequency index of the <key>. The returned integer is\r\n+    proportional to the "
           "logarithm of the recent access frequency of the key.\r\n+IDLETIME <key>\r\n+    "
           "Return the idle time of the <key>, that is the approximated number of\r\n+    seconds "
           "elapsed since the last access to the key.\r\n+REFCOUNT <key>\r\n+    Return the number "
           "of references of the value associated with the specified\r\n+    <key>.\r\n+HELP\r\n+ "
           "   Prints this help.\r\n"},
      });
}

TEST_CASE("LCS: string, LEN, IDX with MINMATCHLEN and WITHMATCHLEN as Redis 7", "[kv_object]") {
  kv_state state;
  run_script(
      state,
      {
          {{"SET", "k1", "ohmytext"}, "+OK\r\n"},
          {{"SET", "k2", "mynewtext"}, "+OK\r\n"},
          {{"LCS", "k1", "k2"}, "$6\r\nmytext\r\n"},
          {{"LCS", "k1", "k2", "LEN"}, ":6\r\n"},
          {{"LCS", "k1", "k2", "IDX"},
           "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:"
           "2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n"},
          {{"LCS", "k1", "k2", "IDX", "MINMATCHLEN", "4"},
           "*4\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n$3\r\nlen\r\n:"
           "6\r\n"},
          {{"LCS", "k1", "k2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"},
           "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen"
           "\r\n:6\r\n"},
          {{"LCS", "k1", "k2", "LEN", "IDX"},
           "-ERR If you want both the length and indexes, please just use IDX.\r\n"},
          {{"LCS", "k1", "k2", "MINMATCHLEN"}, "-ERR syntax error\r\n"},
          {{"LCS", "k1", "k2", "MINMATCHLEN", "x"},
           "-ERR value is not an integer or out of range\r\n"},
          {{"LCS", "k1", "nokey"}, "$0\r\n\r\n"},
          {{"LCS", "k1", "nokey", "IDX"}, "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n"},
          {{"RPUSH", "l", "a"}, ":1\r\n"},
          {{"LCS", "k1", "l"}, "-ERR The specified keys must contain string values\r\n"},
          {{"LCS", "k1", "l", "bogus"}, "-ERR The specified keys must contain string values\r\n"},
          {{"LCS", "k1", "k2", "bogus"}, "-ERR syntax error\r\n"},
          {{"LCS", "k1"}, "-ERR wrong number of arguments for 'lcs' command\r\n"},
      });
}

TEST_CASE("LCS refuses a table above limits::lcs_table_bytes_max", "[kv_object]") {
  kv_state state;
  const std::string long_text(6000, 'a');
  run_script(state, {
                        {{"SET", "x", long_text}, "+OK\r\n"},
                        {{"SET", "y", long_text}, "+OK\r\n"},
                        {{"LCS", "x", "y", "LEN"},
                         "-ERR Insufficient memory, transient memory for LCS exceeds prez's "
                         "limit (lcs-table-bytes-max 128 MiB)\r\n"},
                        {{"LCS", "x", "nokey", "LEN"}, ":0\r\n"},
                    });
}
