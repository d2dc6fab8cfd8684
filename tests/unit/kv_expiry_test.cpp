// Expiry on the cluster clock (docs/expiry.md): deadlines from entries, reads hiding keys by the
// leader's clock without changing state, lazy and bounded active deletion, TTL arithmetic.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "actors/state_machine/kv_state.hpp"
#include "config/limits.hpp"

using namespace prez;

TEST_CASE("a key set with EX is visible before its deadline and absent at it", "[kv_expiry]") {
  kv_state state;
  CHECK(state.apply({"SET", "k", "v", "EX", "10"}, 1'000) == "+OK\r\n");
  CHECK(state.read({"GET", "k"}, 10'999) == "$1\r\nv\r\n");
  CHECK(state.read({"GET", "k"}, 11'000) == "$-1\r\n"); // deadline <= now: gone
  CHECK(state.read({"EXISTS", "k"}, 50'000) == ":0\r\n");
  CHECK(state.read({"TTL", "k"}, 50'000) == ":-2\r\n");
  CHECK(state.read({"DBSIZE"}, 50'000) == ":0\r\n");
  CHECK(state.read({"KEYS", "*"}, 50'000) == "*0\r\n");
  CHECK(state.read({"SCAN", "0"}, 50'000) == "*2\r\n$1\r\n0\r\n*0\r\n");
  CHECK(state.read({"RANDOMKEY"}, 50'000) == "$-1\r\n");
  // Reads never delete: the key is still held until an entry expires it.
  CHECK(state.size() == 1);
  CHECK(state.read({"DBSIZE"}, 10'999) == ":1\r\n");
}

TEST_CASE("TTL, PTTL, EXPIRETIME and PEXPIRETIME are computed from the read's clock",
          "[kv_expiry]") {
  kv_state state;
  state.apply({"SET", "k", "v", "PX", "10500"}, 1'000); // deadline 11'500
  CHECK(state.read({"PTTL", "k"}, 1'000) == ":10500\r\n");
  CHECK(state.read({"TTL", "k"}, 1'000) == ":11\r\n"); // Redis rounds: (ms + 500) / 1000
  CHECK(state.read({"TTL", "k"}, 2'100) == ":9\r\n");
  CHECK(state.read({"PTTL", "k"}, 11'499) == ":1\r\n");
  CHECK(state.read({"PEXPIRETIME", "k"}, 5'000) == ":11500\r\n");
  CHECK(state.read({"EXPIRETIME", "k"}, 5'000) == ":12\r\n");
  state.apply({"SET", "p", "v"}, 1'000);
  CHECK(state.read({"TTL", "p"}, 1'000) == ":-1\r\n");
  CHECK(state.read({"EXPIRETIME", "p"}, 1'000) == ":-1\r\n");
  CHECK(state.read({"PTTL", "missing"}, 1'000) == ":-2\r\n");
}

TEST_CASE("writes expire keys lazily at the entry's time", "[kv_expiry]") {
  kv_state state;
  state.apply({"SET", "k", "old", "PX", "100"}, 1'000);
  // The entry at 1'100 sees no key: SETNX creates, INCR starts from 0, TTL is gone.
  CHECK(state.apply({"SETNX", "k", "new"}, 1'100) == ":1\r\n");
  CHECK(state.read({"GET", "k"}, 1'100) == "$3\r\nnew\r\n");
  CHECK(state.read({"TTL", "k"}, 1'100) == ":-1\r\n");
  state.apply({"SET", "n", "41", "PX", "10"}, 2'000);
  CHECK(state.apply({"INCR", "n"}, 2'005) == ":42\r\n"); // alive: INCR keeps the deadline
  CHECK(state.read({"PTTL", "n"}, 2'005) == ":5\r\n");
  CHECK(state.apply({"INCR", "n"}, 2'010) == ":1\r\n"); // expired at 2'010
}

TEST_CASE("active expiry deletes due keys at the start of each apply, bounded", "[kv_expiry]") {
  kv_state state;
  const std::size_t keys_count = limits::kv_expire_per_apply_max + 10;
  for (std::size_t i = 0; i < keys_count; ++i)
    state.apply({"SET", "k" + std::to_string(i), "v", "PX", "100"}, 1'000);
  state.apply({"SET", "other", "v"}, 1'000);
  CHECK(state.size() == keys_count + 1);
  state.apply({"PING"}, 1'100);
  CHECK(state.size() == keys_count + 1 - limits::kv_expire_per_apply_max);
  state.apply({"PING"}, 1'100);
  CHECK(state.size() == 1);
  CHECK(state.bytes() == state.keys().recount_bytes());
}

TEST_CASE("the cluster clock never goes back: an older stamp cannot revive a key", "[kv_expiry]") {
  kv_state state;
  state.apply({"SET", "k", "v", "PX", "100"}, 1'000);
  state.apply({"PING"}, 2'000);        // k expires at the clock 2'000
  state.apply({"SET", "j", "v"}, 500); // a new leader with a clock behind
  CHECK(state.keys().clock_ms() == 2'000);
  CHECK(state.read({"GET", "k"}, 600) == "$-1\r\n"); // reads use max(now, cluster clock)
  CHECK(state.apply({"SET", "t", "v", "PX", "100"}, 500) == "+OK\r\n");
  CHECK(state.read({"PTTL", "t"}, 2'000) == ":100\r\n"); // relative to the cluster clock
}

TEST_CASE("EXPIRE with a deadline in the past deletes the key at once", "[kv_expiry]") {
  kv_state state;
  state.apply({"SET", "k", "v"}, 1'000);
  CHECK(state.apply({"PEXPIREAT", "k", "1000"}, 1'000) == ":1\r\n");
  CHECK(state.size() == 0);
  state.apply({"SET", "k", "v"}, 1'000);
  CHECK(state.apply({"EXPIRE", "k", "-5"}, 1'000) == ":1\r\n");
  CHECK(state.size() == 0);
  state.apply({"SET", "k", "v"}, 1'000);
  CHECK(state.apply({"SET", "k", "w", "PXAT", "999", "GET"}, 1'000) == "$1\r\nv\r\n");
  CHECK(state.size() == 0);
  CHECK(state.apply({"SET", "k", "w", "EX", "9223372036854775"}, 1'000) ==
        "-ERR invalid expire time in 'set' command\r\n");
}

TEST_CASE("SET KEEPTTL keeps the deadline, plain SET and RENAME handle it like Redis",
          "[kv_expiry]") {
  kv_state state;
  state.apply({"SET", "k", "v", "PX", "1000"}, 1'000);
  state.apply({"SET", "k", "w", "KEEPTTL"}, 1'100);
  CHECK(state.read({"PTTL", "k"}, 1'100) == ":900\r\n");
  state.apply({"RENAME", "k", "r"}, 1'200);
  CHECK(state.read({"PTTL", "r"}, 1'200) == ":800\r\n");
  state.apply({"SET", "r", "x"}, 1'300);
  CHECK(state.read({"PTTL", "r"}, 1'300) == ":-1\r\n");
  state.apply({"PEXPIRE", "r", "50"}, 1'300);
  CHECK(state.apply({"PERSIST", "r"}, 1'320) == ":1\r\n");
  CHECK(state.read({"GET", "r"}, 99'999) == "$1\r\nx\r\n");
}

TEST_CASE("read() without a clock hides only keys expired at the last applied time",
          "[kv_expiry]") {
  kv_state state;
  state.apply({"SET", "k", "v", "PX", "100"}, 1'000);
  CHECK(state.read({"GET", "k"}) == "$1\r\nv\r\n");
  state.apply({"SET", "other", "v"}, 1'100);
  CHECK(state.read({"GET", "k"}) == "$-1\r\n");
}
