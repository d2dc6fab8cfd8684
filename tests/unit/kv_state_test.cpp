// KV state machine: classification, arity and syntax errors, and exact RESP2 replies as
// Redis 7 sends them.

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "actors/state_machine/kv_state.hpp"

using namespace prez;
using argv_type = std::vector<std::string>;

namespace {

command_kind kind_of(const argv_type& argv) {
  std::string error;
  const command_kind kind = classify(argv, error);
  CHECK(error.empty() == (kind != command_kind::unknown));
  return kind;
}

std::string error_of(const argv_type& argv) {
  std::string error = "stale";
  const command_kind kind = classify(argv, error);
  CHECK(kind == command_kind::unknown);
  return error;
}

} // namespace

TEST_CASE("commands are classified case-insensitively", "[kv_state]") {
  CHECK(kind_of({"SET", "k", "v"}) == command_kind::write);
  CHECK(kind_of({"set", "k", "v"}) == command_kind::write);
  CHECK(kind_of({"sEt", "k", "v", "nx"}) == command_kind::write);
  CHECK(kind_of({"DEL", "a", "b", "c"}) == command_kind::write);
  CHECK(kind_of({"GET", "k"}) == command_kind::read);
  CHECK(kind_of({"Exists", "a", "b"}) == command_kind::read);
  CHECK(kind_of({"PING"}) == command_kind::local);
  CHECK(kind_of({"ping", "hello"}) == command_kind::local);
  CHECK(kind_of({"ECHO", "x"}) == command_kind::local);
  std::string error = "stale";
  classify({"GET", "k"}, error);
  CHECK(error.empty());
}

TEST_CASE("wrong arity gets Redis's error", "[kv_state]") {
  CHECK(error_of({"SET", "k"}) == "-ERR wrong number of arguments for 'set' command\r\n");
  CHECK(error_of({"set"}) == "-ERR wrong number of arguments for 'set' command\r\n");
  CHECK(error_of({"GET"}) == "-ERR wrong number of arguments for 'get' command\r\n");
  CHECK(error_of({"GET", "a", "b"}) == "-ERR wrong number of arguments for 'get' command\r\n");
  CHECK(error_of({"DEL"}) == "-ERR wrong number of arguments for 'del' command\r\n");
  CHECK(error_of({"EXISTS"}) == "-ERR wrong number of arguments for 'exists' command\r\n");
  CHECK(error_of({"ECHO"}) == "-ERR wrong number of arguments for 'echo' command\r\n");
  CHECK(error_of({"PING", "a", "b"}) == "-ERR wrong number of arguments for 'ping' command\r\n");
}

TEST_CASE("unknown commands get Redis 7's error", "[kv_state]") {
  CHECK(error_of({"FOO"}) == "-ERR unknown command 'FOO', with args beginning with: \r\n");
  CHECK(error_of({"foo", "a", "b c"}) ==
        "-ERR unknown command 'foo', with args beginning with: 'a' 'b c' \r\n");
  CHECK(error_of({}) == "-ERR unknown command '', with args beginning with: \r\n");
  // CR/LF in client text never breaks the reply line.
  CHECK(error_of({"a\r\nb", "x\ny"}) ==
        "-ERR unknown command 'a  b', with args beginning with: 'x y' \r\n");
  // Names are quoted up to 128 bytes, arguments up to a 128-byte budget.
  const std::string long_name(200, 'n');
  const std::string reply =
      error_of({long_name, std::string(100, 'a'), std::string(100, 'b'), "never"});
  CHECK(reply == "-ERR unknown command '" + std::string(128, 'n') +
                     "', with args beginning with: '" + std::string(100, 'a') + "' '" +
                     std::string(25, 'b') + "' \r\n");
  CHECK(error_of({"GETX", "k"}) ==
        "-ERR unknown command 'GETX', with args beginning with: 'k' \r\n");
}

