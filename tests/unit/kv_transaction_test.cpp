// MULTI/EXEC as one applied entry, WATCH versions, and determinism across replicas (including
// SPOP and SRANDMEMBER, whose randomness comes from the state and the entry's time).

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "actors/state_machine/kv_state.hpp"

using namespace prez;
using argv_type = std::vector<std::string>;

TEST_CASE("a transaction runs its commands in order and answers with their replies",
          "[kv_transaction]") {
  kv_state state;
  const std::string reply = state.apply_transaction(
      {{"SET", "a", "1"}, {"INCR", "a"}, {"GET", "a"}, {"LPUSH", "a", "x"}, {"PING"}, {"NOPE"}},
      1'000);
  CHECK(reply == "*6\r\n+OK\r\n:2\r\n$1\r\n2\r\n"
                 "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
                 "+PONG\r\n-ERR unknown command 'NOPE', with args beginning with: \r\n");
  CHECK(state.apply_transaction({}, 1'000) == "*0\r\n");
}

TEST_CASE("key_version changes on every write, delete and expiry, not on reads or no-ops",
          "[kv_transaction]") {
  kv_state state;
  const std::uint64_t absent = state.key_version("k");
  state.apply({"SET", "k", "1"}, 1'000);
  const std::uint64_t created = state.key_version("k");
  CHECK(created != absent);
  state.read({"GET", "k"}, 1'000);
  state.apply({"GET", "k"}, 1'000);
  state.apply({"SETNX", "k", "2"}, 1'000); // refused: not a change
  state.apply({"SADD", "k", "m"}, 1'000);  // WRONGTYPE: not a change
  CHECK(state.key_version("k") == created);
  state.apply({"INCR", "k"}, 1'000);
  const std::uint64_t incremented = state.key_version("k");
  CHECK(incremented != created);
  state.apply({"PEXPIRE", "k", "10"}, 1'000);
  const std::uint64_t with_ttl = state.key_version("k");
  CHECK(with_ttl != incremented);
  state.apply({"PING"}, 1'010); // active expiry deletes k
  const std::uint64_t expired = state.key_version("k");
  CHECK(expired != with_ttl);
  CHECK(expired != absent);
  state.apply({"SET", "k", "1"}, 1'020);
  state.apply({"DEL", "k"}, 1'020);
  CHECK(state.key_version("k") != expired);    // deleted again: yet another version
  CHECK(state.key_version("other") == absent); // untouched keys keep theirs
}

TEST_CASE("EXEC with WATCH runs only when no watched key changed", "[kv_transaction]") {
  kv_state state;
  state.apply({"SET", "balance", "10"}, 1'000);
  const std::vector<watched_key> watched = {{"balance", state.key_version("balance")},
                                            {"missing", state.key_version("missing")}};
  CHECK(state.apply_transaction({{"INCRBY", "balance", "5"}}, 1'001, watched) == "*1\r\n:15\r\n");
  // The same WATCH is stale now: the transaction itself changed the key.
  CHECK(state.apply_transaction({{"INCRBY", "balance", "5"}}, 1'002, watched) == "*-1\r\n");
  CHECK(state.read({"GET", "balance"}, 1'002) == "$2\r\n15\r\n");
  // A watched key created and deleted again between WATCH and EXEC still aborts (no ABA).
  const std::vector<watched_key> on_missing = {{"missing", state.key_version("missing")}};
  state.apply({"SET", "missing", "x"}, 1'003);
  state.apply({"DEL", "missing"}, 1'003);
  CHECK(state.apply_transaction({{"SET", "a", "b"}}, 1'004, on_missing) == "*-1\r\n");
  CHECK(state.read({"EXISTS", "a"}, 1'004) == ":0\r\n");
  // A watched key that expires before EXEC aborts it, as in Redis 7.
  state.apply({"SET", "t", "v", "PX", "10"}, 2'000);
  const std::vector<watched_key> on_t = {{"t", state.key_version("t")}};
  CHECK(state.apply_transaction({{"SET", "a", "b"}}, 2'010, on_t) == "*-1\r\n");
  // FLUSHALL changes every key's version.
  state.apply({"SET", "f", "v"}, 3'000);
  const std::vector<watched_key> on_f = {{"f", state.key_version("f")}};
  state.apply({"FLUSHALL"}, 3'001);
  CHECK(state.apply_transaction({{"SET", "a", "b"}}, 3'002, on_f) == "*-1\r\n");
}

namespace {

/// splitmix64: the test's own seeded stream of commands.
struct command_source {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::string pick(const std::vector<std::string>& choices) {
    return choices[next() % choices.size()];
  }
  argv_type command() {
    const std::string key = "k" + std::to_string(next() % 8);
    const std::string other = "k" + std::to_string(next() % 8);
    const std::string member = std::to_string(next() % 12);
    const std::vector<argv_type> shapes = {
        {"SET", key, member},
        {"SET", key, member, "PX", std::to_string(1 + next() % 50)},
        {"SADD", key, member, std::to_string(next() % 12)},
        {"SPOP", key},
        {"SPOP", key, std::to_string(next() % 4)},
        {"SRANDMEMBER", key, std::to_string(static_cast<long long>(next() % 7) - 3)},
        {"RPUSH", key, member},
        {"LPOP", key},
        {"LMOVE", key, other, "LEFT", "RIGHT"},
        {"HSET", key, member, member},
        {"HINCRBY", key, member, "3"},
        {"INCR", key},
        {"APPEND", key, member},
        {"DEL", key},
        {"RENAME", key, other},
        {"SUNIONSTORE", key, other, key},
        {"EXPIRE", key, std::to_string(next() % 3)},
        {"RANDOMKEY"},
        {"SCAN", "0", "COUNT", "3"},
    };
    return shapes[next() % shapes.size()];
  }
};

} // namespace

TEST_CASE("two replicas applying the same entries agree on every reply and the state",
          "[kv_transaction]") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    INFO("seed=" << seed);
    kv_state first;
    kv_state second;
    command_source source{seed};
    std::uint64_t time_ms = 1'000;
    for (int i = 0; i < 500; ++i) {
      time_ms += source.next() % 7;
      if (source.next() % 10 == 0) {
        std::vector<argv_type> batch = {source.command(), source.command()};
        REQUIRE(first.apply_transaction(batch, time_ms) ==
                second.apply_transaction(batch, time_ms));
        continue;
      }
      const argv_type argv = source.command();
      REQUIRE(first.apply(argv, time_ms) == second.apply(argv, time_ms));
    }
    CHECK(first.size() == second.size());
    CHECK(first.bytes() == second.bytes());
    CHECK(first.bytes() == first.keys().recount_bytes());
    CHECK(first.read({"SCAN", "0", "COUNT", "1000"}, time_ms) ==
          second.read({"SCAN", "0", "COUNT", "1000"}, time_ms));
    for (int k = 0; k < 8; ++k) {
      const std::string key = "k" + std::to_string(k);
      CHECK(first.key_version(key) == second.key_version(key));
      for (const char* read : {"GET", "SMEMBERS", "HGETALL", "TYPE", "PTTL"})
        CHECK(first.read({read, key}, time_ms) == second.read({read, key}, time_ms));
      CHECK(first.read({"LRANGE", key, "0", "-1"}, time_ms) ==
            second.read({"LRANGE", key, "0", "-1"}, time_ms));
    }
  }
}

TEST_CASE("SPOP draws differ between entries but not between replicas", "[kv_transaction]") {
  kv_state first;
  kv_state second;
  const argv_type fill = {"SADD", "s", "a", "b", "c", "d", "e", "f", "g", "h"};
  first.apply(fill, 1'000);
  second.apply(fill, 1'000);
  std::vector<std::string> popped;
  for (int i = 0; i < 8; ++i) {
    const std::string reply = first.apply({"SPOP", "s"}, 1'000); // same millisecond
    CHECK(reply == second.apply({"SPOP", "s"}, 1'000));
    popped.push_back(reply);
  }
  std::sort(popped.begin(), popped.end());
  CHECK(std::unique(popped.begin(), popped.end()) == popped.end()); // each member once
  CHECK(first.read({"EXISTS", "s"}, 1'000) == ":0\r\n");
}

TEST_CASE("SRANDMEMBER and SCAN cursors are deterministic and complete", "[kv_transaction]") {
  kv_state state;
  state.apply({"SADD", "s", "a", "b", "c", "d"}, 1'000);
  CHECK(state.read({"SRANDMEMBER", "s", "-6"}, 5) == state.read({"SRANDMEMBER", "s", "-6"}, 5));
  CHECK(state.read({"SRANDMEMBER", "s", "-6"}, 5).rfind("*6\r\n", 0) == 0);
  CHECK(state.read({"SRANDMEMBER", "s", "-2000000"}, 5) == "-ERR value is out of range\r\n");
  state.apply({"ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"}, 1'000);
  for (const argv_type& pick : std::vector<argv_type>{{"ZRANDMEMBER", "z"},
                                                      {"ZRANDMEMBER", "z", "3", "WITHSCORES"},
                                                      {"ZRANDMEMBER", "z", "-7"}})
    CHECK(state.read(pick, 5) == state.read(pick, 5));
  CHECK(state.read({"ZRANDMEMBER", "z", "-7"}, 5).rfind("*7\r\n", 0) == 0);
  CHECK(state.read({"ZRANDMEMBER", "z", "3"}, 5).rfind("*3\r\n", 0) == 0);
  CHECK(state.read({"ZRANDMEMBER", "z", "-2000000"}, 5) == "-ERR value is out of range\r\n");
  for (int i = 0; i < 100; ++i)
    state.apply({"SET", "key:" + std::to_string(i), "v"}, 1'000);
  // Walk the key space with COUNT 7 while deleting and adding keys: every key present for the
  // whole walk is returned at least once.
  std::vector<std::string> seen;
  std::string cursor = "0";
  int calls = 0;
  do {
    const std::string reply = state.read({"SCAN", cursor, "MATCH", "key:*", "COUNT", "7"}, 1'000);
    const std::size_t cursor_start = reply.find("\r\n", 5) + 2;
    cursor = reply.substr(cursor_start, reply.find("\r\n", cursor_start) - cursor_start);
    for (std::size_t at = reply.find("key:"); at != std::string::npos;
         at = reply.find("key:", at + 1))
      seen.push_back(reply.substr(at, reply.find("\r\n", at) - at));
    state.apply({"DEL", "key:" + std::to_string(calls)}, 1'000);
    state.apply({"SET", "new:" + std::to_string(calls), "v"}, 1'000);
    ++calls;
  } while (cursor != "0" && calls < 1000);
  std::sort(seen.begin(), seen.end());
  seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
  for (int i = calls; i < 100; ++i)
    CHECK(std::binary_search(seen.begin(), seen.end(), "key:" + std::to_string(i)));
  CHECK(calls > 10);
}
