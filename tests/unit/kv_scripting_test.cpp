// Lua scripting in the replicated state (kv_scripting.cpp, lua_script.cpp): EVAL's conversions
// both ways as Redis 7.0 makes them, redis.call and redis.pcall, the script cache behind EVALSHA
// and SCRIPT, read-only scripts, protected globals, and what keeps replicas identical: the same
// math.random at every run, TIME from the entry, instruction and memory limits that stop a
// script at the same point everywhere, and snapshots that carry the cache.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "actors/gateway/resp3.hpp"
#include "actors/state_machine/client_sessions.hpp"
#include "actors/state_machine/lua_script.hpp"
#include "actors/state_machine/state_restore.hpp"
#include "config/limits.hpp"
#include "tests/unit/kv_script.hpp"

using namespace prez;
using kv_script::run_script;
using kv_script::step;

namespace {

/// What `EVAL body 0` answers on a fresh state.
std::string eval0(const std::string& body) {
  kv_state kv;
  return kv.apply({"EVAL", body, "0"}, kv_script::now_ms);
}

std::string sha(const std::string& body) {
  return kv::sha1_hex(body);
}

} // namespace

TEST_CASE("EVAL converts Lua values to replies as Redis 7.0", "[scripting]") {
  CHECK(eval0("return 1") == ":1\r\n");
  CHECK(eval0("return 3.99") == ":3\r\n");
  CHECK(eval0("return -2.5") == ":-2\r\n");
  CHECK(eval0("return 'x'") == "$1\r\nx\r\n");
  CHECK(eval0("return true") == ":1\r\n");
  CHECK(eval0("return false") == "$-1\r\n");
  CHECK(eval0("return nil") == "$-1\r\n");
  CHECK(eval0("return {1, 'a', {2, false}}") == "*3\r\n:1\r\n$1\r\na\r\n*2\r\n:2\r\n$-1\r\n");
  CHECK(eval0("return {1, 2, nil, 4}") == "*2\r\n:1\r\n:2\r\n");
  CHECK(eval0("return {ok='fine'}") == "+fine\r\n");
  CHECK(eval0("return redis.status_reply('A\\r\\nB')") == "+A  B\r\n");
  CHECK(eval0("return {err='My Error'}") == "-My Error\r\n");
  CHECK(eval0("return redis.error_reply('My Error')") == "-My Error\r\n");
  CHECK(eval0("return redis.error_reply('-WRONG thing')") == "-WRONG thing\r\n");
  CHECK(eval0("return redis.sha1hex('')") == "$40\r\nda39a3ee5e6b4b0d3255bfef95601890afd80709\r\n");
}

TEST_CASE("EVAL passes KEYS and ARGV and checks numkeys", "[scripting]") {
  kv_state kv;
  run_script(kv,
             {
                 {{"EVAL", "return {KEYS[1], KEYS[2], ARGV[1], #ARGV}", "2", "a", "b", "c"},
                  "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n:1\r\n"},
                 {{"EVAL", "return 1", "3", "a", "b"},
                  "-ERR Number of keys can't be greater than number of args\r\n"},
                 {{"EVAL", "return 1", "-1"}, "-ERR Number of keys can't be negative\r\n"},
                 {{"EVAL", "return 1", "x"}, "-ERR value is not an integer or out of range\r\n"},
                 {{"EVAL", "return 1"}, "-ERR wrong number of arguments for 'eval' command\r\n"},
             });
}