TEST_CASE("SET options: Redis 7's combinations; everything else is a syntax error", "[kv_state]") {
  CHECK(kind_of({"SET", "k", "v", "NX"}) == command_kind::write);
  CHECK(kind_of({"SET", "k", "v", "xx", "GET"}) == command_kind::write);
  CHECK(kind_of({"SET", "k", "v", "NX", "GET"}) == command_kind::write);
  CHECK(kind_of({"SET", "k", "v", "NX", "nx"}) == command_kind::write);
  CHECK(kind_of({"SET", "k", "v", "KEEPTTL"}) == command_kind::write);
  CHECK(kind_of({"SET", "k", "v", "EX", "10"}) == command_kind::write);
  CHECK(kind_of({"SET", "k", "v", "px", "10", "NX"}) == command_kind::write);
  CHECK(kind_of({"SET", "k", "v", "EXAT", "10", "EXAT", "11"}) == command_kind::write);
  CHECK(kind_of({"SET", "k", "v", "PXAT", "10", "GET"}) == command_kind::write);
  const std::string syntax = "-ERR syntax error\r\n";
  CHECK(error_of({"SET", "k", "v", "NX", "XX"}) == syntax);
  CHECK(error_of({"SET", "k", "v", "XX", "NX"}) == syntax);
  CHECK(error_of({"SET", "k", "v", "EX"}) == syntax);
  CHECK(error_of({"SET", "k", "v", "EX", "1", "PX", "1"}) == syntax);
  CHECK(error_of({"SET", "k", "v", "KEEPTTL", "EX", "1"}) == syntax);
  CHECK(error_of({"SET", "k", "v", "EX", "1", "KEEPTTL"}) == syntax);
  CHECK(error_of({"SET", "k", "v", "PERSIST"}) == syntax);
  CHECK(error_of({"SET", "k", "v", "BOGUS"}) == syntax);
  CHECK(error_of({"SET", "k", "v", "KEEPTTLX"}) == syntax);
  CHECK(error_of({"SET", "k", "v", ""}) == syntax);
}

TEST_CASE("SET and GET", "[kv_state]") {
  kv_state state;
  CHECK(state.read({"GET", "k"}) == "$-1\r\n");
  CHECK(state.apply({"SET", "k", "v"}, 0) == "+OK\r\n");
  CHECK(state.read({"GET", "k"}) == "$1\r\nv\r\n");
  CHECK(state.read({"get", "K"}) == "$-1\r\n"); // keys are case-sensitive
  CHECK(state.apply({"SET", "k", "longer value"}, 0) == "+OK\r\n");
  CHECK(state.read({"GET", "k"}) == "$12\r\nlonger value\r\n");
  CHECK(state.apply({"SET", "empty", ""}, 0) == "+OK\r\n");
  CHECK(state.read({"GET", "empty"}) == "$0\r\n\r\n");
  const std::string binary("a\0b\r\n\xff", 6);
  CHECK(state.apply({"SET", binary, binary}, 0) == "+OK\r\n");
  CHECK(state.read({"GET", binary}) == "$6\r\n" + binary + "\r\n");
  CHECK(state.size() == 3);
}

TEST_CASE("SET NX and XX", "[kv_state]") {
  kv_state state;
  CHECK(state.apply({"SET", "k", "1", "XX"}, 0) == "$-1\r\n");
  CHECK(state.read({"GET", "k"}) == "$-1\r\n");
  CHECK(state.apply({"SET", "k", "1", "NX"}, 0) == "+OK\r\n");
  CHECK(state.apply({"SET", "k", "2", "NX"}, 0) == "$-1\r\n");
  CHECK(state.read({"GET", "k"}) == "$1\r\n1\r\n");
  CHECK(state.apply({"SET", "k", "3", "XX"}, 0) == "+OK\r\n");
  CHECK(state.read({"GET", "k"}) == "$1\r\n3\r\n");
}

TEST_CASE("SET GET returns the old value", "[kv_state]") {
  kv_state state;
  CHECK(state.apply({"SET", "k", "1", "GET"}, 0) == "$-1\r\n");
  CHECK(state.apply({"SET", "k", "2", "GET"}, 0) == "$1\r\n1\r\n");
  CHECK(state.read({"GET", "k"}) == "$1\r\n2\r\n");
  // NX GET: an existing key is returned and kept.
  CHECK(state.apply({"SET", "k", "3", "NX", "GET"}, 0) == "$1\r\n2\r\n");
  CHECK(state.read({"GET", "k"}) == "$1\r\n2\r\n");
  CHECK(state.apply({"SET", "new", "x", "NX", "GET"}, 0) == "$-1\r\n");
  CHECK(state.read({"GET", "new"}) == "$1\r\nx\r\n");
  // XX GET on a missing key: nil, nothing set.
  CHECK(state.apply({"SET", "missing", "x", "XX", "GET"}, 0) == "$-1\r\n");
  CHECK(state.read({"EXISTS", "missing"}) == ":0\r\n");
}

