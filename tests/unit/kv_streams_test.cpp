// Streams (kv_streams.cpp, stream.hpp)
//
// The script below was run against redis-server 7.0.15 and against kv_state; every reply here is
// the byte-exact reply Redis gave (each command sent to a throwaway redis-server, its raw reply
// recorded). Then what a replicated stream adds: IDs from the entry's time that never go back,
// `~` trimming by whole nodes as Redis's default node size trims, snapshots and DUMP payloads
// that carry the whole stream (a damaged one refused), and XREAD BLOCK decided in the log.

#include <catch2/catch.hpp>

#include <string>
#include <variant>
#include <vector>

#include "actors/gateway/resp3.hpp"
#include "actors/state_machine/client_sessions.hpp"
#include "actors/state_machine/kv_state.hpp"
#include "actors/state_machine/state_restore.hpp"
#include "tests/unit/kv_script.hpp"

using namespace prez;

using namespace prez::kv_script;

TEST_CASE("Stream commands: replies match Redis 7 byte for byte", "[kv_streams]") {
  kv_state state;
  run_script(
      state,
      {
          {{"SET", "str", "x"}, "+OK\r\n"},
          {{"XADD", "s", "1-1", "a", "1"}, "$3\r\n1-1\r\n"},
          {{"XADD", "s", "1-1", "a", "1"},
           "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"},
          {{"XADD", "s", "1-*", "b", "2"}, "$3\r\n1-2\r\n"},
          {{"XADD", "s", "2", "c", "3", "d", "4"}, "$3\r\n2-0\r\n"},
          {{"XADD", "s", "0-0", "a", "1"},
           "-ERR The ID specified in XADD must be greater than 0-0\r\n"},
          {{"XADD", "fresh", "0-0", "a", "1"},
           "-ERR The ID specified in XADD must be greater than 0-0\r\n"},
          {{"EXISTS", "fresh"}, ":0\r\n"},
          {{"XADD", "s", "abc", "a", "1"},
           "-ERR Invalid stream ID specified as stream command argument\r\n"},
          {{"XADD", "s", "5-1", "a"}, "-ERR wrong number of arguments for 'xadd' command\r\n"},
          {{"XADD", "s", "5-1"}, "-ERR wrong number of arguments for 'xadd' command\r\n"},
          {{"XADD", "s", "MAXLEN", "-1", "5-1", "a", "1"},
           "-ERR The MAXLEN argument must be >= 0.\r\n"},
          {{"XADD", "s", "MAXLEN", "x", "5-1", "a", "1"},
           "-ERR value is not an integer or out of range\r\n"},
          {{"XADD", "s", "MAXLEN", "1", "MINID", "1", "5-1", "a", "1"},
           "-ERR syntax error, MAXLEN and MINID options at the same time are not compatible\r\n"},
          {{"XADD", "s", "LIMIT", "5", "5-1", "a", "1"},
           "-ERR syntax error, LIMIT cannot be used without specifying a trimming strategy\r\n"},
          {{"XADD", "s", "MAXLEN", "5", "LIMIT", "5", "5-1", "a", "1"},
           "-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n"},
          {{"XADD", "s", "MAXLEN", "~", "5", "LIMIT", "-1", "5-1", "a", "1"},
           "-ERR The LIMIT argument must be >= 0.\r\n"},
          {{"XADD", "s", "NOMKSTREAM", "3-0", "e", "5"}, "$3\r\n3-0\r\n"},
          {{"XADD", "nostream", "NOMKSTREAM", "*", "e", "5"}, "$-1\r\n"},
          {{"XADD", "str", "*", "a", "1"},
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
          {{"XLEN", "s"}, ":4\r\n"},
          {{"XLEN", "nostream"}, ":0\r\n"},
          {{"XLEN", "str"},
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
          {{"XRANGE", "s", "-", "+"},
           "*4\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$"
           "1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n2-0\r\n*4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$"
           "1\r\n4\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\ne\r\n$1\r\n5\r\n"},
          {{"XRANGE", "s", "1", "1"},
           "*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$"
           "1\r\nb\r\n$1\r\n2\r\n"},
          {{"XRANGE", "s", "(1-1", "+"},
           "*3\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n2-0\r\n*4\r\n$"
           "1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\ne\r\n$"
           "1\r\n5\r\n"},
          {{"XRANGE", "s", "-", "(2-0"},
           "*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$"
           "1\r\nb\r\n$1\r\n2\r\n"},
          {{"XRANGE", "s", "-", "+", "COUNT", "2"},
           "*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$"
           "1\r\nb\r\n$1\r\n2\r\n"},
          {{"XRANGE", "s", "-", "+", "COUNT", "0"}, "*-1\r\n"},
          {{"XRANGE", "s", "-", "+", "COUNT", "-3"}, "*-1\r\n"},
          {{"XRANGE", "s", "-", "+", "COUNT"}, "-ERR syntax error\r\n"},
          {{"XRANGE", "s", "-", "+", "FOO", "1"}, "-ERR syntax error\r\n"},
          {{"XRANGE", "s", "x", "+"},
           "-ERR Invalid stream ID specified as stream command argument\r\n"},
          {{"XRANGE", "s", "(-", "+"},
           "-ERR Invalid stream ID specified as stream command argument\r\n"},
          {{"XRANGE", "s", "(18446744073709551615-18446744073709551615", "+"},
           "-ERR invalid start ID for the interval\r\n"},
          {{"XRANGE", "s", "-", "(0-0"}, "-ERR invalid end ID for the interval\r\n"},
          {{"XRANGE", "nostream", "-", "+"}, "*0\r\n"},
          {{"XRANGE", "str", "-", "+"},
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
          {{"XRANGE", "s", "5", "1"}, "*0\r\n"},
          {{"XREVRANGE", "s", "+", "-"},
           "*4\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\ne\r\n$1\r\n5\r\n*2\r\n$3\r\n2-0\r\n*4\r\n$"
           "1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$"
           "1\r\n2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"},
          {{"XREVRANGE", "s", "+", "-", "COUNT", "1"},
           "*1\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\ne\r\n$1\r\n5\r\n"},
          {{"XREVRANGE", "s", "2", "(1-1"},
           "*2\r\n*2\r\n$3\r\n2-0\r\n*4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n*2\r\n$"
           "3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"},
          {{"XREAD", "STREAMS", "s", "nostream", "0", "0"},
           "*1\r\n*2\r\n$1\r\ns\r\n*4\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$"
           "3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n2-0\r\n*4\r\n$1\r\nc\r\n$"
           "1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\ne\r\n$1\r\n5\r\n"},
          {{"XREAD", "COUNT", "1", "STREAMS", "s", "1-1"},
           "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"},
          {{"XREAD", "STREAMS", "s", "$"}, "*-1\r\n"},
          {{"XREAD", "STREAMS", "s", "3-0"}, "*-1\r\n"},
          {{"XREAD", "STREAMS", "s"}, "-ERR wrong number of arguments for 'xread' command\r\n"},
          {{"XREAD", "STREAMS", "s", "x"},
           "-ERR Invalid stream ID specified as stream command argument\r\n"},
          {{"XREAD", "STREAMS", "str", "0"},
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
          {{"XREAD", "COUNT", "x", "STREAMS", "s", "0"},
           "-ERR value is not an integer or out of range\r\n"},
          {{"XREAD", "BLOCK", "x", "STREAMS", "s", "0"},
           "-ERR timeout is not an integer or out of range\r\n"},
          {{"XREAD", "BLOCK", "-1", "STREAMS", "s", "0"}, "-ERR timeout is negative\r\n"},
          {{"XREAD", "GROUP", "g", "c", "STREAMS", "s", "0"},
           "-ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.\r\n"},
          {{"XREAD", "NOACK", "STREAMS", "s", "0"},
           "-ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.\r\n"},
          {{"XREAD", "STREAMS", "s", ">"},
           "-ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> "
           "<consumer> option.\r\n"},
          {{"XREAD", "FOO", "STREAMS", "s", "0"}, "-ERR syntax error\r\n"},
          {{"XREAD", "COUNT", "1"}, "-ERR wrong number of arguments for 'xread' command\r\n"},
          {{"XDEL", "s", "1-2", "9-9"}, ":1\r\n"},
          {{"XDEL", "s", "bad"}, "-ERR Invalid stream ID specified as stream command argument\r\n"},
          {{"XDEL", "nostream", "1-1"}, ":0\r\n"},
          {{"XDEL", "str", "1-1"},
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
          {{"XINFO", "STREAM", "s"},
           "*20\r\n$6\r\nlength\r\n:3\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-"
           "nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n3-0\r\n$20\r\nmax-deleted-entry-"
           "id\r\n$3\r\n1-2\r\n$13\r\nentries-added\r\n:4\r\n$23\r\nrecorded-first-entry-id\r\n$"
           "3\r\n1-1\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$"
           "1\r\na\r\n$1\r\n1\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\ne\r\n$"
           "1\r\n5\r\n"},
          {{"XINFO", "STREAM", "s", "FULL"},
           "*18\r\n$6\r\nlength\r\n:3\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-"
           "nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n3-0\r\n$20\r\nmax-deleted-entry-"
           "id\r\n$3\r\n1-2\r\n$13\r\nentries-added\r\n:4\r\n$23\r\nrecorded-first-entry-id\r\n$"
           "3\r\n1-1\r\n$7\r\nentries\r\n*3\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*"
           "2\r\n$3\r\n2-0\r\n*4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n*2\r\n$3\r\n3-"
           "0\r\n*2\r\n$1\r\ne\r\n$1\r\n5\r\n$6\r\ngroups\r\n*0\r\n"},
          {{"XINFO", "STREAM", "s", "FULL", "COUNT", "1"},
           "*18\r\n$6\r\nlength\r\n:3\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-"
           "nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n3-0\r\n$20\r\nmax-deleted-entry-"
           "id\r\n$3\r\n1-2\r\n$13\r\nentries-added\r\n:4\r\n$23\r\nrecorded-first-entry-id\r\n$"
           "3\r\n1-1\r\n$7\r\nentries\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n$"
           "6\r\ngroups\r\n*0\r\n"},
          {{"XINFO", "STREAM", "s", "FOO"},
           "-ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO "
           "HELP.\r\n"},
          {{"XINFO", "STREAM", "nostream"}, "-ERR no such key\r\n"},
          {{"XINFO", "STREAM", "str"},
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
          {{"XINFO", "FOO"}, "-ERR unknown subcommand 'FOO'. Try XINFO HELP.\r\n"},
          {{"XINFO", "STREAM"}, "-ERR wrong number of arguments for 'xinfo|stream' command\r\n"},
          {{"XINFO", "GROUPS", "s"}, "*0\r\n"},
          {{"XSETID", "s", "1-0"},
           "-ERR The ID specified in XSETID is smaller than the target stream top item\r\n"},
          {{"XSETID", "s", "9-0", "ENTRIESADDED", "1"},
           "-ERR The entries_added specified in XSETID is smaller than the target stream "
           "length\r\n"},
          {{"XSETID", "s", "9-0", "ENTRIESADDED", "-1"}, "-ERR entries_added must be positive\r\n"},
          {{"XSETID", "s", "9-0", "MAXDELETEDID", "10-0"},
           "-ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id\r\n"},
          {{"XSETID", "s", "9-0", "ENTRIESADDED", "20", "MAXDELETEDID", "8-0"}, "+OK\r\n"},
          {{"XSETID", "s", "9-0", "FOO", "1"}, "-ERR syntax error\r\n"},
          {{"XSETID", "nostream", "9-0"}, "-ERR no such key\r\n"},
          {{"XINFO", "STREAM", "s"},
           "*20\r\n$6\r\nlength\r\n:3\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-"
           "nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n9-0\r\n$20\r\nmax-deleted-entry-"
           "id\r\n$3\r\n8-0\r\n$13\r\nentries-added\r\n:20\r\n$23\r\nrecorded-first-entry-id\r\n$"
           "3\r\n1-1\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$"
           "1\r\na\r\n$1\r\n1\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\ne\r\n$"
           "1\r\n5\r\n"},
          {{"XADD", "s", "9-0", "f", "1"},
           "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"},
          {{"XADD", "s", "9-*", "f", "1"}, "$3\r\n9-1\r\n"},
          {{"XTRIM", "s", "MAXLEN", "1"}, ":3\r\n"},
          {{"XRANGE", "s", "-", "+"}, "*1\r\n*2\r\n$3\r\n9-1\r\n*2\r\n$1\r\nf\r\n$1\r\n1\r\n"},
          {{"XTRIM", "s"}, "-ERR wrong number of arguments for 'xtrim' command\r\n"},
          {{"XTRIM", "s", "LIMIT", "1"},
           "-ERR syntax error, LIMIT cannot be used without specifying a trimming strategy\r\n"},
          {{"XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "1"}, ":1\r\n"},
          {{"XTRIM", "s", "MINID", "10"}, ":0\r\n"},
          {{"XTRIM", "nostream", "MAXLEN", "0"}, ":0\r\n"},
          {{"XTRIM", "str", "MAXLEN", "0"},
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
          {{"XTRIM", "s", "MINID", "x"},
           "-ERR Invalid stream ID specified as stream command argument\r\n"},
          {{"XDEL", "s", "9-1"}, ":0\r\n"},
          {{"XLEN", "s"}, ":0\r\n"},
          {{"EXISTS", "s"}, ":1\r\n"},
          {{"XINFO", "STREAM", "s"},
           "*20\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-"
           "nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$3\r\n9-1\r\n$20\r\nmax-deleted-entry-"
           "id\r\n$3\r\n8-0\r\n$13\r\nentries-added\r\n:21\r\n$23\r\nrecorded-first-entry-id\r\n$"
           "3\r\n0-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n$-1\r\n$10\r\nlast-entry\r\n$-"
           "1\r\n"},
          {{"TYPE", "s"}, "+stream\r\n"},
          {{"OBJECT", "ENCODING", "s"}, "$6\r\nstream\r\n"},
          {{"XLEN", "s", "extra"}, "-ERR wrong number of arguments for 'xlen' command\r\n"},
      });
}

TEST_CASE("XADD's own IDs are the entry's time and never go back", "[kv_streams]") {
  kv_state state;
  CHECK(state.apply({"XADD", "s", "*", "a", "1"}, 5000) == "$6\r\n5000-0\r\n");
  CHECK(state.apply({"XADD", "s", "*", "a", "2"}, 5000) == "$6\r\n5000-1\r\n");
  // A new leader whose clock is behind: the cluster clock (the largest time applied) holds, and
  // the sequence number grows instead.
  CHECK(state.apply({"XADD", "s", "*", "a", "3"}, 4000) == "$6\r\n5000-2\r\n");
  CHECK(state.apply({"XADD", "s", "7000-*", "a", "4"}, 4000) == "$6\r\n7000-0\r\n");
  CHECK(state.apply({"XADD", "s", "7000-*", "a", "5"}, 4000) == "$6\r\n7000-1\r\n");
  CHECK(state.apply({"XADD", "s", "*", "a", "6"}, 6000) == "$6\r\n7000-2\r\n");
  CHECK(state.apply({"XADD", "s", "*", "a", "7"}, 8000) == "$6\r\n8000-0\r\n");
  CHECK(state.apply({"XADD", "s", "6000-*", "a", "8"}, 8000) ==
        "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n");
  // The last possible ID: nothing can follow it.
  CHECK(state.apply({"XADD", "t", "18446744073709551615-18446744073709551615", "a", "1"}, 8000) ==
        "$41\r\n18446744073709551615-18446744073709551615\r\n");
  CHECK(state.apply({"XADD", "t", "*", "a", "1"}, 8000) ==
        "-ERR The stream has exhausted the last possible ID, unable to add more items\r\n");
  CHECK(state.bytes() == state.keys().recount_bytes());
}

TEST_CASE("XADD and XTRIM with ~ trim whole nodes of 100 entries, as Redis's default does",
          "[kv_streams]") {
  kv_state state;
  // Redis 7.0's unit/type/stream: 1000 XADDs with MAXLEN ~ 555 leave 600 entries.
  for (int i = 1; i <= 1000; ++i)
    state.apply({"XADD", "s", "MAXLEN", "~", "555", std::to_string(i), "f", "v"}, now_ms);
  CHECK(state.read({"XLEN", "s"}, now_ms) == ":600\r\n");
  // Exact trims cut into a node; `~` then removes only whole ones (Redis answers 500, then 400).
  for (int i = 1; i <= 1000; ++i)
    state.apply({"XADD", "t", std::to_string(i), "f", "v"}, now_ms);
  CHECK(state.apply({"XTRIM", "t", "MAXLEN", "666"}, now_ms) == ":334\r\n");
  CHECK(state.apply({"XTRIM", "t", "MAXLEN", "=", "555"}, now_ms) == ":111\r\n");
  CHECK(state.apply({"XTRIM", "t", "MAXLEN", "~", "444"}, now_ms) == ":55\r\n");
  CHECK(state.apply({"XTRIM", "t", "MAXLEN", "~", "400"}, now_ms) == ":100\r\n");
  // LIMIT bounds the entries removed; a node that does not fit stops the trim.
  CHECK(state.apply({"XTRIM", "t", "MAXLEN", "~", "0", "LIMIT", "99"}, now_ms) == ":0\r\n");
  CHECK(state.apply({"XTRIM", "t", "MAXLEN", "~", "0", "LIMIT", "250"}, now_ms) == ":200\r\n");
  // MINID ~ removes a node only when its last entry is below the ID.
  CHECK(state.apply({"XTRIM", "t", "MINID", "~", "850"}, now_ms) == ":0\r\n");
  CHECK(state.apply({"XTRIM", "t", "MINID", "850"}, now_ms) == ":49\r\n");
  CHECK(state.read({"XRANGE", "t", "-", "+", "COUNT", "1"}, now_ms) ==
        "*1\r\n*2\r\n$5\r\n850-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
  CHECK(state.bytes() == state.keys().recount_bytes());
}

TEST_CASE("A snapshot carries streams whole, over many records and calls", "[kv_streams]") {
  kv_state state;
  for (int i = 1; i <= 3000; ++i)
    state.apply({"XADD", "big", std::to_string(i) + "-1", "field", std::string(40, 'x'), "n",
                 std::to_string(i)},
                now_ms);
  state.apply({"XDEL", "big", "7-1", "2999-1"}, now_ms);
  state.apply({"XSETID", "big", "5000-0", "ENTRIESADDED", "4000", "MAXDELETEDID", "4000-0"},
              now_ms);
  state.apply({"XADD", "empty", "1-1", "a", "b"}, now_ms);
  state.apply({"XDEL", "empty", "1-1"}, now_ms); // an empty stream stays a key, as in Redis
  state.apply({"XADD", "odd", "MAXLEN", "~", "1", "1-1", "", ""}, now_ms);
  for (const std::size_t budget : {std::size_t{512}, std::size_t{1} << 20}) {
    auto result = round_trip(state, budget);
    if (auto* error = std::get_if<std::string>(&result)) FAIL(*error);
    kv_state& copy = std::get<restored_state>(result).kv;
    CHECK(copy.bytes() == state.bytes());
    CHECK(copy.bytes() == copy.keys().recount_bytes());
    for (const argv_type& read : std::vector<argv_type>{
             {"XRANGE", "big", "-", "+"},
             {"XINFO", "STREAM", "big"},
             {"XINFO", "STREAM", "empty"},
             {"XRANGE", "odd", "-", "+"},
             {"TYPE", "empty"},
         })
      CHECK(copy.read(read, now_ms) == state.read(read, now_ms));
    // The same nodes and counters: the next writes agree too.
    for (const argv_type& write : std::vector<argv_type>{
             {"XTRIM", "big", "MAXLEN", "~", "1000"},
             {"XADD", "big", "*", "a", "b"},
             {"XADD", "empty", "*", "a", "b"},
         })
      CHECK(copy.apply(write, now_ms) == state.apply(write, now_ms));
  }
}

TEST_CASE("A damaged stream in a snapshot is refused", "[kv_streams]") {
  kv_state state;
  state.apply({"XADD", "s", "5-1", "field-a", "value-a"}, now_ms);
  state.apply({"XADD", "s", "6-1", "field-b", "value-b"}, now_ms);
  client_sessions sessions;
  state.begin_snapshot(sessions);
  std::string bytes;
  REQUIRE(state.snapshot_next(bytes, 1 << 20));
  REQUIRE(std::holds_alternative<restored_state>(restore_state(bytes)));
  const auto refused = [&](std::string_view from, std::string_view to) {
    std::string damaged = bytes;
    const auto at = damaged.find(from);
    REQUIRE(at != std::string::npos);
    damaged.replace(at, from.size(), to);
    const auto result = restore_state(damaged);
    REQUIRE(std::holds_alternative<std::string>(result));
    return std::get<std::string>(result);
  };
  CHECK(refused("6-1 0-0 2 2", "6-1 0-0 2 x") == "damaged snapshot: stream head damaged");
  // The last ID below an entry's, an ordinal past the appends.
  CHECK(refused("6-1 0-0 2 2", "5-9 0-0 2 2") ==
        "damaged snapshot: stream item damaged, out of order or past the stream's last ID");
  CHECK(refused("6-1 0-0 2 2", "6-1 0-0 2 1") ==
        "damaged snapshot: stream item damaged, out of order or past the stream's last ID");
  // A field length that runs past the item.
  CHECK(refused(std::string("\0\0\0\x07value-b", 11), std::string("\0\0\0\x08value-b", 11)) ==
        "damaged snapshot: stream item damaged, out of order or past the stream's last ID");
}

TEST_CASE("DUMP and RESTORE carry a stream, its counters too", "[kv_streams]") {
  kv_state state;
  state.apply({"XADD", "s", "1-1", "a", "1"}, now_ms);
  state.apply({"XADD", "s", "2-1", "b", "2", "c", "3"}, now_ms);
  state.apply({"XDEL", "s", "1-1"}, now_ms);
  state.apply({"XADD", "e", "1-1", "a", "1"}, now_ms);
  state.apply({"XDEL", "e", "1-1"}, now_ms);
  for (const std::string key : {"s", "e"}) {
    const std::string payload = bulk_body(state.read({"DUMP", key}, now_ms));
    CHECK(state.apply({"RESTORE", key + "2", "0", payload}, now_ms) == "+OK\r\n");
    CHECK(state.read({"XINFO", "STREAM", key + "2"}, now_ms) ==
          state.read({"XINFO", "STREAM", key}, now_ms));
    std::string damaged = payload;
    damaged[damaged.size() / 2] ^= 1;
    CHECK(state.apply({"RESTORE", key + "3", "0", damaged}, now_ms) ==
          "-ERR DUMP payload version or checksum are wrong\r\n");
  }
  CHECK(state.bytes() == state.keys().recount_bytes());
}

TEST_CASE("XREAD BLOCK waits in the log: $ is the last ID when it blocks, every waiter is served",
          "[kv_streams]") {
  kv_state state;
  state.apply({"XADD", "s", "1-1", "old", "1"}, now_ms);
  // "$" is resolved when the client blocks: the entry already there is not served.
  CHECK_FALSE(state.apply_client(1, 1, {"XREAD", "BLOCK", "0", "STREAMS", "s", "$"}, now_ms));
  CHECK_FALSE(state.apply_client(
      2, 1, {"XREAD", "COUNT", "1", "BLOCK", "5000", "STREAMS", "none", "s", "0", "1-1"}, now_ms));
  CHECK(state.blocked_count() == 2);
  CHECK(state.apply({"XADD", "s", "2-1", "new", "2"}, now_ms) == "$3\r\n2-1\r\n");
  const auto served = state.take_served();
  REQUIRE(served.size() == 2); // a read pops nothing: both are served, in the order they blocked
  CHECK(served[0].client_id == 1);
  CHECK(served[0].reply ==
        "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$3\r\nnew\r\n$1\r\n"
        "2\r\n");
  CHECK(served[1].client_id == 2);
  CHECK(served[1].reply == served[0].reply);
  // RESP3: a map from stream to entries, as Redis 7 answers.
  CHECK(to_resp3(served[0].reply, resp3_shape_of({"XREAD", "STREAMS", "s", "0"})) ==
        "%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$3\r\nnew\r\n$1\r\n2\r\n");
  // Data already there answers at once; a timeout answers a null array.
  CHECK(state.apply_client(3, 1, {"XREAD", "BLOCK", "10", "STREAMS", "s", "0"}, now_ms));
  CHECK_FALSE(state.apply_client(3, 2, {"XREAD", "BLOCK", "10", "STREAMS", "s", "$"}, now_ms));
  state.apply({"SET", "tick", "1"}, now_ms + 60'000);
  const auto timed_out = state.take_served();
  REQUIRE(timed_out.size() == 1);
  CHECK(timed_out[0].reply == "*-1\r\n");
  // Where a client cannot block (MULTI), XREAD BLOCK answers what there is at once.
  CHECK(state.apply_transaction({{"XREAD", "BLOCK", "0", "STREAMS", "s", "$"}}, now_ms + 60'000,
                                {}) == "*1\r\n*-1\r\n");
  std::string error;
  CHECK(classify({"XREAD", "BLOCK", "0", "STREAMS", "s", "$"}, error) == command_kind::write);
  CHECK(classify({"XREAD", "STREAMS", "s", "$"}, error) == command_kind::read);
  CHECK(blocking_timeout_ms({"XREAD", "BLOCK", "1500", "STREAMS", "s", "$"}) == 1500);
  CHECK(blocking_timeout_ms({"XREAD", "STREAMS", "s", "$"}) == std::nullopt);
}

TEST_CASE("A snapshot carries a blocked XREAD, $ already resolved", "[kv_streams]") {
  kv_state state;
  state.apply({"XADD", "s", "1-1", "old", "1"}, now_ms);
  CHECK_FALSE(state.apply_client(1, 1, {"XREAD", "BLOCK", "0", "STREAMS", "s", "$"}, now_ms));
  auto result = round_trip(state, 1 << 20);
  REQUIRE(std::holds_alternative<restored_state>(result));
  kv_state& copy = std::get<restored_state>(result).kv;
  CHECK(copy.blocked_count() == 1);
  copy.apply({"XADD", "s", "2-1", "new", "2"}, now_ms);
  state.apply({"XADD", "s", "2-1", "new", "2"}, now_ms);
  const auto a = copy.take_served();
  const auto b = state.take_served();
  REQUIRE(a.size() == 1);
  CHECK(a == b);
  CHECK(a[0].reply.find("old") == std::string::npos);
}

TEST_CASE("a stream copies deeply, a moved-from stream is empty, a key's value stays small",
          "[streams]") {
  kv::stream a;
  a.append({5, 1}, {"f", "v"});
  kv::stream copy = a;
  copy.append({6, 0}, {"g", "w"});
  CHECK(a.size() == 1);
  CHECK(copy.size() == 2);
  kv::stream moved = std::move(a);
  CHECK(moved.size() == 1);
  CHECK(moved.last_id() == kv::stream_id{5, 1});
  CHECK(a.empty()); // NOLINT(bugprone-use-after-move): moved-from is specified as empty
  CHECK(a.last_id() == kv::stream_id{});
  CHECK(moved == kv::stream(moved));
  STATIC_REQUIRE(sizeof(kv::stream) == sizeof(void*));
  // The largest alternative of a key's value is now the list (a std::deque).
  STATIC_REQUIRE(sizeof(kv::value) <= sizeof(kv::list_value) + sizeof(void*));
}