TEST_CASE("redis.call runs commands on the key space and converts their replies", "[scripting]") {
  kv_state kv;
  const std::string body = "redis.call('SET', KEYS[1], ARGV[1]); redis.call('RPUSH', 'l', 1, 2.5);"
                           " return {redis.call('GET', KEYS[1]), redis.call('LRANGE', 'l', 0, -1),"
                           " redis.call('INCR', 'n'), redis.call('GET', 'missing'),"
                           " redis.call('PING')}";
  run_script(kv,
             {
                 {{"EVAL", body, "1", "k", "v"},
                  "*5\r\n$1\r\nv\r\n*2\r\n$1\r\n1\r\n$3\r\n2.5\r\n:1\r\n$-1\r\n+PONG\r\n"},
                 {{"GET", "k"}, "$1\r\nv\r\n"},
                 {{"EVAL", "return redis.call('PING')['ok']", "0"}, "$4\r\nPONG\r\n"},
                 // TIME is the entry's time, the same on every replica.
                 {{"EVAL", "return redis.call('TIME')", "0"}, "*2\r\n$4\r\n1000\r\n$1\r\n0\r\n"},
             });
}

TEST_CASE("redis.call raises command errors and redis.pcall returns them", "[scripting]") {
  kv_state kv;
  const std::string raising = "redis.call('SET', 'n', 'x'); return redis.call('INCR', 'n')";
  const std::string trapping = "local r = redis.pcall('INCR', 'n'); return r['err']";
  run_script(
      kv, {
              {{"EVAL", raising, "0"},
               "-ERR value is not an integer or out of range script: " + sha(raising) +
                   ", on @user_script:1.\r\n"},
              {{"EVAL", trapping, "0"}, "$43\r\nERR value is not an integer or out of range\r\n"},
              {{"EVAL", "return redis.call('LPUSH', 'n', 1)", "0"},
               "-WRONGTYPE Operation against a key holding the wrong kind of value script: "
               "" + sha("return redis.call('LPUSH', 'n', 1)") +
                   ", on @user_script:1.\r\n"},
              {{"EVAL", "return redis.pcall('nosuch')", "0"},
               "-ERR Unknown Redis command called from script\r\n"},
              {{"EVAL", "return redis.pcall('get')", "0"},
               "-ERR Wrong number of args calling Redis command from script\r\n"},
              {{"EVAL", "return redis.pcall('client', 'list')", "0"},
               "-ERR This Redis command is not allowed from script\r\n"},
              {{"EVAL", "return redis.pcall('eval', 'return 1', '0')", "0"},
               "-ERR This Redis command is not allowed from script\r\n"},
              {{"EVAL", "return redis.pcall('get', {})", "0"},
               "-ERR Lua redis lib command arguments must be strings or integers\r\n"},
              {{"EVAL", "return redis.pcall()", "0"},
               "-ERR Please specify at least one argument for this redis lib call\r\n"},
          });
  // The SET before the failing INCR stays, as in Redis: a script is not rolled back.
  CHECK(kv.read({"GET", "n"}, kv_script::now_ms) == "$1\r\nx\r\n");
}

TEST_CASE("script errors and compile errors are worded as Redis words them", "[scripting]") {
  const std::string missing = "return foo";
  CHECK(eval0(missing) ==
        "-ERR user_script:1: Script attempted to access nonexistent global variable 'foo' "
        "script: " +
            sha(missing) + ", on @user_script:1.\r\n");
  const std::string global = "a = 5";
  CHECK(eval0(global) == "-ERR user_script:1: Attempt to modify a readonly table script: " +
                             sha(global) + ", on @user_script:1.\r\n");
  const std::string raised = "\nerror('boom')";
  CHECK(eval0(raised) ==
        "-ERR user_script:2: boom script: " + sha(raised) + ", on @user_script:2.\r\n");
  CHECK(eval0("return (") ==
        "-ERR Error compiling script (new function): user_script:1: unexpected symbol near "
        "'<eof>'\r\n");
  // No file access, no os or io library.
  CHECK(eval0("return os").find("nonexistent global variable 'os'") != std::string::npos);
  CHECK(eval0("return print").find("nonexistent global variable 'print'") != std::string::npos);
  CHECK(eval0("return dofile").find("nonexistent global variable 'dofile'") != std::string::npos);
}