TEST_CASE("DEL and EXISTS count keys like Redis", "[kv_state]") {
  kv_state state;
  state.apply({"SET", "a", "1"}, 0);
  state.apply({"SET", "b", "2"}, 0);
  CHECK(state.read({"EXISTS", "a"}) == ":1\r\n");
  CHECK(state.read({"EXISTS", "a", "a", "b", "c"}) == ":3\r\n"); // repeats count each time
  CHECK(state.apply({"DEL", "a", "a", "c"}, 0) == ":1\r\n");     // a key is deleted once
  CHECK(state.apply({"DEL", "a"}, 0) == ":0\r\n");
  CHECK(state.read({"EXISTS", "a", "b"}) == ":1\r\n");
  CHECK(state.apply({"del", "b"}, 0) == ":1\r\n");
  CHECK(state.size() == 0);
}

TEST_CASE("bytes() tracks keys and values", "[kv_state]") {
  kv_state state;
  CHECK(state.bytes() == 0);
  state.apply({"SET", "key", "value"}, 0);
  CHECK(state.bytes() == 8);
  state.apply({"SET", "key", "v"}, 0);
  CHECK(state.bytes() == 4);
  state.apply({"SET", "k2", "12345"}, 0);
  CHECK(state.bytes() == 11);
  state.apply({"SET", "key", "x", "NX"}, 0); // not set: no change
  CHECK(state.bytes() == 11);
  state.apply({"DEL", "key", "k2"}, 0);
  CHECK(state.bytes() == 0);
  CHECK(state.size() == 0);
}

TEST_CASE("apply answers invalid commands with an error and changes nothing", "[kv_state]") {
  kv_state state;
  CHECK(state.apply({"SET", "k"}, 0) == "-ERR wrong number of arguments for 'set' command\r\n");
  CHECK(state.apply({"SET", "k", "v", "EX", "1", "PX", "1"}, 0) == "-ERR syntax error\r\n");
  CHECK(state.apply({"SET", "k", "v", "EX", "0"}, 0) ==
        "-ERR invalid expire time in 'set' command\r\n");
  CHECK(state.apply({"NOPE"}, 0) == "-ERR unknown command 'NOPE', with args beginning with: \r\n");
  CHECK(state.size() == 0);
  // Reads and local commands through the log are answered too.
  state.apply({"SET", "k", "v"}, 0);
  CHECK(state.apply({"GET", "k"}, 0) == "$1\r\nv\r\n");
  CHECK(state.apply({"PING"}, 0) == "+PONG\r\n");
}

TEST_CASE("read refuses writes and never changes the state", "[kv_state]") {
  kv_state state;
  const std::string reply = state.read({"SET", "k", "v"});
  CHECK(reply.rfind("-ERR", 0) == 0);
  CHECK(reply.find("'set' is not a read command") != std::string::npos);
  CHECK(state.size() == 0);
  CHECK(state.read({"GET"}) == "-ERR wrong number of arguments for 'get' command\r\n");
}

TEST_CASE("PING and ECHO", "[kv_state]") {
  CHECK(run_local({"PING"}) == "+PONG\r\n");
  CHECK(run_local({"ping", "hi"}) == "$2\r\nhi\r\n");
  CHECK(run_local({"ECHO", std::string("a\0b", 3)}) == std::string("$3\r\na\0b\r\n", 9));
  CHECK(run_local({"PING", "a", "b"}) == "-ERR wrong number of arguments for 'ping' command\r\n");
  CHECK(run_local({"GET", "k"}).rfind("-ERR internal error: 'get' is not a local command", 0) == 0);
}

