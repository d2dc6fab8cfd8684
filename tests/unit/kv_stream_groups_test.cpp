// Stream consumer groups (kv_stream_groups.cpp, stream.hpp)
//
// The script below was run against redis-server 7.0.15 and against kv_state; every reply here is
// the byte-exact reply Redis gave (each command sent to a throwaway redis-server, its raw reply
// recorded; no reply in it depends on the time). Then what the log adds: delivery and idle times
// from the entries' times, XREADGROUP BLOCK decided in the log (NOGROUP when the group goes),
// snapshots and DUMP payloads that carry the groups whole (a damaged one refused), and RESP3.

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

TEST_CASE("Consumer group commands: replies match Redis 7 byte for byte", "[kv_stream_groups]") {
  kv_state state;
  run_script(
      state,
      {
          {{"SET", "str", "x"}, "+OK\r\n"},
          {{"XGROUP", "HELP"},
           "*17\r\n+XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+CREATE "
           "<key> <groupname> <id|$> [option]\r\n+    Create a new consumer group. Options "
           "are:\r\n+    * MKSTREAM\r\n+      Create the empty stream if it does not exist.\r\n+   "
           " * ENTRIESREAD entries_read\r\n+      Set the group's entries_read counter (internal "
           "use).\r\n+CREATECONSUMER <key> <groupname> <consumer>\r\n+    Create a new consumer in "
           "the specified group.\r\n+DELCONSUMER <key> <groupname> <consumer>\r\n+    Remove the "
           "specified consumer.\r\n+DESTROY <key> <groupname>\r\n+    Remove the specified "
           "group.\r\n+SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]\r\n+    Set the "
           "current group ID and entries_read counter.\r\n+HELP\r\n+    Prints this help.\r\n"},
          {{"XGROUP", "CREATE", "nokey", "g", "$"},
           "-ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may "
           "want to use the MKSTREAM option to create an empty stream automatically.\r\n"},
          {{"XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"}, "+OK\r\n"},
          {{"XGROUP", "CREATE", "s", "g", "$"},
           "-BUSYGROUP Consumer Group name already exists\r\n"},
          {{"XGROUP", "CREATE", "str", "g", "$"},
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
          {{"XGROUP", "CREATE", "s", "g2", "0", "ENTRIESREAD", "-5"},
           "-ERR value for ENTRIESREAD must be positive or -1\r\n"},
          {{"XGROUP", "CREATE", "s", "g2", "0", "ENTRIESREAD", "x"},
           "-ERR value is not an integer or out of range\r\n"},
          {{"XGROUP", "CREATE", "s", "g2", "0", "FOO"},
           "-ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP "
           "HELP.\r\n"},
          {{"XGROUP", "CREATE", "s", "g2", "bad"},
           "-ERR Invalid stream ID specified as stream command argument\r\n"},
          {{"XGROUP", "CREATE", "s", "g2", "0", "MKSTREAM", "MKSTREAM", "MKSTREAM", "MKSTREAM"},
           "-ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP "
           "HELP.\r\n"},
          {{"XGROUP", "FOO", "s", "g"}, "-ERR unknown subcommand 'FOO'. Try XGROUP HELP.\r\n"},
          {{"XGROUP", "CREATE", "s"},
           "-ERR wrong number of arguments for 'xgroup|create' command\r\n"},
          {{"XGROUP", "DESTROY", "s"},
           "-ERR wrong number of arguments for 'xgroup|destroy' command\r\n"},
          {{"XGROUP", "SETID", "s", "nogroup", "0"},
           "-NOGROUP No such consumer group 'nogroup' for key name 's'\r\n"},
          {{"XGROUP", "CREATECONSUMER", "s", "nogroup", "c"},
           "-NOGROUP No such consumer group 'nogroup' for key name 's'\r\n"},
          {{"XGROUP", "DELCONSUMER", "s", "nogroup", "c"},
           "-NOGROUP No such consumer group 'nogroup' for key name 's'\r\n"},
          {{"XGROUP", "DESTROY", "s", "nogroup"}, ":0\r\n"},
          {{"XINFO", "GROUPS", "s"},
           "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$"
           "17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:"
           "0\r\n"},
          {{"XADD", "s", "1-1", "a", "1"}, "$3\r\n1-1\r\n"},
          {{"XADD", "s", "2-1", "b", "2"}, "$3\r\n2-1\r\n"},
          {{"XADD", "s", "3-1", "c", "3"}, "$3\r\n3-1\r\n"},
          {{"XINFO", "GROUPS", "s"},
           "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$"
           "17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:"
           "3\r\n"},
          {{"XINFO", "STREAM", "s"},
           "*20\r\n$6\r\nlength\r\n:3\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-"
           "nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n3-1\r\n$20\r\nmax-deleted-entry-"
           "id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:3\r\n$23\r\nrecorded-first-entry-id\r\n$"
           "3\r\n1-1\r\n$6\r\ngroups\r\n:1\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$"
           "1\r\na\r\n$1\r\n1\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n3-1\r\n*2\r\n$1\r\nc\r\n$"
           "1\r\n3\r\n"},
          {{"XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"},
           "*1\r\n*2\r\n$1\r\ns\r\n*3\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$"
           "3\r\n2-1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n3-1\r\n*2\r\n$1\r\nc\r\n$"
           "1\r\n3\r\n"},
          {{"XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"}, "*-1\r\n"},
          {{"XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"},
           "*1\r\n*2\r\n$1\r\ns\r\n*3\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$"
           "3\r\n2-1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n3-1\r\n*2\r\n$1\r\nc\r\n$"
           "1\r\n3\r\n"},
          {{"XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", "1-1"},
           "*1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$"
           "3\r\n3-1\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n"},
          {{"XREADGROUP", "GROUP", "g", "bob", "COUNT", "1", "STREAMS", "s", "0"},
           "*1\r\n*2\r\n$1\r\ns\r\n*0\r\n"},
          {{"XINFO", "GROUPS", "s"},
           "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:2\r\n$7\r\npending\r\n:3\r\n$"
           "17\r\nlast-delivered-id\r\n$3\r\n3-1\r\n$12\r\nentries-read\r\n:3\r\n$3\r\nlag\r\n:"
           "0\r\n"},
          {{"XPENDING", "s", "g"},
           "*4\r\n:3\r\n$3\r\n1-1\r\n$3\r\n3-1\r\n*1\r\n*2\r\n$5\r\nalice\r\n$1\r\n3\r\n"},
          {{"XPENDING", "s", "g", "-", "+", "0"}, "*0\r\n"},
          {{"XPENDING", "s", "g", "-", "+", "10", "nobody"}, "*0\r\n"},
          {{"XPENDING", "s", "nogroup"},
           "-NOGROUP No such key 's' or consumer group 'nogroup'\r\n"},
          {{"XPENDING", "nokey", "g"}, "-NOGROUP No such key 'nokey' or consumer group 'g'\r\n"},
          {{"XPENDING", "str", "g"},
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
          {{"XPENDING", "s", "g", "-", "+"}, "-ERR syntax error\r\n"},
          {{"XPENDING", "s", "g", "x", "+", "10"},
           "-ERR Invalid stream ID specified as stream command argument\r\n"},
          {{"XPENDING", "s", "g", "-", "+", "x"},
           "-ERR value is not an integer or out of range\r\n"},
          {{"XPENDING", "s", "g", "IDLE", "x", "-", "+", "10"},
           "-ERR value is not an integer or out of range\r\n"},
          {{"XPENDING", "s", "g", "IDLE", "10", "-", "+"}, "-ERR syntax error\r\n"},
          {{"XPENDING", "s", "g", "(18446744073709551615-18446744073709551615", "+", "10"},
           "-ERR invalid start ID for the interval\r\n"},
          {{"XACK", "s", "g", "1-1", "9-9"}, ":1\r\n"},
          {{"XACK", "s", "g", "bad"},
           "-ERR Invalid stream ID specified as stream command argument\r\n"},
          {{"XACK", "s", "nogroup", "1-1"}, ":0\r\n"},
          {{"XACK", "nokey", "g", "1-1"}, ":0\r\n"},
          {{"XACK", "str", "g", "1-1"},
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
          {{"XPENDING", "s", "g"},
           "*4\r\n:2\r\n$3\r\n2-1\r\n$3\r\n3-1\r\n*1\r\n*2\r\n$5\r\nalice\r\n$1\r\n2\r\n"},
          {{"XCLAIM", "s", "g", "bob", "0", "2-1", "JUSTID"}, "*1\r\n$3\r\n2-1\r\n"},
          {{"XPENDING", "s", "g"},
           "*4\r\n:2\r\n$3\r\n2-1\r\n$3\r\n3-1\r\n*2\r\n*2\r\n$5\r\nalice\r\n$1\r\n1\r\n*2\r\n$"
           "3\r\nbob\r\n$1\r\n1\r\n"},
          {{"XCLAIM", "s", "g", "bob", "0", "3-1"},
           "*1\r\n*2\r\n$3\r\n3-1\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n"},
          {{"XCLAIM", "s", "g", "bob", "0", "3-1", "FOO"},
           "-ERR Unrecognized XCLAIM option 'FOO'\r\n"},
          {{"XCLAIM", "s", "g", "bob", "abc", "3-1"},
           "-ERR Invalid min-idle-time argument for XCLAIM\r\n"},
          {{"XCLAIM", "s", "nogroup", "bob", "0", "3-1"},
           "-NOGROUP No such key 's' or consumer group 'nogroup'\r\n"},
          {{"XCLAIM", "nokey", "g", "bob", "0", "3-1"},
           "-NOGROUP No such key 'nokey' or consumer group 'g'\r\n"},
          {{"XCLAIM", "str", "g", "bob", "0", "3-1"},
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
          {{"XCLAIM", "s", "g", "bob", "0", "3-1", "IDLE", "x"},
           "-ERR Invalid IDLE option argument for XCLAIM\r\n"},
          {{"XCLAIM", "s", "g", "bob", "0", "3-1", "RETRYCOUNT", "x"},
           "-ERR Invalid RETRYCOUNT option argument for XCLAIM\r\n"},
          {{"XCLAIM", "s", "g", "bob", "0", "3-1", "TIME", "x"},
           "-ERR Invalid TIME option argument for XCLAIM\r\n"},
          {{"XCLAIM", "s", "g", "bob", "0", "3-1", "LASTID", "bad"},
           "-ERR Invalid stream ID specified as stream command argument\r\n"},
          {{"XCLAIM", "s", "g", "carol", "0", "1-1", "FORCE", "JUSTID"}, "*1\r\n$3\r\n1-1\r\n"},
          {{"XCLAIM", "s", "g", "carol", "0", "9-9", "FORCE", "JUSTID"}, "*0\r\n"},
          {{"XPENDING", "s", "g"},
           "*4\r\n:3\r\n$3\r\n1-1\r\n$3\r\n3-1\r\n*2\r\n*2\r\n$3\r\nbob\r\n$1\r\n2\r\n*2\r\n$"
           "5\r\ncarol\r\n$1\r\n1\r\n"},
          {{"XDEL", "s", "2-1"}, ":1\r\n"},
          {{"XCLAIM", "s", "g", "carol", "0", "2-1"}, "*0\r\n"},
          {{"XPENDING", "s", "g"},
           "*4\r\n:2\r\n$3\r\n1-1\r\n$3\r\n3-1\r\n*2\r\n*2\r\n$3\r\nbob\r\n$1\r\n1\r\n*2\r\n$"
           "5\r\ncarol\r\n$1\r\n1\r\n"},
          {{"XCLAIM", "s", "g", "carol", "0", "3-1", "RETRYCOUNT", "7", "JUSTID"},
           "*1\r\n$3\r\n3-1\r\n"},
          {{"XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT", "1"},
           "*3\r\n$3\r\n3-1\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*0\r\n"},
          {{"XAUTOCLAIM", "s", "g", "dave", "0", "0", "JUSTID"},
           "*3\r\n$3\r\n0-0\r\n*2\r\n$3\r\n1-1\r\n$3\r\n3-1\r\n*0\r\n"},
          {{"XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT", "0"}, "-ERR COUNT must be > 0\r\n"},
          {{"XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT", "x"}, "-ERR COUNT must be > 0\r\n"},
          {{"XAUTOCLAIM", "s", "g", "dave", "x", "0"},
           "-ERR Invalid min-idle-time argument for XAUTOCLAIM\r\n"},
          {{"XAUTOCLAIM", "s", "g", "dave", "0", "bad"},
           "-ERR Invalid stream ID specified as stream command argument\r\n"},
          {{"XAUTOCLAIM", "s", "g", "dave", "0", "0", "FOO"}, "-ERR syntax error\r\n"},
          {{"XAUTOCLAIM", "s", "nogroup", "dave", "0", "0"},
           "-NOGROUP No such key 's' or consumer group 'nogroup'\r\n"},
          {{"XAUTOCLAIM", "str", "g", "dave", "0", "0"},
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
          {{"XAUTOCLAIM", "s", "g", "dave", "0", "(18446744073709551615-18446744073709551615"},
           "-ERR invalid start ID for the interval\r\n"},
          {{"XADD", "s", "4-1", "d", "4"}, "$3\r\n4-1\r\n"},
          {{"XADD", "s", "5-1", "e", "5"}, "$3\r\n5-1\r\n"},
          {{"XREADGROUP", "GROUP", "g", "erin", "STREAMS", "s", ">"},
           "*1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n4-1\r\n*2\r\n$1\r\nd\r\n$1\r\n4\r\n*2\r\n$"
           "3\r\n5-1\r\n*2\r\n$1\r\ne\r\n$1\r\n5\r\n"},
          {{"XDEL", "s", "4-1"}, ":1\r\n"},
          {{"XAUTOCLAIM", "s", "g", "dave", "0", "0"},
           "*3\r\n$3\r\n0-0\r\n*3\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n3-"
           "1\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\n5-1\r\n*2\r\n$1\r\ne\r\n$1\r\n5\r\n*1\r\n$"
           "3\r\n4-1\r\n"},
          {{"XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT", "1"},
           "*3\r\n$3\r\n3-1\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*0\r\n"},
          {{"XPENDING", "s", "g"},
           "*4\r\n:3\r\n$3\r\n1-1\r\n$3\r\n5-1\r\n*1\r\n*2\r\n$4\r\ndave\r\n$1\r\n3\r\n"},
          {{"XREADGROUP", "GROUP", "g", "dave", "STREAMS", "s", "0"},
           "*1\r\n*2\r\n$1\r\ns\r\n*3\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$"
           "3\r\n3-1\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\n5-1\r\n*2\r\n$1\r\ne\r\n$"
           "1\r\n5\r\n"},
          {{"XINFO", "CONSUMERS", "s", "nogroup"},
           "-NOGROUP No such consumer group 'nogroup' for key name 's'\r\n"},
          {{"XINFO", "CONSUMERS", "nokey", "g"}, "-ERR no such key\r\n"},
          {{"XINFO", "STREAM", "s"},
           "*20\r\n$6\r\nlength\r\n:3\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-"
           "nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n5-1\r\n$20\r\nmax-deleted-entry-"
           "id\r\n$3\r\n4-1\r\n$13\r\nentries-added\r\n:5\r\n$23\r\nrecorded-first-entry-id\r\n$"
           "3\r\n1-1\r\n$6\r\ngroups\r\n:1\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$"
           "1\r\na\r\n$1\r\n1\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n5-1\r\n*2\r\n$1\r\ne\r\n$"
           "1\r\n5\r\n"},
          {{"XGROUP", "CREATECONSUMER", "s", "g", "frank"}, ":1\r\n"},
          {{"XGROUP", "CREATECONSUMER", "s", "g", "frank"}, ":0\r\n"},
          {{"XGROUP", "DELCONSUMER", "s", "g", "dave"}, ":3\r\n"},
          {{"XGROUP", "DELCONSUMER", "s", "g", "nobody"}, ":0\r\n"},
          {{"XPENDING", "s", "g"}, "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n"},
          {{"XGROUP", "SETID", "s", "g", "0"}, "+OK\r\n"},
          {{"XINFO", "GROUPS", "s"},
           "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:5\r\n$7\r\npending\r\n:0\r\n$"
           "17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n$-"
           "1\r\n"},
          {{"XGROUP", "SETID", "s", "g", "$", "ENTRIESREAD", "3"}, "+OK\r\n"},
          {{"XINFO", "GROUPS", "s"},
           "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:5\r\n$7\r\npending\r\n:0\r\n$"
           "17\r\nlast-delivered-id\r\n$3\r\n5-1\r\n$12\r\nentries-read\r\n:3\r\n$3\r\nlag\r\n:"
           "2\r\n"},
          {{"XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "-1"}, "+OK\r\n"},
          {{"XGROUP", "SETID", "s", "g", "-", "ENTRIESREAD", "1"}, "+OK\r\n"},
          {{"XGROUP", "SETID", "s", "g", "+", "ENTRIESREAD", "1"}, "+OK\r\n"},
          {{"XINFO", "GROUPS", "s"},
           "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:5\r\n$7\r\npending\r\n:0\r\n$"
           "17\r\nlast-delivered-id\r\n$41\r\n18446744073709551615-18446744073709551615\r\n$"
           "12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n:4\r\n"},
          {{"XGROUP", "SETID", "s", "g", "0", "MKSTREAM"},
           "-ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP "
           "HELP.\r\n"},
          {{"XGROUP", "SETID", "s", "g", "bad"},
           "-ERR Invalid stream ID specified as stream command argument\r\n"},
          {{"XGROUP", "DESTROY", "s", "g"}, ":1\r\n"},
          {{"XGROUP", "DESTROY", "s", "g"}, ":0\r\n"},
          {{"XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">"},
           "-NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option\r\n"},
          {{"XREADGROUP", "GROUP", "g", "a", "STREAMS", "nokey", ">"},
           "-NOGROUP No such key 'nokey' or consumer group 'g' in XREADGROUP with GROUP "
           "option\r\n"},
          {{"XREADGROUP", "STREAMS", "s", ">"},
           "-ERR wrong number of arguments for 'xreadgroup' command\r\n"},
          {{"XREADGROUP", "GROUP", "g", "a", "STREAMS", "s"},
           "-ERR wrong number of arguments for 'xreadgroup' command\r\n"},
          {{"XGROUP", "CREATE", "s", "g", "0"}, "+OK\r\n"},
          {{"XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", "$"},
           "-ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the "
           "history of this consumer by specifying a proper ID, or use the > ID to get new "
           "messages. The $ ID would just return an empty result set.\r\n"},
          {{"XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", "bad"},
           "-ERR Invalid stream ID specified as stream command argument\r\n"},
          {{"XREADGROUP", "GROUP", "g", "a", "STREAMS", "str", ">"},
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
          {{"XREADGROUP", "GROUP", "g", "a", "NOACK", "STREAMS", "s", ">"},
           "*1\r\n*2\r\n$1\r\ns\r\n*3\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$"
           "3\r\n3-1\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\n5-1\r\n*2\r\n$1\r\ne\r\n$"
           "1\r\n5\r\n"},
          {{"XPENDING", "s", "g"}, "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n"},
          {{"XINFO", "GROUPS", "s"},
           "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:0\r\n$"
           "17\r\nlast-delivered-id\r\n$3\r\n5-1\r\n$12\r\nentries-read\r\n:5\r\n$3\r\nlag\r\n:"
           "0\r\n"},
          {{"XREADGROUP", "GROUP", "g", "a", "COUNT", "1", "STREAMS", "s", "0"},
           "*1\r\n*2\r\n$1\r\ns\r\n*0\r\n"},
          {{"XREADGROUP", "GROUP", "g", "b", "STREAMS", "s", "0", "s", ">"},
           "-ERR Invalid stream ID specified as stream command argument\r\n"},
          {{"XGROUP", "CREATE", "s2", "g", "0", "MKSTREAM"}, "+OK\r\n"},
          {{"XADD", "s2", "1-1", "x", "1"}, "$3\r\n1-1\r\n"},
          {{"XREADGROUP", "GROUP", "g", "a", "COUNT", "1", "STREAMS", "s", "s2", ">", ">"},
           "*1\r\n*2\r\n$2\r\ns2\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nx\r\n$1\r\n1\r\n"},
          {{"XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", "s2", ">", ">"}, "*-1\r\n"},
          {{"XGROUP", "CREATE", "s3", "g", "$", "MKSTREAM", "ENTRIESREAD", "5"}, "+OK\r\n"},
          {{"XINFO", "GROUPS", "s3"},
           "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$"
           "17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n:5\r\n$3\r\nlag\r\n:"
           "0\r\n"},
          {{"XADD", "lag", "1-1", "a", "1"}, "$3\r\n1-1\r\n"},
          {{"XADD", "lag", "2-1", "a", "1"}, "$3\r\n2-1\r\n"},
          {{"XADD", "lag", "3-1", "a", "1"}, "$3\r\n3-1\r\n"},
          {{"XADD", "lag", "4-1", "a", "1"}, "$3\r\n4-1\r\n"},
          {{"XGROUP", "CREATE", "lag", "g", "0"}, "+OK\r\n"},
          {{"XINFO", "GROUPS", "lag"},
           "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$"
           "17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:"
           "4\r\n"},
          {{"XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "lag", ">"},
           "*1\r\n*2\r\n$3\r\nlag\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"},
          {{"XINFO", "GROUPS", "lag"},
           "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:1\r\n$"
           "17\r\nlast-delivered-id\r\n$3\r\n1-1\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n:"
           "3\r\n"},
          {{"XDEL", "lag", "3-1"}, ":1\r\n"},
          {{"XINFO", "GROUPS", "lag"},
           "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:1\r\n$"
           "17\r\nlast-delivered-id\r\n$3\r\n1-1\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n$-"
           "1\r\n"},
          {{"XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "lag", ">"},
           "*1\r\n*2\r\n$3\r\nlag\r\n*1\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"},
          {{"XINFO", "GROUPS", "lag"},
           "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:2\r\n$"
           "17\r\nlast-delivered-id\r\n$3\r\n2-1\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n$-"
           "1\r\n"},
          {{"XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "lag", ">"},
           "*1\r\n*2\r\n$3\r\nlag\r\n*1\r\n*2\r\n$3\r\n4-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"},
          {{"XINFO", "GROUPS", "lag"},
           "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:3\r\n$"
           "17\r\nlast-delivered-id\r\n$3\r\n4-1\r\n$12\r\nentries-read\r\n:4\r\n$3\r\nlag\r\n:"
           "0\r\n"},
          {{"XTRIM", "lag", "MAXLEN", "0"}, ":3\r\n"},
          {{"XINFO", "GROUPS", "lag"},
           "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:3\r\n$"
           "17\r\nlast-delivered-id\r\n$3\r\n4-1\r\n$12\r\nentries-read\r\n:4\r\n$3\r\nlag\r\n:"
           "0\r\n"},
          {{"XADD", "lag", "9-1", "a", "1"}, "$3\r\n9-1\r\n"},
          {{"XINFO", "GROUPS", "lag"},
           "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:3\r\n$"
           "17\r\nlast-delivered-id\r\n$3\r\n4-1\r\n$12\r\nentries-read\r\n:4\r\n$3\r\nlag\r\n:"
           "1\r\n"},
          {{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "lag", ">"},
           "*1\r\n*2\r\n$3\r\nlag\r\n*1\r\n*2\r\n$3\r\n9-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"},
          {{"XINFO", "GROUPS", "lag"},
           "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:4\r\n$"
           "17\r\nlast-delivered-id\r\n$3\r\n9-1\r\n$12\r\nentries-read\r\n:5\r\n$3\r\nlag\r\n:"
           "0\r\n"},
          {{"XINFO", "STREAM", "lag"},
           "*20\r\n$6\r\nlength\r\n:1\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-"
           "nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n9-1\r\n$20\r\nmax-deleted-entry-"
           "id\r\n$3\r\n3-1\r\n$13\r\nentries-added\r\n:5\r\n$23\r\nrecorded-first-entry-id\r\n$"
           "3\r\n9-1\r\n$6\r\ngroups\r\n:1\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n9-1\r\n*2\r\n$"
           "1\r\na\r\n$1\r\n1\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n9-1\r\n*2\r\n$1\r\na\r\n$"
           "1\r\n1\r\n"},
          {{"DEL", "s"}, ":1\r\n"},
          {{"XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">"},
           "-NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option\r\n"},
      });
}

TEST_CASE(
    "Delivery times are the entries' times; XPENDING and XINFO measure idle from the reader's",
    "[kv_stream_groups]") {
  kv_state state;
  const std::uint64_t t0 = now_ms;
  state.apply({"XADD", "s", "1-1", "a", "1"}, t0);
  state.apply({"XADD", "s", "2-1", "b", "2"}, t0);
  state.apply({"XGROUP", "CREATE", "s", "g", "0"}, t0);
  state.apply({"XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"}, t0 + 100);
  CHECK(state.read({"XPENDING", "s", "g", "-", "+", "10"}, t0 + 600) ==
        "*2\r\n*4\r\n$3\r\n1-1\r\n$5\r\nalice\r\n:500\r\n:1\r\n"
        "*4\r\n$3\r\n2-1\r\n$5\r\nalice\r\n:500\r\n:1\r\n");
  CHECK(state.read({"XPENDING", "s", "g", "IDLE", "501", "-", "+", "10"}, t0 + 600) == "*0\r\n");
  CHECK(state.read({"XPENDING", "s", "g", "IDLE", "500", "-", "+", "1", "alice"}, t0 + 600) ==
        "*1\r\n*4\r\n$3\r\n1-1\r\n$5\r\nalice\r\n:500\r\n:1\r\n");
  // A reader whose clock is behind the delivery sees idle 0, never a negative idle.
  CHECK(state.read({"XPENDING", "s", "g", "-", "+", "1"}, t0) ==
        "*1\r\n*4\r\n$3\r\n1-1\r\n$5\r\nalice\r\n:0\r\n:1\r\n");
  // XCLAIM's min-idle-time against the entry's time: too fresh, then claimed (counted again).
  CHECK(state.apply({"XCLAIM", "s", "g", "bob", "250", "1-1", "JUSTID"}, t0 + 300) == "*0\r\n");
  CHECK(state.apply({"XCLAIM", "s", "g", "bob", "250", "1-1"}, t0 + 400) ==
        "*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n");
  // IDLE sets the delivery time to the entry's time minus it; JUSTID leaves the count.
  CHECK(state.apply({"XCLAIM", "s", "g", "bob", "0", "2-1", "IDLE", "50", "JUSTID"}, t0 + 1000) ==
        "*1\r\n$3\r\n2-1\r\n");
  CHECK(state.read({"XPENDING", "s", "g", "-", "+", "10"}, t0 + 1000) ==
        "*2\r\n*4\r\n$3\r\n1-1\r\n$3\r\nbob\r\n:600\r\n:2\r\n"
        "*4\r\n$3\r\n2-1\r\n$3\r\nbob\r\n:50\r\n:1\r\n");
  // XAUTOCLAIM takes only what has been idle long enough.
  CHECK(state.apply({"XAUTOCLAIM", "s", "g", "carol", "100", "0", "JUSTID"}, t0 + 1000) ==
        "*3\r\n$3\r\n0-0\r\n*1\r\n$3\r\n1-1\r\n*0\r\n");
  // TIME sets it outright; one in the future is the entry's time.
  state.apply({"XCLAIM", "s", "g", "carol", "0", "2-1", "TIME", std::to_string(t0 + 10)},
              t0 + 1000);
  CHECK(state.read({"XPENDING", "s", "g", "-", "+", "10"}, t0 + 1000) ==
        "*2\r\n*4\r\n$3\r\n1-1\r\n$5\r\ncarol\r\n:0\r\n:2\r\n"
        "*4\r\n$3\r\n2-1\r\n$5\r\ncarol\r\n:990\r\n:2\r\n");
  state.apply({"XCLAIM", "s", "g", "carol", "0", "2-1", "TIME", std::to_string(t0 + 5000)},
              t0 + 1000);
  CHECK(state.read({"XPENDING", "s", "g", "2-1", "2-1", "1", "carol"}, t0 + 1000) ==
        "*1\r\n*4\r\n$3\r\n2-1\r\n$5\r\ncarol\r\n:0\r\n:3\r\n");
  // A consumer's idle time is since it last read or claimed.
  CHECK(state.read({"XINFO", "CONSUMERS", "s", "g"}, t0 + 1500) ==
        "*3\r\n*6\r\n$4\r\nname\r\n$5\r\nalice\r\n$7\r\npending\r\n:0\r\n$4\r\nidle\r\n:1400\r\n"
        "*6\r\n$4\r\nname\r\n$3\r\nbob\r\n$7\r\npending\r\n:0\r\n$4\r\nidle\r\n:500\r\n"
        "*6\r\n$4\r\nname\r\n$5\r\ncarol\r\n$7\r\npending\r\n:2\r\n$4\r\nidle\r\n:500\r\n");
  // XINFO STREAM FULL shows the times themselves.
  const std::string t1000 = std::to_string(t0 + 1000);
  const std::string t100 = std::to_string(t0 + 100);
  CHECK(state.read({"XINFO", "STREAM", "s", "FULL", "COUNT", "1"}, t0 + 1500) ==
        "*18\r\n$6\r\nlength\r\n:2\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n"
        ":2\r\n$17\r\nlast-generated-id\r\n$3\r\n2-1\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n"
        "0-0\r\n$13\r\nentries-added\r\n:2\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-1\r\n"
        "$7\r\nentries\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n$6\r\ngroups\r\n"
        "*1\r\n*14\r\n$4\r\nname\r\n$1\r\ng\r\n$17\r\nlast-delivered-id\r\n$3\r\n2-1\r\n"
        "$12\r\nentries-read\r\n:2\r\n$3\r\nlag\r\n:0\r\n$9\r\npel-count\r\n:2\r\n"
        "$7\r\npending\r\n*1\r\n*4\r\n$3\r\n1-1\r\n$5\r\ncarol\r\n:" +
            t1000 +
            "\r\n:2\r\n$9\r\nconsumers\r\n*3\r\n"
            "*8\r\n$4\r\nname\r\n$5\r\nalice\r\n$9\r\nseen-time\r\n:" +
            t100 +
            "\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n"
            "*8\r\n$4\r\nname\r\n$3\r\nbob\r\n$9\r\nseen-time\r\n:" +
            t1000 +
            "\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n"
            "*8\r\n$4\r\nname\r\n$5\r\ncarol\r\n$9\r\nseen-time\r\n:" +
            t1000 + "\r\n$9\r\npel-count\r\n:2\r\n$7\r\npending\r\n*1\r\n*3\r\n$3\r\n1-1\r\n:" +
            t1000 + "\r\n:2\r\n");
}

TEST_CASE("RESP3: XREADGROUP is a map, XINFO's groups and consumers are maps, as Redis 7 answers",
          "[kv_stream_groups]") {
  kv_state state;
  state.apply({"XADD", "s", "1-1", "a", "1"}, now_ms);
  state.apply({"XGROUP", "CREATE", "s", "g", "0"}, now_ms);
  const argv_type read{"XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"};
  // Each expected reply is redis-server 7.0.15's after HELLO 3 (its times replaced by prez's).
  CHECK(to_resp3(state.apply(read, now_ms), resp3_shape_of(read)) ==
        "%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n");
  const argv_type groups{"XINFO", "GROUPS", "s"};
  CHECK(
      to_resp3(state.read(groups, now_ms), resp3_shape_of(groups)) ==
      "*1\r\n%6\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:1\r\n"
      "$17\r\nlast-delivered-id\r\n$3\r\n1-1\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n:0\r\n");
  const argv_type consumers{"XINFO", "CONSUMERS", "s", "g"};
  CHECK(to_resp3(state.read(consumers, now_ms + 2), resp3_shape_of(consumers)) ==
        "*1\r\n%3\r\n$4\r\nname\r\n$5\r\nalice\r\n$7\r\npending\r\n:1\r\n$4\r\nidle\r\n:2\r\n");
  const argv_type full{"XINFO", "STREAM", "s", "FULL"};
  const std::string t = std::to_string(now_ms);
  CHECK(to_resp3(state.read(full, now_ms), resp3_shape_of(full)) ==
        "%9\r\n$6\r\nlength\r\n:1\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n"
        ":2\r\n$17\r\nlast-generated-id\r\n$3\r\n1-1\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n"
        "0-0\r\n$13\r\nentries-added\r\n:1\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-1\r\n"
        "$7\r\nentries\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n$6\r\ngroups\r\n"
        "*1\r\n%7\r\n$4\r\nname\r\n$1\r\ng\r\n$17\r\nlast-delivered-id\r\n$3\r\n1-1\r\n"
        "$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n:0\r\n$9\r\npel-count\r\n:1\r\n$7\r\npending"
        "\r\n*1\r\n*4\r\n$3\r\n1-1\r\n$5\r\nalice\r\n:" +
            t +
            "\r\n:1\r\n$9\r\nconsumers\r\n*1\r\n%4\r\n$4\r\nname\r\n$5\r\nalice\r\n$9\r\n"
            "seen-time\r\n:" +
            t + "\r\n$9\r\npel-count\r\n:1\r\n$7\r\npending\r\n*1\r\n*3\r\n$3\r\n1-1\r\n:" + t +
            "\r\n:1\r\n");
}

TEST_CASE(
    "XREADGROUP BLOCK waits in the log: one reader of a group per entry, NOGROUP when it goes",
    "[kv_stream_groups]") {
  kv_state state;
  state.apply({"XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"}, now_ms);
  CHECK_FALSE(state.apply_client(
      1, 1, {"XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">"}, now_ms));
  CHECK_FALSE(state.apply_client(
      2, 1, {"XREADGROUP", "GROUP", "g", "bob", "BLOCK", "0", "STREAMS", "s", ">"}, now_ms));
  CHECK_FALSE(state.apply_client(3, 1, {"XREAD", "BLOCK", "0", "STREAMS", "s", "$"}, now_ms));
  CHECK(state.blocked_count() == 3);
  const std::string entry = "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n"
                            "$1\r\n1\r\n";
  state.apply({"XADD", "s", "1-1", "a", "1"}, now_ms + 5);
  auto served = state.take_served();
  REQUIRE(served.size() == 2); // alice (the group's first waiter) and the plain reader
  CHECK(served[0].client_id == 1);
  CHECK(served[0].reply == entry);
  CHECK(served[1].client_id == 3);
  CHECK(served[1].reply == entry);
  CHECK(state.blocked_count() == 1); // bob: the group has read everything there is
  CHECK(state.read({"XPENDING", "s", "g", "-", "+", "10"}, now_ms + 5) ==
        "*1\r\n*4\r\n$3\r\n1-1\r\n$5\r\nalice\r\n:0\r\n:1\r\n");
  state.apply({"XADD", "s", "2-1", "b", "2"}, now_ms + 6);
  served = state.take_served();
  REQUIRE(served.size() == 1);
  CHECK(served[0].client_id == 2);
  CHECK(served[0].reply.find("2-1") != std::string::npos);
  // A reader blocked on a group that is destroyed is answered NOGROUP.
  CHECK_FALSE(state.apply_client(
      4, 1, {"XREADGROUP", "GROUP", "g", "carol", "NOACK", "BLOCK", "0", "STREAMS", "s", ">"},
      now_ms));
  CHECK(state.apply({"XGROUP", "DESTROY", "s", "g"}, now_ms) == ":1\r\n");
  served = state.take_served();
  REQUIRE(served.size() == 1);
  CHECK(served[0].client_id == 4);
  CHECK(served[0].reply ==
        "-NOGROUP the consumer group this client was blocked on no longer exists\r\n");
  // Readers blocked on a stream that is deleted or overwritten are answered, as Redis 7.0.15
  // answers them; a plain XREAD stays blocked.
  state.apply({"XGROUP", "CREATE", "s", "g", "$"}, now_ms);
  state.apply({"XGROUP", "CREATE", "t", "g", "$", "MKSTREAM"}, now_ms);
  state.apply({"XGROUP", "CREATE", "u", "g", "$", "MKSTREAM"}, now_ms);
  for (const std::string key : {"s", "t", "u"})
    CHECK_FALSE(state.apply_client(
        key == "s"   ? 10
        : key == "t" ? 11
                     : 12,
        1, {"XREADGROUP", "GROUP", "g", "a", "BLOCK", "0", "STREAMS", key, ">"}, now_ms));
  CHECK_FALSE(state.apply_client(13, 1, {"XREAD", "BLOCK", "0", "STREAMS", "s", "$"}, now_ms));
  state.apply({"DEL", "s"}, now_ms);
  state.apply({"SET", "t", "x"}, now_ms);
  state.apply_transaction({{"DEL", "u"}, {"SADD", "u", "e1"}}, now_ms, {});
  served = state.take_served();
  REQUIRE(served.size() == 3);
  for (const auto& s : served)
    CHECK(s.reply == "-UNBLOCKED the stream key no longer exists\r\n");
  CHECK(state.blocked_count() == 1); // the XREAD
  state.apply({"DEL", "t", "u"}, now_ms);
  // FLUSHALL names no key, and deletes them all.
  state.apply({"XGROUP", "CREATE", "f", "g", "$", "MKSTREAM"}, now_ms);
  CHECK_FALSE(state.apply_client(
      14, 1, {"XREADGROUP", "GROUP", "g", "a", "BLOCK", "0", "STREAMS", "f", ">"}, now_ms));
  state.apply({"FLUSHALL"}, now_ms);
  served = state.take_served();
  REQUIRE(served.size() == 1);
  CHECK(served[0].client_id == 14);
  CHECK(served[0].reply == "-UNBLOCKED the stream key no longer exists\r\n");
  // Where a client cannot block (MULTI), it answers at once; a timeout answers a null array.
  CHECK(state.apply({"XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"}, now_ms) == "+OK\r\n");
  CHECK(state.apply_transaction(
            {{"XREADGROUP", "GROUP", "g", "a", "BLOCK", "0", "STREAMS", "s", ">"}}, now_ms, {}) ==
        "*1\r\n*-1\r\n");
  CHECK_FALSE(state.apply_client(
      5, 1, {"XREADGROUP", "GROUP", "g", "a", "BLOCK", "10", "STREAMS", "s", ">"}, now_ms));
  state.apply({"SET", "tick", "1"}, now_ms + 60'000);
  served = state.take_served();
  REQUIRE(served.size() == 1);
  CHECK(served[0].reply == "*-1\r\n");
  // Errors answer at once, never block.
  CHECK(state.apply_client(
            6, 1, {"XREADGROUP", "GROUP", "nogroup", "a", "BLOCK", "0", "STREAMS", "s", ">"},
            now_ms) ==
        "-NOGROUP No such key 's' or consumer group 'nogroup' in XREADGROUP with GROUP option\r\n");
  std::string error;
  CHECK(classify({"XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">"}, error) ==
        command_kind::write);
  CHECK(blocking_timeout_ms(
            {"XREADGROUP", "GROUP", "g", "a", "BLOCK", "1500", "STREAMS", "s", ">"}) == 1500);
  CHECK(blocking_timeout_ms({"XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">"}) ==
        std::nullopt);
  CHECK(state.bytes() == state.keys().recount_bytes());
}

TEST_CASE("A snapshot carries a blocked XREADGROUP", "[kv_stream_groups]") {
  kv_state state;
  state.apply({"XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"}, now_ms);
  CHECK_FALSE(state.apply_client(
      1, 1, {"XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">"}, now_ms));
  auto result = round_trip(state, 1 << 20);
  REQUIRE(std::holds_alternative<restored_state>(result));
  kv_state& copy = std::get<restored_state>(result).kv;
  CHECK(copy.blocked_count() == 1);
  copy.apply({"XADD", "s", "1-1", "a", "1"}, now_ms);
  state.apply({"XADD", "s", "1-1", "a", "1"}, now_ms);
  const auto a = copy.take_served();
  REQUIRE(a.size() == 1);
  CHECK(a == state.take_served());
  CHECK(copy.read({"XINFO", "STREAM", "s", "FULL"}, now_ms) ==
        state.read({"XINFO", "STREAM", "s", "FULL"}, now_ms));
}

TEST_CASE("A snapshot carries consumer groups whole, over many records and calls",
          "[kv_stream_groups]") {
  kv_state state;
  for (int i = 1; i <= 600; ++i)
    state.apply({"XADD", "s", std::to_string(i) + "-1", "f", std::string(30, 'x')}, now_ms);
  for (const std::string group : {"a", "b", "c"}) {
    state.apply({"XGROUP", "CREATE", "s", group, "0"}, now_ms);
    for (int reader = 0; reader < 20; ++reader)
      state.apply({"XREADGROUP", "GROUP", group, "consumer-" + std::to_string(reader), "COUNT",
                   "13", "STREAMS", "s", ">"},
                  now_ms + static_cast<std::uint64_t>(reader));
  }
  state.apply({"XGROUP", "CREATECONSUMER", "s", "b", "idle-one"}, now_ms);
  state.apply({"XACK", "s", "a", "1-1", "2-1", "3-1"}, now_ms);
  state.apply({"XDEL", "s", "5-1"}, now_ms);
  state.apply({"XGROUP", "CREATE", "empty", "g", "$", "MKSTREAM"}, now_ms);
  for (const std::size_t budget : {std::size_t{512}, std::size_t{1} << 20}) {
    auto result = round_trip(state, budget);
    if (auto* error = std::get_if<std::string>(&result)) FAIL(*error);
    kv_state& copy = std::get<restored_state>(result).kv;
    CHECK(copy.bytes() == state.bytes());
    CHECK(copy.bytes() == copy.keys().recount_bytes());
    for (const argv_type& read : std::vector<argv_type>{
             {"XINFO", "STREAM", "s", "FULL", "COUNT", "0"},
             {"XINFO", "GROUPS", "s"},
             {"XINFO", "STREAM", "empty", "FULL"},
             {"XPENDING", "s", "c", "-", "+", "1000"},
         })
      CHECK(copy.read(read, now_ms + 50) == state.read(read, now_ms + 50));
    for (const argv_type& write : std::vector<argv_type>{
             {"XREADGROUP", "GROUP", "a", "late", "STREAMS", "s", ">"},
             {"XAUTOCLAIM", "s", "b", "taker", "0", "0", "COUNT", "50"},
             {"XACK", "s", "c", "100-1", "101-1"},
         })
      CHECK(copy.apply(write, now_ms + 60) == state.apply(write, now_ms + 60));
  }
}

TEST_CASE("A damaged consumer group in a snapshot or DUMP payload is refused",
          "[kv_stream_groups]") {
  kv_state state;
  state.apply({"XADD", "s", "5-1", "field-a", "value-a"}, now_ms);
  state.apply({"XGROUP", "CREATE", "s", "grp", "0"}, now_ms);
  state.apply({"XREADGROUP", "GROUP", "grp", "reader", "STREAMS", "s", ">"}, now_ms);
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
  // The head announces two groups; one comes.
  CHECK(refused("5-1 0-0 1 1 1 1", "5-1 0-0 1 1 1 2") ==
        "damaged snapshot: stream consumer group items missing");
  // The head announces no entry: the entry item comes where a group item should.
  CHECK(refused("5-1 0-0 1 1 1 1", "5-1 0-0 1 1 0 1") ==
        "damaged snapshot: stream item damaged, out of order or past the stream's last ID");
  // A consumer item where the pending entry should be (its kind byte changed).
  CHECK(refused(std::string("P\0\0\0\0\0\0\0\x05", 9), std::string("C\0\0\0\0\0\0\0\x05", 9)) ==
        "damaged snapshot: stream item damaged, out of order or past the stream's last ID");
  // A pending entry owned by a consumer the group does not have.
  CHECK(refused("reader", "readeR").find("damaged snapshot: stream item damaged") == 0);
  // DUMP and RESTORE carry the groups; a damaged payload is refused.
  const std::string payload = bulk_body(state.read({"DUMP", "s"}, now_ms));
  CHECK(state.apply({"RESTORE", "s2", "0", payload}, now_ms) == "+OK\r\n");
  CHECK(state.read({"XINFO", "STREAM", "s2", "FULL"}, now_ms) ==
        state.read({"XINFO", "STREAM", "s", "FULL"}, now_ms));
  std::string damaged = payload;
  damaged[damaged.size() / 2] ^= 1;
  CHECK(state.apply({"RESTORE", "s3", "0", damaged}, now_ms) ==
        "-ERR DUMP payload version or checksum are wrong\r\n");
  CHECK(state.bytes() == state.keys().recount_bytes());
}