TEST_CASE("EVALSHA and SCRIPT use the replicated script cache", "[scripting]") {
  kv_state kv;
  const std::string body = "return ARGV[1]";
  const std::string name = sha(body);
  std::string upper = name;
  for (auto& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  run_script(
      kv,
      {
          {{"EVALSHA", name, "0", "x"}, "-NOSCRIPT No matching script. Please use EVAL.\r\n"},
          {{"SCRIPT", "EXISTS", name, "nope"}, "*2\r\n:0\r\n:0\r\n"},
          {{"EVAL", body, "0", "x"}, "$1\r\nx\r\n"},
          {{"EVALSHA", name, "0", "y"}, "$1\r\ny\r\n"},
          {{"EVALSHA", upper, "0", "z"}, "$1\r\nz\r\n"},
          {{"EVALSHA_RO", name, "0", "r"}, "$1\r\nr\r\n"},
          {{"SCRIPT", "EXISTS", name, "nope"}, "*2\r\n:1\r\n:0\r\n"},
          {{"SCRIPT", "FLUSH"}, "+OK\r\n"},
          {{"EVALSHA", name, "0", "y"}, "-NOSCRIPT No matching script. Please use EVAL.\r\n"},
          {{"SCRIPT", "LOAD", body}, "$40\r\n" + name + "\r\n"},
          {{"EVALSHA", name, "0", "w"}, "$1\r\nw\r\n"},
          {{"SCRIPT", "LOAD", "return ("},
           "-ERR Error compiling script (new function): user_script:1: unexpected "
           "symbol near '<eof>'\r\n"},
          {{"SCRIPT", "FLUSH", "maybe"}, "-ERR SCRIPT FLUSH only support SYNC|ASYNC option\r\n"},
          {{"SCRIPT", "KILL"}, "-NOTBUSY No scripts in execution right now.\r\n"},
          {{"SCRIPT", "NOPE"}, "-ERR unknown subcommand 'NOPE'. Try SCRIPT HELP.\r\n"},
          {{"SCRIPT", "LOAD"}, "-ERR wrong number of arguments for 'script|load' command\r\n"},
          {{"SCRIPT", "FLUSH", "a", "b"}, "-ERR SCRIPT FLUSH only support SYNC|ASYNC option\r\n"},
          {{"FUNCTION", "BOGUS"}, "-ERR unknown subcommand 'BOGUS'. Try FUNCTION HELP.\r\n"},
          {{"FUNCTION", "DELETE", "a", "b"},
           "-ERR wrong number of arguments for 'function|delete' command\r\n"},
          {{"FUNCTION", "FLUSH", "a", "b"},
           "-ERR unknown subcommand or wrong number of arguments for 'FLUSH'. Try FUNCTION "
           "HELP.\r\n"},
      });
  // A script that does not compile is not kept.
  CHECK(kv.keys().scripts().size() == 1);
}

TEST_CASE("read-only scripts may not write", "[scripting]") {
  kv_state kv;
  const std::string writer = "return redis.call('SET', 'a', 'b')";
  run_script(kv, {
                     {{"EVAL_RO", writer, "0"},
                      "-ERR Write commands are not allowed from read-only scripts. script: " +
                          sha(writer) + ", on @user_script:1.\r\n"},
                     {{"EVAL_RO", "return redis.call('GET', 'a')", "0"}, "$-1\r\n"},
                     {{"EVAL", "#!lua flags=no-writes\nreturn redis.pcall('SET', 'a', 'b')", "0"},
                      "-ERR Write commands are not allowed from read-only scripts.\r\n"},
                     {{"EVAL_RO", "#!lua\nreturn 1", "0"},
                      "-ERR Can not execute a script with write flag using *_ro command.\r\n"},
                     {{"EVAL", "#!python\nreturn 1", "0"},
                      "-ERR Unexpected engine in script shebang: #!python\r\n"},
                     {{"EVAL", "#!lua flags=fast\nreturn 1", "0"},
                      "-ERR Unexpected flag in script shebang: fast\r\n"},
                     {{"EVAL", "#!lua flags=no-writes\nreturn 2", "0"}, ":2\r\n"},
                 });
  CHECK(kv.read({"EXISTS", "a"}, kv_script::now_ms) == ":0\r\n");
}

TEST_CASE("scripts are deterministic: every replica draws the same random numbers", "[scripting]") {
  const std::string body = "return {math.random(1000), math.random(1000), math.random(5, 6)}";
  kv_state one;
  kv_state two;
  std::vector<std::string> replies;
  for (int i = 0; i < 3; ++i) {
    replies.push_back(one.apply({"EVAL", body, "0"}, kv_script::now_ms + i));
    CHECK(two.apply({"EVAL", body, "0"}, kv_script::now_ms + i) == replies.back());
  }
  // Each run draws anew, as Redis 7's generator keeps going between scripts.
  CHECK(replies[0] != replies[1]);
  CHECK(replies[1] != replies[2]);
  // randomseed restarts the sequence as srand48 does.
  const std::string seeded = "math.randomseed(7); return math.random(1000000)";
  CHECK(one.apply({"EVAL", seeded, "0"}, kv_script::now_ms) ==
        two.apply({"EVAL", seeded, "0"}, kv_script::now_ms + 5));
  // Nothing a script leaves in the libraries reaches the next run.
  kv_state kv;
  CHECK(kv.apply({"EVAL", "rawset(_G, 'left', 1); return left", "0"}, kv_script::now_ms) ==
        ":1\r\n");
  CHECK(kv.apply({"EVAL", "return left", "0"}, kv_script::now_ms)
            .find("nonexistent global variable 'left'") != std::string::npos);
}

TEST_CASE("a script past its instruction or memory limit is stopped", "[scripting]") {
  CHECK(eval0("while true do end").starts_with("-ERR Script killed: it ran more than"));
  // pcall cannot swallow the stop.
  CHECK(eval0("while true do pcall(function() while true do end end) end")
            .starts_with("-ERR Script killed: it ran more than"));
  const std::string hog = "local t = {} for i = 1, 100000000 do t[i] = i .. 'xxxxxxxxxxxxxxxx' end";
  const std::string reply = eval0(hog);
  CHECK(reply.find("bytes of Lua memory") != std::string::npos);
  // The state machine goes on.
  CHECK(eval0("return 7") == ":7\r\n");
}

TEST_CASE("globals and libraries are read-only and bytecode cannot be loaded", "[scripting]") {
  for (const std::string body :
       {"setmetatable(_G, {})", "local g = getmetatable(_G); g.__index = {}",
        "redis = function() return 1 end", "_G = {}", "redis.call = function() return 1 end",
        "cjson.encode = function() return 1 end", "cmsgpack.pack = function() return 1 end",
        "bit.lshift = function() return 1 end", "string.rep = nil", "math.random = nil"}) {
    INFO(body);
    CHECK(eval0(body).find("Attempt to modify a readonly table") != std::string::npos);
  }
  CHECK(eval0("return loadstring(string.dump(function() return 1 end))()")
            .find("attempt to call a nil value") != std::string::npos);
  CHECK(eval0("return loadstring('return 1')()") == ":1\r\n");
  CHECK(eval0("return string.rep('a', 2) .. ('b'):rep(2)") == "$4\r\naabb\r\n");
  // Thousands of arguments do not overflow the stack.
  CHECK(eval0("local a = {} for i = 1, 7999 do a[i] = 1 end "
              "return redis.call('lpush', 'l', unpack(a))") == ":7999\r\n");
  // Blocking commands are refused, as in Redis 7.0.
  CHECK(eval0("return redis.pcall('blpop', 'x', 0)") ==
        "-ERR This Redis command is not allowed from script\r\n");
}

TEST_CASE("error values with raising metamethods and huge arguments never stop the server",
          "[scripting]") {
  // The error table is read after the run, outside Lua's protection: a raising __index there
  // would abort the process.
  const std::string trap = "error(setmetatable({}, {__index = function() error('x') end}))";
  CHECK(eval0(trap).starts_with("-ERR unknown error"));
  CHECK(eval0("return setmetatable({}, {__index = function() error('x') end})") == "*0\r\n");
  // KEYS and ARGV do not count against the script's memory: setting them up cannot fail.
  kv_state kv;
  const std::string big(limits::script_memory_bytes_max / 2 + 1, 'x');
  CHECK(kv.apply({"EVAL", "return #ARGV[1] + #ARGV[2]", "0", big, big}, kv_script::now_ms) ==
        ":" + std::to_string(2 * big.size()) + "\r\n");
  CHECK(eval0("return cmsgpack.unpack('\\146\\1')").find("Missing bytes") != std::string::npos);
}

TEST_CASE("cjson cmsgpack and bit are there as in Redis", "[scripting]") {
  CHECK(eval0("return cjson.encode({1, 2, 'x'})") == "$9\r\n[1,2,\"x\"]\r\n");
  CHECK(eval0("return cjson.decode('{\"a\":[1,2]}').a[2]") == ":2\r\n");
  CHECK(eval0("return cmsgpack.unpack(cmsgpack.pack({1, 'two', {a = 3}}))[3].a") == ":3\r\n");
  CHECK(eval0("local a, b = cmsgpack.unpack(cmsgpack.pack(5, 'x')) return {a, b}") ==
        "*2\r\n:5\r\n$1\r\nx\r\n");
  CHECK(eval0("return cmsgpack.pack('abc')") == "$4\r\n\xa3"
                                                "abc\r\n");
  CHECK(eval0("return bit.band(12, 10)") == ":8\r\n");
  CHECK(eval0("return bit.tohex(255)") == "$8\r\n000000ff\r\n");
}

TEST_CASE("a snapshot carries the script cache", "[scripting]") {
  kv_state kv;
  const std::string body = "return redis.call('INCR', KEYS[1])";
  REQUIRE(kv.apply({"SCRIPT", "LOAD", body}, kv_script::now_ms) == "$40\r\n" + sha(body) + "\r\n");
  client_sessions sessions;
  kv.begin_snapshot(sessions);
  std::string bytes;
  while (!kv.snapshot_next(bytes, 1 << 20)) {
  }
  auto restored = restore_state(bytes);
  REQUIRE(std::holds_alternative<restored_state>(restored));
  kv_state copy = std::move(std::get<restored_state>(restored).kv);
  CHECK(copy.apply({"EVALSHA", sha(body), "1", "n"}, kv_script::now_ms) == ":1\r\n");
  // A damaged script record is refused.
  const auto at = bytes.find(body);
  REQUIRE(at != std::string::npos);
  std::string damaged = bytes;
  damaged[at - 1] = '\x01'; // the str header now says one byte
  CHECK(std::holds_alternative<std::string>(restore_state(damaged)));
}

TEST_CASE("FUNCTION LOAD and FCALL run library functions as Redis 7.0", "[scripting]") {
  kv_state kv;
  const std::string lib =
      "#!lua name=mylib\n"
      "redis.register_function('setget', function(keys, args)\n"
      "  redis.call('SET', keys[1], args[1]) return redis.call('GET', keys[1])\n"
      "end)\n"
      "redis.register_function{function_name='reader', callback=function(keys)\n"
      "  return redis.call('GET', keys[1]) end, flags={'no-writes'}}\n"
      "redis.register_function('writer', function(keys)\n"
      "  return redis.call('DEL', keys[1]) end)\n";
  run_script(kv, {
                     {{"FCALL", "setget", "1", "k", "v"}, "-ERR Function not found\r\n"},
                     {{"FUNCTION", "LOAD", lib}, "$5\r\nmylib\r\n"},
                     {{"FUNCTION", "LOAD", lib}, "-ERR Library 'mylib' already exists\r\n"},
                     {{"FUNCTION", "LOAD", "REPLACE", lib}, "$5\r\nmylib\r\n"},
                     {{"FCALL", "setget", "1", "k", "v"}, "$1\r\nv\r\n"},
                     {{"FCALL_RO", "reader", "1", "k"}, "$1\r\nv\r\n"},
                     {{"FCALL_RO", "writer", "1", "k"},
                      "-ERR Can not execute a script with write flag using *_ro command.\r\n"},
                     {{"FCALL", "setget", "2", "k"},
                      "-ERR Number of keys can't be greater than number of args\r\n"},
                     {{"FCALL", "setget", "x"}, "-ERR Bad number of keys provided\r\n"},
                     {{"FUNCTION", "LOAD",
                       "#!lua name=other\nredis.register_function('setget', function() end)"},
                      "-ERR Function setget already exists\r\n"},
                     {{"FUNCTION", "LOAD", "#!lua name=bad\nreturn 1"},
                      "-ERR No functions registered\r\n"},
                     {{"FUNCTION", "LOAD", "return 1"}, "-ERR Missing library metadata\r\n"},
                     {{"FUNCTION", "LOAD", "#!lua name=b-c\nreturn 1"},
                      "-ERR Library names can only contain letters, numbers, or underscores(_) and "
                      "must be at least one character long\r\n"},
                     {{"FUNCTION", "LOAD", "#!lua name=c\nredis.call('PING')"},
                      "-ERR Error registering functions: ERR redis.call/pcall can only be "
                      "called inside a script invocation\r\n"},
                     {{"FUNCTION", "LOAD", "#!lua name=c\nreturn ("},
                      "-ERR Error compiling function: user_function:2: unexpected symbol near "
                      "'<eof>'\r\n"},
                     {{"FUNCTION", "LIST", "LIBRARYNAME", "my*"},
                      "*1\r\n*6\r\n$12\r\nlibrary_name\r\n$5\r\nmylib\r\n$6\r\nengine\r\n$3\r\nLUA"
                      "\r\n$9\r\nfunctions\r\n*3\r\n*6\r\n$4\r\nname\r\n$6\r\nsetget\r\n$11\r\n"
                      "description\r\n$-1\r\n$5\r\nflags\r\n*0\r\n*6\r\n$4\r\n"
                      "name\r\n$6\r\nreader\r\n$11\r\ndescription\r\n$-1\r\n$5\r\nflags\r\n*1\r\n"
                      "$9\r\nno-writes\r\n"
                      "*6\r\n$4\r\nname\r\n$6\r\nwriter\r\n$11\r\ndescription\r\n$-1\r\n$5\r\nflags"
                      "\r\n*0\r\n"},
                     {{"FUNCTION", "DELETE", "nope"}, "-ERR Library not found\r\n"},
                     {{"FUNCTION", "DELETE", "mylib"}, "+OK\r\n"},
                     {{"FCALL", "setget", "1", "k", "v"}, "-ERR Function not found\r\n"},
                     {{"FUNCTION", "LIST"}, "*0\r\n"},
                 });
}

TEST_CASE("a function's errors name it and a snapshot carries the libraries", "[scripting]") {
  kv_state kv;
  const std::string lib = "#!lua name=l\n"
                          "redis.register_function('boom', function(keys, args)\n"
                          "  error('bad') end)\n"
                          "redis.register_function('count', function(keys, args)\n"
                          "  return redis.call('INCR', keys[1]) end)\n";
  REQUIRE(kv.apply({"FUNCTION", "LOAD", lib}, kv_script::now_ms) == "$1\r\nl\r\n");
  CHECK(kv.apply({"FCALL", "boom", "0"}, kv_script::now_ms) ==
        "-ERR user_function:3: bad script: boom, on @user_function:3.\r\n");
  client_sessions sessions;
  kv.begin_snapshot(sessions);
  std::string bytes;
  while (!kv.snapshot_next(bytes, 1 << 20)) {
  }
  auto restored = restore_state(bytes);
  REQUIRE(std::holds_alternative<restored_state>(restored));
  kv_state copy = std::move(std::get<restored_state>(restored).kv);
  CHECK(copy.apply({"FCALL", "count", "1", "n"}, kv_script::now_ms) == ":1\r\n");
  CHECK(copy.apply({"FUNCTION", "FLUSH"}, kv_script::now_ms) == "+OK\r\n");
  CHECK(copy.apply({"FCALL", "count", "1", "n"}, kv_script::now_ms) ==
        "-ERR Function not found\r\n");
}

TEST_CASE("redis.setresp checks its argument as Redis 7.0", "[scripting][resp3]") {
  const std::string none = "redis.setresp()";
  CHECK(eval0(none) == "-ERR redis.setresp() requires one argument. script: " + sha(none) +
                           ", on @user_script:1.\r\n");
  for (const std::string body :
       {"redis.setresp(4)", "redis.setresp(1)", "redis.setresp('x')", "redis.setresp(2, 3)"}) {
    INFO(body);
    const std::string expected = body == "redis.setresp(2, 3)"
                                     ? "-ERR redis.setresp() requires one argument."
                                     : "-ERR RESP version must be 2 or 3.";
    CHECK(eval0(body) == expected + " script: " + sha(body) + ", on @user_script:1.\r\n");
  }
  CHECK(eval0("redis.setresp(2) return 1") == ":1\r\n");
  CHECK(eval0("redis.setresp(3) return 1") == ":1\r\n");
  CHECK(eval0("redis.setresp('3') return 1") == ":1\r\n"); // a number in a string, as Lua reads it
  kv_state kv;
  run_script(kv, {{{"FUNCTION", "LOAD",
                    "#!lua name=lib\nredis.setresp(3)\nredis.register_function('f', function() "
                    "end)"},
                   "-ERR Error registering functions: ERR redis.setresp can only be called "
                   "inside a script invocation\r\n"}});
}

TEST_CASE("after redis.setresp(3) redis.call's replies reach Lua as RESP3 types",
          "[scripting][resp3]") {
  kv_state kv;
  run_script(
      kv,
      {
          {{"HSET", "h", "f", "v", "g", "w"}, ":2\r\n"},
          {{"SADD", "s", "a", "b"}, ":2\r\n"},
          {{"ZADD", "z", "1.5", "m"}, ":1\r\n"},
          // A map: {map = {f = "v", ...}}; in RESP2 mode the flat array it was.
          {{"EVAL",
            "redis.setresp(3) local r = redis.call('HGETALL', 'h') return {r.map.f, r.map.g}", "0"},
           "*2\r\n$1\r\nv\r\n$1\r\nw\r\n"},
          {{"EVAL", "redis.setresp(2) return #redis.call('HGETALL', 'h')", "0"}, ":4\r\n"},
          // A set: {set = {member = true, ...}}.
          {{"EVAL",
            "redis.setresp(3) local r = redis.call('SMEMBERS', 's') "
            "return {tostring(r.set.a), tostring(r.set.b), tostring(r.set.c)}",
            "0"},
           "*3\r\n$4\r\ntrue\r\n$4\r\ntrue\r\n$3\r\nnil\r\n"},
          // A double: {double = number}; in RESP2 the bulk string.
          {{"EVAL", "redis.setresp(3) return redis.call('ZSCORE', 'z', 'm').double * 2", "0"},
           ":3\r\n"},
          {{"EVAL", "redis.setresp(2) return redis.call('ZSCORE', 'z', 'm')", "0"},
           "$3\r\n1.5\r\n"},
          // Null: nil in RESP3, false in RESP2.
          {{"EVAL", "redis.setresp(3) return redis.call('GET', 'nokey') == nil", "0"}, "#t\r\n"},
          {{"EVAL", "redis.setresp(2) return redis.call('GET', 'nokey') == false", "0"}, ":1\r\n"},
          // The mode switches later calls only, both ways.
          {{"EVAL",
            "local a = redis.call('HGETALL', 'h') redis.setresp(3) "
            "local b = redis.call('HGETALL', 'h') redis.setresp(2) "
            "local c = redis.call('HGETALL', 'h') return {#a, b.map.f, #c}",
            "0"},
           "*3\r\n:4\r\n$1\r\nv\r\n:4\r\n"},
          // Status and error replies are the same tables as in RESP2.
          {{"EVAL", "redis.setresp(3) return redis.call('SET', 'k', 'v')", "0"}, "+OK\r\n"},
          {{"EVAL", "redis.setresp(3) return redis.pcall('INCR', 'h')", "0"},
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      });
}

TEST_CASE("a script's result converts to RESP3 types, downgraded for a RESP2 client",
          "[scripting][resp3]") {
  struct expect {
    std::string body, resp3, resp2;
  };
  const std::vector<expect> cases = {
      {"return {map={a=1}}", "%1\r\n$1\r\na\r\n:1\r\n", "*2\r\n$1\r\na\r\n:1\r\n"},
      {"return {set={x=true}}", "~1\r\n$1\r\nx\r\n", "*1\r\n$1\r\nx\r\n"},
      {"return {double=3.5}", ",3.5\r\n", "$3\r\n3.5\r\n"},
      {"return {double=1/0}", ",inf\r\n", "$3\r\ninf\r\n"},
      {"return {double=0.1}", ",0.10000000000000001\r\n", "$19\r\n0.10000000000000001\r\n"},
      {"return {big_number='123\\r\\n123'}", "(123  123\r\n", "$8\r\n123  123\r\n"},
      {"return {verbatim_string={format='txt', string='hi'}}", "=6\r\ntxt:hi\r\n", "$2\r\nhi\r\n"},
      {"return {verbatim_string={format='mkdown', string='x'}}", "=5\r\nmkd:x\r\n", "$1\r\nx\r\n"},
      {"return {verbatim_string={format='t', string='x'}}", "=5\r\nt  :x\r\n", "$1\r\nx\r\n"},
      // Booleans: RESP2 rules until redis.setresp(3), then true and false.
      {"return true", ":1\r\n", ":1\r\n"},
      {"return false", "_\r\n", "$-1\r\n"},
      {"redis.setresp(3) return true", "#t\r\n", ":1\r\n"},
      {"redis.setresp(3) return false", "#f\r\n", ":0\r\n"},
      {"redis.setresp(3) return nil", "_\r\n", "$-1\r\n"},
      // Nested, and err/ok win over the RESP3 fields, as in Redis.
      {"return {1, {map={k={set={m=true}}}}}", "*2\r\n:1\r\n%1\r\n$1\r\nk\r\n~1\r\n$1\r\nm\r\n",
       "*2\r\n:1\r\n*2\r\n$1\r\nk\r\n*1\r\n$1\r\nm\r\n"},
      {"return {ok='fine', double=1}", "+fine\r\n", "+fine\r\n"},
      {"return {double='x', 5}", "*1\r\n:5\r\n", "*1\r\n:5\r\n"}, // not a number: an array
  };
  for (const auto& c : cases) {
    INFO(c.body);
    const std::string reply = eval0(c.body);
    CHECK(to_resp3(reply, resp3_shape_of({"EVAL", c.body, "0"})) == c.resp3);
    CHECK(to_resp2(reply) == c.resp2);
  }
  // What the state machine answers: RESP2 wherever RESP2 says it (a RESP2 client's bytes today).
  CHECK(eval0("return false") == "$-1\r\n");
  CHECK(eval0("return {map={a=1}}") == "%1\r\n$1\r\na\r\n:1\r\n");
  // A RESP3 script reads a RESP3 map and returns it as it came.
  kv_state kv;
  run_script(kv, {
                     {{"HSET", "h", "f", "v"}, ":1\r\n"},
                     {{"EVAL", "redis.setresp(3) return redis.call('HGETALL', KEYS[1])", "1", "h"},
                      "%1\r\n$1\r\nf\r\n$1\r\nv\r\n"},
                     {{"EVAL", "redis.setresp(2) return redis.call('HGETALL', KEYS[1])", "1", "h"},
                      "*2\r\n$1\r\nf\r\n$1\r\nv\r\n"},
                 });
}