TEST_CASE("two replicas applying the same commands agree", "[kv_state]") {
  kv_state first;
  kv_state second;
  std::uint64_t state = 12345; // splitmix64
  auto next = [&state] {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  const std::vector<std::string> names = {"SET", "DEL", "GET", "EXISTS", "set"};
  const std::vector<std::string> options = {"NX", "XX", "GET", "EX"};
  for (int i = 0; i < 2000; ++i) {
    argv_type argv = {names[next() % names.size()], "k" + std::to_string(next() % 20)};
    if (argv[0] == "SET" || argv[0] == "set") argv.push_back(std::to_string(next() % 100));
    if (next() % 4 == 0) argv.push_back(options[next() % options.size()]);
    REQUIRE(first.apply(argv, 0) == second.apply(argv, 0));
  }
  CHECK(first.size() == second.size());
  CHECK(first.bytes() == second.bytes());
  for (int k = 0; k < 20; ++k)
    CHECK(first.read({"GET", "k" + std::to_string(k)}) ==
          second.read({"GET", "k" + std::to_string(k)}));
}

TEST_CASE("every command is classified as read, write or local", "[kv_state]") {
  // Anything that may modify the key space is a write (GETEX, GETDEL, SPOP, LPOP, the STORE
  // forms, ZPOPMIN, ZMPOP); random and iterating reads (RANDOMKEY, SRANDMEMBER, ZRANDMEMBER,
  // KEYS, SCAN) are reads.
  const std::vector<std::pair<std::string, command_kind>> commands = {
      {"append k v", command_kind::write},
      {"decr k", command_kind::write},
      {"decrby k 1", command_kind::write},
      {"del k", command_kind::write},
      {"expire k 1", command_kind::write},
      {"expireat k 1", command_kind::write},
      {"flushall", command_kind::write},
      {"flushdb", command_kind::write},
      {"getdel k", command_kind::write},
      {"getex k", command_kind::write},
      {"getset k v", command_kind::write},
      {"hdel k f", command_kind::write},
      {"hincrby k f 1", command_kind::write},
      {"hincrbyfloat k f 1", command_kind::write},
      {"hmset k f v", command_kind::write},
      {"hset k f v", command_kind::write},
      {"hsetnx k f v", command_kind::write},
      {"incr k", command_kind::write},
      {"incrby k 1", command_kind::write},
      {"incrbyfloat k 1", command_kind::write},
      {"linsert k before p v", command_kind::write},
      {"lmove a b left right", command_kind::write},
      {"lpop k", command_kind::write},
      {"lpush k v", command_kind::write},
      {"lpushx k v", command_kind::write},
      {"lrem k 0 v", command_kind::write},
      {"lset k 0 v", command_kind::write},
      {"ltrim k 0 1", command_kind::write},
      {"mset k v", command_kind::write},
      {"msetnx k v", command_kind::write},
      {"persist k", command_kind::write},
      {"pexpire k 1", command_kind::write},
      {"pexpireat k 1", command_kind::write},
      {"psetex k 1 v", command_kind::write},
      {"rename a b", command_kind::write},
      {"renamenx a b", command_kind::write},
      {"rpop k 2", command_kind::write},
      {"rpoplpush a b", command_kind::write},
      {"rpush k v", command_kind::write},
      {"rpushx k v", command_kind::write},
      {"sadd k m", command_kind::write},
      {"sdiffstore d a", command_kind::write},
      {"set k v", command_kind::write},
      {"setex k 1 v", command_kind::write},
      {"setnx k v", command_kind::write},
      {"setrange k 0 v", command_kind::write},
      {"sinterstore d a", command_kind::write},
      {"smove a b m", command_kind::write},
      {"spop k", command_kind::write},
      {"srem k m", command_kind::write},
      {"sunionstore d a", command_kind::write},
      {"unlink k", command_kind::write},
      {"zadd k 1 m", command_kind::write},
      {"zdiffstore d 1 a", command_kind::write},
      {"zincrby k 1 m", command_kind::write},
      {"zinterstore d 1 a", command_kind::write},
      {"zmpop 1 k min", command_kind::write},
      {"zpopmax k", command_kind::write},
      {"zpopmin k", command_kind::write},
      {"zrangestore d k 0 1", command_kind::write},
      {"zrem k m", command_kind::write},
      {"zremrangebylex k - +", command_kind::write},
      {"zremrangebyrank k 0 1", command_kind::write},
      {"zremrangebyscore k 0 1", command_kind::write},
      {"zunionstore d 1 a", command_kind::write},
      {"dbsize", command_kind::read},
      {"exists k", command_kind::read},
      {"expiretime k", command_kind::read},
      {"get k", command_kind::read},
      {"getrange k 0 1", command_kind::read},
      {"hexists k f", command_kind::read},
      {"hget k f", command_kind::read},
      {"hgetall k", command_kind::read},
      {"hkeys k", command_kind::read},
      {"hlen k", command_kind::read},
      {"hmget k f", command_kind::read},
      {"hscan k 0", command_kind::read},
      {"hstrlen k f", command_kind::read},
      {"hvals k", command_kind::read},
      {"keys *", command_kind::read},
      {"lindex k 0", command_kind::read},
      {"llen k", command_kind::read},
      {"lpos k v", command_kind::read},
      {"lrange k 0 1", command_kind::read},
      {"mget k", command_kind::read},
      {"pexpiretime k", command_kind::read},
      {"pttl k", command_kind::read},
      {"randomkey", command_kind::read},
      {"scan 0", command_kind::read},
      {"scard k", command_kind::read},
      {"sdiff k", command_kind::read},
      {"sinter k", command_kind::read},
      {"sismember k m", command_kind::read},
      {"smembers k", command_kind::read},
      {"smismember k m", command_kind::read},
      {"srandmember k 3", command_kind::read},
      {"sscan k 0", command_kind::read},
      {"strlen k", command_kind::read},
      {"sunion k", command_kind::read},
      {"ttl k", command_kind::read},
      {"type k", command_kind::read},
      {"zcard k", command_kind::read},
      {"zcount k 0 1", command_kind::read},
      {"zdiff 1 k", command_kind::read},
      {"zinter 1 k", command_kind::read},
      {"zintercard 1 k", command_kind::read},
      {"zlexcount k - +", command_kind::read},
      {"zmscore k m", command_kind::read},
      {"zrandmember k 3", command_kind::read},
      {"zrange k 0 1", command_kind::read},
      {"zrangebylex k - +", command_kind::read},
      {"zrangebyscore k 0 1", command_kind::read},
      {"zrank k m", command_kind::read},
      {"zrevrange k 0 1", command_kind::read},
      {"zrevrangebylex k + -", command_kind::read},
      {"zrevrangebyscore k 1 0", command_kind::read},
      {"zrevrank k m", command_kind::read},
      {"zscan k 0", command_kind::read},
      {"zscore k m", command_kind::read},
      {"zunion 1 k", command_kind::read},
      {"ping", command_kind::local},
      {"echo x", command_kind::local},
      {"select 0", command_kind::local},
      {"client id", command_kind::local},
      {"hello 2", command_kind::local},
      {"reset", command_kind::local},
      {"time", command_kind::local},
      {"command", command_kind::local},
      {"config get x", command_kind::local},
      {"info", command_kind::local},
      {"quit", command_kind::local},
      {"auth p", command_kind::local},
      {"multi", command_kind::local},
      {"exec", command_kind::local},
      {"discard", command_kind::local},
      {"watch k", command_kind::local},
      {"unwatch", command_kind::local},
  };
  for (const auto& [line, kind] : commands) {
    argv_type argv;
    std::size_t start = 0;
    for (std::size_t space = line.find(' '); space != std::string::npos;
         start = space + 1, space = line.find(' ', start))
      argv.push_back(line.substr(start, space - start));
    argv.push_back(line.substr(start));
    INFO(line);
    CHECK(kind_of(argv) == kind);
  }
}

TEST_CASE("replication and persistence commands are refused with a reason", "[kv_state]") {
  CHECK(error_of({"SYNC"}) == "-ERR prez does not support 'sync': replication is done by Raft\r\n");
  CHECK(error_of({"psync", "x", "1"}) ==
        "-ERR prez does not support 'psync': replication is done by Raft\r\n");
  CHECK(error_of({"REPLICAOF", "no", "one"}) ==
        "-ERR prez does not support 'replicaof': replication is done by Raft\r\n");
  CHECK(error_of({"SLAVEOF", "no", "one"}) ==
        "-ERR prez does not support 'slaveof': replication is done by Raft\r\n");
  CHECK(error_of({"SAVE"}) ==
        "-ERR prez does not support 'save': the Raft log is the persistence\r\n");
  CHECK(error_of({"BGSAVE"}) ==
        "-ERR prez does not support 'bgsave': the Raft log is the persistence\r\n");
  CHECK(error_of({"BGREWRITEAOF"}) ==
        "-ERR prez does not support 'bgrewriteaof': the Raft log is the persistence\r\n");
  CHECK(error_of({"DEBUG", "sleep", "0"}) ==
        "-ERR prez does not support 'debug': it inspects one Redis process's internals\r\n");
  CHECK(error_of({"MONITOR"}).rfind("-ERR prez does not support 'monitor': ", 0) == 0);
  CHECK(error_of({"WAIT", "1", "0"}) == "-ERR prez does not support 'wait': every acknowledged "
                                        "write is already on a majority (Raft)\r\n");
}

TEST_CASE("local commands other than PING and ECHO belong to the connection", "[kv_state]") {
  CHECK(run_local({"SELECT", "0"}) ==
        "-ERR internal error: 'select' is run by the connection, not the state machine\r\n");
  CHECK(run_local({"MULTI"}).rfind("-ERR internal error: 'multi'", 0) == 0);
  CHECK(error_of({"SELECT"}) == "-ERR wrong number of arguments for 'select' command\r\n");
  CHECK(error_of({"MULTI", "x"}) == "-ERR wrong number of arguments for 'multi' command\r\n");
  CHECK(error_of({"WATCH"}) == "-ERR wrong number of arguments for 'watch' command\r\n");
}

TEST_CASE("arity checks beyond Redis's table: pairs and optional counts", "[kv_state]") {
  CHECK(error_of({"MSET", "a", "1", "b"}) ==
        "-ERR wrong number of arguments for 'mset' command\r\n");
  CHECK(error_of({"msetnx", "a"}) == "-ERR wrong number of arguments for 'msetnx' command\r\n");
  CHECK(error_of({"HSET", "h", "f", "v", "g"}) ==
        "-ERR wrong number of arguments for 'hset' command\r\n");
  CHECK(error_of({"HMSET", "h", "f"}) == "-ERR wrong number of arguments for 'hmset' command\r\n");
  CHECK(error_of({"LPOP", "l", "1", "2"}) ==
        "-ERR wrong number of arguments for 'lpop' command\r\n");
}

TEST_CASE("random reads served by ReadIndex draw fresh picks; applied ones agree on replicas",
          "[kv_state]") {
  kv_state a;
  kv_state b;
  std::vector<std::string> sadd{"SADD", "s"}, zadd{"ZADD", "z"}, hset{"HSET", "h"};
  for (int i = 0; i < 100; ++i) {
    sadd.push_back("m" + std::to_string(i));
    zadd.push_back(std::to_string(i));
    zadd.push_back("m" + std::to_string(i));
    hset.push_back("f" + std::to_string(i));
    hset.push_back("v");
  }
  for (kv_state* s : {&a, &b}) {
    s->apply(sadd, 1000);
    s->apply(zadd, 1000);
    s->apply(hset, 1000);
    s->apply({"SET", "k1", "v"}, 1000);
    s->apply({"SET", "k2", "v"}, 1000);
    s->apply({"SET", "k3", "v"}, 1000);
  }
  const std::vector<std::vector<std::string>> reads = {
      {"SRANDMEMBER", "s"}, {"ZRANDMEMBER", "z"}, {"HRANDFIELD", "h"}, {"RANDOMKEY"}};
  for (const auto& argv : reads) {
    INFO(argv[0]);
    std::set<std::string> picks;
    for (std::uint64_t entropy = 1; entropy <= 40; ++entropy)
      picks.insert(a.read_random(argv, 2000, entropy));
    CHECK(picks.size() > 1); // Redis's tests check the distribution over repeated calls
    CHECK(a.read_random(argv, 2000, 7) == a.read_random(argv, 2000, 7));
    // Applied from the log (a read behind writes, or in EXEC), every replica picks the same.
    CHECK(a.apply(argv, 3000) == b.apply(argv, 3000));
    CHECK(a.read(argv, 2000) == b.read(argv, 2000));
  }
}
