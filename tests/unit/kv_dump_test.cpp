// DUMP and RESTORE (kv_dump.cpp)
//
// Error texts and their order were taken from redis-server 7.0.15 byte for byte. Payloads are
// prez's own (not Redis's RDB encoding), so round trips are checked here, not against Redis.

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "actors/state_machine/kv_commands.hpp"
#include "actors/state_machine/kv_state.hpp"
#include "actors/state_machine/snapshot_format.hpp"
#include "actors/storage/log_store.hpp"
#include "tests/unit/kv_script.hpp"

using namespace prez;
using namespace prez::kv_script;

namespace {

const std::string payload_wrong = "-ERR DUMP payload version or checksum are wrong\r\n";
const std::string bad_data = "-ERR Bad data format\r\n";

/// Runs one command the way the server routes it (as kv_script::run_script does) at `time_ms`.
std::string run(kv_state& state, const argv_type& argv, std::uint64_t time_ms = now_ms) {
  std::string error;
  const command_kind kind = classify(argv, error);
  const std::string reply = kind == command_kind::unknown ? error
                            : kind == command_kind::read  ? state.read(argv, time_ms)
                                                          : state.apply(argv, time_ms);
  REQUIRE(state.bytes() == state.keys().recount_bytes());
  return reply;
}

std::string dump(kv_state& state, const std::string& key) {
  return bulk_body(run(state, {"DUMP", key}));
}

/// A payload around `body` with prez's prefix and a valid checksum (`magic` and `version`
/// replaceable to test the prefix checks).
std::string seal(const std::string& body, const std::string& magic = "PREZ",
                 char version = '\x01') {
  std::string out = magic + version + body;
  const std::uint32_t crc = storage::crc32c(out.data(), out.size());
  for (int shift = 0; shift < 32; shift += 8)
    out.push_back(static_cast<char>((crc >> shift) & 0xffu));
  return out;
}

/// A body [type, [items...]] packed by hand.
std::string body_of(std::uint64_t type, const std::vector<std::string>& items) {
  std::string out;
  snapshot::string_writer writer{out};
  snapshot::packer pk(writer);
  pk.pack_array(2);
  pk.pack(type);
  pk.pack_array(static_cast<std::uint32_t>(items.size()));
  for (const auto& item : items)
    pk.pack(item);
  return out;
}

/// Builds one key of each type in `state` (the zset with equal scores, inf, -inf and -0).
void fill_every_type(kv_state& state) {
  REQUIRE(run(state, {"SET", "str", std::string("a\0b\r\n\xff", 6)}) == "+OK\r\n");
  REQUIRE(run(state, {"SET", "empty", ""}) == "+OK\r\n");
  REQUIRE(run(state, {"SET", "big", std::string(200 * 1024, 'x')}) == "+OK\r\n");
  argv_type push = {"RPUSH", "list"};
  for (int i = 0; i < 5000; ++i)
    push.push_back(std::to_string(i % 7 == 0 ? -i : i));
  push.push_back("");
  REQUIRE(run(state, push) == ":5001\r\n");
  REQUIRE(run(state, {"HSET", "hash", "f1", "v1", "", "empty field", "f2", ""}) == ":3\r\n");
  REQUIRE(run(state, {"SADD", "set", "b", "a", "", std::string("\0z", 2)}) == ":4\r\n");
  REQUIRE(run(state, {"ZADD", "zset", "1", "b", "1", "a", "1", "c", "inf", "top", "-inf", "bottom",
                      "-0", "zero", "2.5", "x"}) == ":7\r\n");
}

const std::vector<std::string> every_type = {"str", "empty", "big", "list", "hash", "set", "zset"};

} // namespace

TEST_CASE("dump: DUMP then RESTORE gives back every type byte for byte", "[kv_dump]") {
  kv_state state;
  fill_every_type(state);
  for (const auto& key : every_type) {
    INFO(key);
    const std::string payload = dump(state, key);
    CHECK(payload.substr(0, 5) == std::string("PREZ\x01"));
    CHECK(run(state, {"RESTORE", key + "-copy", "0", payload}) == "+OK\r\n");
    // Same value, same seed: the same payload.
    CHECK(dump(state, key + "-copy") == payload);
    CHECK(run(state, {"TYPE", key + "-copy"}) == run(state, {"TYPE", key}));
    CHECK(run(state, {"PTTL", key + "-copy"}) == ":-1\r\n");
    const kv::entry* original = state.keys().find(key);
    const kv::entry* copy = state.keys().find(key + "-copy");
    REQUIRE(original != nullptr);
    REQUIRE(copy != nullptr);
    CHECK(copy->bytes == original->bytes);
  }
  CHECK(run(state, {"GET", "str-copy"}) == run(state, {"GET", "str"}));
  CHECK(run(state, {"GET", "empty-copy"}) == "$0\r\n\r\n");
  CHECK(run(state, {"LRANGE", "list-copy", "0", "-1"}) ==
        run(state, {"LRANGE", "list", "0", "-1"}));
  CHECK(run(state, {"HGETALL", "hash-copy"}) == run(state, {"HGETALL", "hash"}));
  CHECK(run(state, {"SMEMBERS", "set-copy"}) == run(state, {"SMEMBERS", "set"}));
  CHECK(run(state, {"ZRANGE", "zset-copy", "0", "-1", "WITHSCORES"}) ==
        "*14\r\n$6\r\nbottom\r\n$4\r\n-inf\r\n$4\r\nzero\r\n$1\r\n0\r\n$1\r\na\r\n$1\r\n1\r\n"
        "$1\r\nb\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\n1\r\n$1\r\nx\r\n$3\r\n2.5\r\n$3\r\ntop\r\n$3\r\n"
        "inf\r\n");
  // The sorted set keeps its seed, so its skip list has the same shape on every replica.
  const auto& original = std::get<kv::zset_value>(state.keys().find("zset")->data);
  const auto& copy = std::get<kv::zset_value>(state.keys().find("zset-copy")->data);
  CHECK(copy.seed() == original.seed());
  CHECK(copy.valid());
  CHECK(run(state, {"ZRANK", "zset-copy", "x"}) == ":5\r\n");
}

TEST_CASE("dump: RESTORE on another replica builds the same state", "[kv_dump]") {
  kv_state source;
  fill_every_type(source);
  kv_state a;
  kv_state b;
  for (const auto& key : every_type) {
    const std::string payload = dump(source, key);
    CHECK(run(a, {"RESTORE", key, "0", payload}) == "+OK\r\n");
    CHECK(run(b, {"RESTORE", key, "0", payload}) == "+OK\r\n");
    CHECK(dump(a, key) == dump(b, key));
    CHECK(dump(a, key) == payload);
  }
  CHECK(a.bytes() == source.bytes());
  CHECK(std::get<kv::zset_value>(a.keys().find("zset")->data).seed() ==
        std::get<kv::zset_value>(source.keys().find("zset")->data).seed());
}

TEST_CASE("dump: DUMP is a read and RESTORE a write", "[kv_dump]") {
  std::string error;
  CHECK(classify({"DUMP", "k"}, error) == command_kind::read);
  CHECK(classify({"RESTORE", "k", "0", "x"}, error) == command_kind::write);
  CHECK(classify({"RESTORE", "k", "0"}, error) == command_kind::unknown);
  CHECK(error == "-ERR wrong number of arguments for 'restore' command\r\n");
}

TEST_CASE("dump: RESTORE with TTL ABSTTL REPLACE and BUSYKEY as Redis 7.0", "[kv_dump]") {
  kv_state state;
  REQUIRE(run(state, {"SET", "s", "hello"}) == "+OK\r\n");
  const std::string p = dump(state, "s");
  const std::string max = std::to_string(std::numeric_limits<long long>::max());
  const std::string max_relative = std::to_string(std::numeric_limits<long long>::max() - now_ms);
  run_script(
      state,
      {
          {{"RESTORE", "s", "0", p}, "-BUSYKEY Target key name already exists.\r\n"},
          {{"RESTORE", "s", "-1", p}, "-BUSYKEY Target key name already exists.\r\n"},
          {{"RESTORE", "s", "0", p, "REPLACE"}, "+OK\r\n"},
          {{"RESTORE", "a", "0", p}, "+OK\r\n"},
          {{"PTTL", "a"}, ":-1\r\n"},
          {{"GET", "a"}, "$5\r\nhello\r\n"},
          {{"RESTORE", "b", "5000", p}, "+OK\r\n"},
          {{"PTTL", "b"}, ":5000\r\n"},
          {{"PEXPIRETIME", "b"}, ":1005000\r\n"},
          {{"RESTORE", "c", "2000000", p, "ABSTTL"}, "+OK\r\n"},
          {{"PEXPIRETIME", "c"}, ":2000000\r\n"},
          {{"RESTORE", "d", "0", p, "ABSTTL"}, "+OK\r\n"},
          {{"PTTL", "d"}, ":-1\r\n"},
          // A deadline already past: OK, and no key (REPLACE deleted the old one all the same).
          {{"RESTORE", "c", "1000", p, "ABSTTL", "REPLACE"}, "+OK\r\n"},
          {{"EXISTS", "c"}, ":0\r\n"},
          {{"RESTORE", "e", "1000000", p, "ABSTTL"}, "+OK\r\n"},
          {{"EXISTS", "e"}, ":0\r\n"},
          {{"RESTORE", "e", "999999", p, "absttl"}, "+OK\r\n"},
          {{"EXISTS", "e"}, ":0\r\n"},
          // Redis's relative ttl wraps past the maximum into the past: no key either.
          {{"RESTORE", "f", max, p}, "+OK\r\n"},
          {{"EXISTS", "f"}, ":0\r\n"},
          {{"RESTORE", "f", max_relative, p}, "+OK\r\n"},
          {{"PEXPIRETIME", "f"}, ":" + max + "\r\n"},
          {{"RESTORE", "g", max, p, "ABSTTL"}, "+OK\r\n"},
          {{"PEXPIRETIME", "g"}, ":" + max + "\r\n"},
          // REPLACE over another type; options in any case and repeated.
          {{"RPUSH", "l", "x"}, ":1\r\n"},
          {{"RESTORE", "l", "0", p, "replace", "REPLACE"}, "+OK\r\n"},
          {{"TYPE", "l"}, "+string\r\n"},
          {{"RESTORE", "l", "0", p, "REPLACE", "ABSTTL", "absttl", "Replace"}, "+OK\r\n"},
          // IDLETIME and FREQ are accepted and change nothing.
          {{"RESTORE", "h", "0", p, "IDLETIME", "10"}, "+OK\r\n"},
          {{"RESTORE", "i", "0", p, "FREQ", "255"}, "+OK\r\n"},
          {{"RESTORE", "j", "0", p, "idletime", "10", "IDLETIME", "0"}, "+OK\r\n"},
          {{"RESTORE", "k", "100", p, "FREQ", "0", "freq", "1", "ABSTTL"}, "+OK\r\n"},
          {{"EXISTS", "k"}, ":0\r\n"},
          {{"OBJECT", "IDLETIME", "h"}, ":0\r\n"},
      });
  // A key whose deadline passed is gone: no BUSYKEY.
  REQUIRE(run(state, {"SET", "x", "old", "PX", "10"}) == "+OK\r\n");
  CHECK(run(state, {"RESTORE", "x", "0", p}, now_ms + 5) ==
        "-BUSYKEY Target key name already exists.\r\n");
  CHECK(run(state, {"RESTORE", "x", "0", p}, now_ms + 10) == "+OK\r\n");
  CHECK(run(state, {"GET", "x"}, now_ms + 10) == "$5\r\nhello\r\n");
  // The relative ttl counts from the entry's time.
  CHECK(run(state, {"RESTORE", "y", "50", p}, now_ms + 100) == "+OK\r\n");
  CHECK(run(state, {"PEXPIRETIME", "y"}, now_ms + 100) == ":1000150\r\n");
  CHECK(run(state, {"EXISTS", "y"}, now_ms + 150) == ":0\r\n");
}

TEST_CASE("dump: RESTORE answers Redis 7.0's errors in Redis's order", "[kv_dump]") {
  kv_state state;
  REQUIRE(run(state, {"SET", "k", "v"}) == "+OK\r\n");
  const std::string p = dump(state, "k");
  run_script(
      state,
      {
          {{"DUMP"}, "-ERR wrong number of arguments for 'dump' command\r\n"},
          {{"DUMP", "k", "extra"}, "-ERR wrong number of arguments for 'dump' command\r\n"},
          {{"DUMP", "nokey"}, "$-1\r\n"},
          {{"RESTORE", "k"}, "-ERR wrong number of arguments for 'restore' command\r\n"},
          {{"RESTORE", "k", "0"}, "-ERR wrong number of arguments for 'restore' command\r\n"},
          // Options first, then BUSYKEY, then the ttl, then the payload.
          {{"RESTORE", "k", "0", "x", "replace", "bogus"}, "-ERR syntax error\r\n"},
          {{"RESTORE", "k", "x", "x", "bogus"}, "-ERR syntax error\r\n"},
          {{"RESTORE", "k", "0", "x", "idletime"}, "-ERR syntax error\r\n"},
          {{"RESTORE", "k", "0", "x", "freq"}, "-ERR syntax error\r\n"},
          {{"RESTORE", "k", "0", "x", "idletime", "-1"},
           "-ERR Invalid IDLETIME value, must be >= 0\r\n"},
          {{"RESTORE", "k", "0", "x", "idletime", "abc"},
           "-ERR value is not an integer or out of range\r\n"},
          {{"RESTORE", "k", "0", "x", "freq", "256"},
           "-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n"},
          {{"RESTORE", "k", "0", "x", "freq", "-1"},
           "-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n"},
          {{"RESTORE", "k", "0", "x", "freq", "abc"},
           "-ERR value is not an integer or out of range\r\n"},
          {{"RESTORE", "k", "0", "x", "idletime", "5", "freq", "5"}, "-ERR syntax error\r\n"},
          {{"RESTORE", "k", "0", "x", "freq", "5", "idletime", "5"}, "-ERR syntax error\r\n"},
          {{"RESTORE", "k", "0", "x", "idletime", "5", "idletime", "6"},
           "-BUSYKEY Target key name already exists.\r\n"},
          {{"RESTORE", "k", "-1", "x"}, "-BUSYKEY Target key name already exists.\r\n"},
          {{"RESTORE", "nk", "-1", "x"}, "-ERR Invalid TTL value, must be >= 0\r\n"},
          {{"RESTORE", "nk", "abc", "x"}, "-ERR value is not an integer or out of range\r\n"},
          {{"RESTORE", "nk", "-1", "x", "REPLACE"}, "-ERR Invalid TTL value, must be >= 0\r\n"},
          {{"RESTORE", "nk", "0", "x"}, payload_wrong},
          {{"RESTORE", "nk", "0", ""}, payload_wrong},
          {{"RESTORE", "k", "0", "x", "absttl", "replace"}, payload_wrong},
          // Redis 7.0.15's DUMP of "hello": not prez's format.
          {{"RESTORE", "nk", "0", std::string("\x00\x05hello\n\x00\x63r\xdfve4 \n", 17)},
           payload_wrong},
          // A refused RESTORE ... REPLACE leaves the old key in place.
          {{"RESTORE", "k", "0", "x", "REPLACE"}, payload_wrong},
          {{"GET", "k"}, "$1\r\nv\r\n"},
          {{"RESTORE", "k", "0", seal(std::string("\xc1", 1)), "REPLACE"}, bad_data},
          {{"GET", "k"}, "$1\r\nv\r\n"},
          {{"RESTORE", "nk", "0", p}, "+OK\r\n"},
      });
}

TEST_CASE("dump: RESTORE refuses a payload with a wrong prefix or checksum", "[kv_dump]") {
  kv_state state;
  const std::string body = body_of(0, {"text"});
  CHECK(run(state, {"RESTORE", "k", "0", seal(body)}) == "+OK\r\n");
  CHECK(run(state, {"GET", "k"}) == "$4\r\ntext\r\n");
  CHECK(run(state, {"RESTORE", "a", "0", seal(body, "PREZ", '\x02')}) == payload_wrong);
  CHECK(run(state, {"RESTORE", "a", "0", seal(body, "PREZ", '\x00')}) == payload_wrong);
  CHECK(run(state, {"RESTORE", "a", "0", seal(body, "prez")}) == payload_wrong);
  CHECK(run(state, {"RESTORE", "a", "0", seal(body, "PRE")}) == payload_wrong);
  CHECK(run(state, {"RESTORE", "a", "0", seal("", "PREZ")}) == bad_data);
  std::string wrong_sum = seal(body);
  wrong_sum.back() ^= 0x01;
  CHECK(run(state, {"RESTORE", "a", "0", wrong_sum}) == payload_wrong);
  CHECK(run(state, {"RESTORE", "a", "0", std::string("PREZ\x01\x00\x00\x00", 8)}) == payload_wrong);
  CHECK(run(state, {"EXISTS", "a"}) == ":0\r\n");
}

TEST_CASE("dump: RESTORE answers Bad data format for a checksummed payload that is no value",
          "[kv_dump]") {
  kv_state state;
  auto refused = [&](const std::string& body) {
    return run(state, {"RESTORE", "k", "0", seal(body), "REPLACE"});
  };
  auto packed = [](auto fill) {
    std::string out;
    snapshot::string_writer writer{out};
    snapshot::packer pk(writer);
    fill(pk);
    return out;
  };
  CHECK(refused(std::string("\xc1", 1)) == bad_data); // never a msgpack byte
  CHECK(refused(body_of(5, {"a"})) == bad_data);      // unknown type
  CHECK(refused(body_of(9, {})) == bad_data);
  CHECK(refused(body_of(1, {})) == bad_data); // empty collections: Redis refuses them too
  CHECK(refused(body_of(2, {})) == bad_data);
  CHECK(refused(body_of(3, {})) == bad_data);
  CHECK(refused(body_of(4, {})) == bad_data);
  CHECK(refused(body_of(4, {"5"})) == bad_data);
  CHECK(refused(body_of(2, {"b", "1", "a", "2"})) == bad_data); // fields out of order
  CHECK(refused(body_of(2, {"a", "1", "a", "2"})) == bad_data); // repeated
  CHECK(refused(body_of(2, {"a"})) == bad_data);                // a field without its value
  CHECK(refused(body_of(3, {"b", "a"})) == bad_data);
  CHECK(refused(body_of(3, {"a", "a"})) == bad_data);
  CHECK(refused(body_of(4, {"x", "a", "1"})) == bad_data); // seed not a number
  CHECK(refused(body_of(4, {"-1", "a", "1"})) == bad_data);
  CHECK(refused(body_of(4, {"18446744073709551616", "a", "1"})) == bad_data);
  CHECK(refused(body_of(4, {"7", "a", "nan"})) == bad_data);
  CHECK(refused(body_of(4, {"7", "a", "1,5"})) == bad_data);
  CHECK(refused(body_of(4, {"7", "a", "1", "b"})) == bad_data); // a member without its score
  CHECK(refused(body_of(4, {"7", "b", "1", "a", "2"})) == bad_data);
  CHECK(refused(body_of(0, {"a"}) + "x") == bad_data); // bytes after the value
  CHECK(refused(body_of(0, {"a"}).substr(0, 4)) == bad_data);
  CHECK(refused(packed([](auto& pk) { pk.pack("abc"); })) == bad_data);
  CHECK(refused(packed([](auto& pk) { pk.pack_array(1).pack(0); })) == bad_data);
  CHECK(refused(packed([](auto& pk) { pk.pack_array(3).pack(0).pack_array(0).pack(0); })) ==
        bad_data);
  CHECK(refused(packed([](auto& pk) { pk.pack_array(2).pack(0).pack_array(1).pack(1); })) ==
        bad_data);
  CHECK(refused(packed([](auto& pk) {
          pk.pack_array(2).pack(0).pack_array(1).pack_array(1).pack("a");
        })) == bad_data);
  CHECK(refused(packed([](auto& pk) { pk.pack_array(2).pack(-1).pack_array(0); })) == bad_data);
  CHECK(refused(packed([](auto& pk) { pk.pack_array(2).pack_array(0).pack(0); })) == bad_data);
  CHECK(refused(packed([](auto& pk) { pk.pack_array(2).pack(1).pack_map(0); })) == bad_data);
  CHECK(refused(packed([](auto& pk) { pk.pack_array(2).pack(1).pack_array(1).pack_nil(); })) ==
        bad_data);
  CHECK(refused(packed([](auto& pk) {
          pk.pack_array(2).pack(1).pack_array(1).pack_bin(1).pack_bin_body("a", 1);
        })) == bad_data);
  // A declared count far beyond the bytes: refused, nothing allocated for it.
  CHECK(refused(packed([](auto& pk) { pk.pack_array(2).pack(1).pack_array(0xffffffffu); })) ==
        bad_data);
  CHECK(refused(std::string("\x92\x01\xdb\xff\xff\xff\xff", 7)) == bad_data);
  CHECK(run(state, {"EXISTS", "k"}) == ":0\r\n");
  // What is valid: a string in pieces, an empty string.
  CHECK(refused(body_of(0, {"ab", "", "c"})) == "+OK\r\n");
  CHECK(run(state, {"GET", "k"}) == "$3\r\nabc\r\n");
  CHECK(refused(body_of(0, {})) == "+OK\r\n");
  CHECK(run(state, {"GET", "k"}) == "$0\r\n\r\n");
  CHECK(refused(body_of(4, {"7", "a", "-0", "b", "-inf"})) == "+OK\r\n");
  CHECK(run(state, {"ZRANGE", "k", "0", "-1", "WITHSCORES"}) ==
        "*4\r\n$1\r\nb\r\n$4\r\n-inf\r\n$1\r\na\r\n$1\r\n0\r\n");
}

TEST_CASE("dump: damaged DUMP payloads are refused and never crash", "[kv_dump]") {
  kv_state source;
  fill_every_type(source);
  REQUIRE(run(source, {"HSET", "small", "f", "v"}) == ":1\r\n");
  REQUIRE(run(source, {"ZADD", "smallz", "1", "m", "2", "n"}) == ":2\r\n");
  argv_type push = {"RPUSH", "smalll"};
  for (int i = 0; i < 50; ++i)
    push.push_back(std::to_string(i));
  REQUIRE(run(source, push) == ":50\r\n");
  kv_state state;
  REQUIRE(run(state, {"SET", "keep", "me"}) == "+OK\r\n");
  const std::size_t bytes_before = state.bytes();
  for (const std::string key :
       {"str", "empty", "smalll", "hash", "set", "zset", "small", "smallz"}) {
    INFO(key);
    const std::string payload = dump(source, key);
    // Every single damaged byte (three ways) breaks the checksum: CRC-32C catches every burst of
    // up to 32 bits.
    for (std::size_t at = 0; at < payload.size(); ++at) {
      for (const unsigned char flip : {0x01, 0x80, 0xff}) {
        std::string damaged = payload;
        damaged[at] = static_cast<char>(static_cast<unsigned char>(damaged[at]) ^ flip);
        INFO("byte " << at << " xor " << int(flip));
        REQUIRE(run(state, {"RESTORE", "fz", "0", damaged}) == payload_wrong);
      }
    }
    // Cut at every length.
    for (std::size_t size = 0; size < payload.size(); ++size) {
      INFO("cut at " << size);
      const std::string reply = run(state, {"RESTORE", "fz", "0", payload.substr(0, size)});
      REQUIRE(reply.rfind("-ERR ", 0) == 0);
    }
    REQUIRE(run(state, {"EXISTS", "fz"}) == ":0\r\n");
  }
  CHECK(state.bytes() == bytes_before);
  CHECK(state.size() == 1);
}

TEST_CASE("dump: random and mutated payloads with valid checksums never crash", "[kv_dump]") {
  kv_state source;
  fill_every_type(source);
  REQUIRE(run(source, {"HSET", "small", "f", "v", "g", "w"}) == ":2\r\n");
  REQUIRE(run(source, {"ZADD", "smallz", "1", "m", "2", "n"}) == ":2\r\n");
  REQUIRE(run(source, {"RPUSH", "smalll", "a", "b", "c"}) == ":3\r\n");
  REQUIRE(run(source, {"SADD", "smalls", "a", "b", "c"}) == ":3\r\n");
  std::vector<std::string> bodies;
  for (const std::string key : {"str", "empty", "small", "smallz", "smalll", "smalls"}) {
    const std::string payload = dump(source, key);
    bodies.push_back(payload.substr(5, payload.size() - 9));
  }
  std::mt19937_64 random(20261130); // fixed: a failure replays
  kv_state state;
  std::size_t accepted = 0;
  for (int round = 0; round < 50000; ++round) {
    std::string body;
    const auto kind = random() % 4;
    if (kind == 0) { // random bytes
      body.resize(random() % 40);
      for (char& c : body)
        c = static_cast<char>(random());
    } else { // a real body with a few bytes changed, inserted or cut
      body = bodies[random() % bodies.size()];
      const auto edits = 1 + random() % 3;
      for (std::uint64_t i = 0; i < edits && !body.empty(); ++i) {
        const std::size_t at = random() % body.size();
        if (kind == 1)
          body[at] = static_cast<char>(random());
        else if (kind == 2)
          body.insert(body.begin() + static_cast<std::ptrdiff_t>(at), static_cast<char>(random()));
        else
          body.erase(at, 1 + random() % 4);
      }
    }
    INFO("round " << round);
    const std::string reply = run(state, {"RESTORE", "fz", "0", seal(body), "REPLACE"});
    if (reply == "+OK\r\n") {
      ++accepted;
      // What was accepted is a valid value: it dumps and restores again.
      const std::string again = dump(state, "fz");
      REQUIRE(run(state, {"RESTORE", "fz2", "0", again, "REPLACE"}) == "+OK\r\n");
      REQUIRE(dump(state, "fz2") == again);
      if (auto* e = state.keys().find("fz"); std::holds_alternative<kv::zset_value>(e->data))
        REQUIRE(std::get<kv::zset_value>(e->data).valid());
    } else {
      REQUIRE(reply == bad_data);
    }
    // Unsealed random bytes: refused by the prefix or checksum.
    REQUIRE(run(state, {"RESTORE", "fz3", "0", body}) == payload_wrong);
  }
  CHECK(accepted > 0);
  CHECK(run(state, {"EXISTS", "fz3"}) == ":0\r\n");
}

TEST_CASE("dump: RESTORE keeps the byte count exact", "[kv_dump]") {
  kv_state source;
  fill_every_type(source);
  kv_state state;
  std::size_t expected = 0;
  for (const auto& key : every_type) {
    const std::string payload = dump(source, key);
    REQUIRE(run(state, {"RESTORE", key, "0", payload}) == "+OK\r\n");
    expected += key.size() + source.keys().find(key)->bytes;
    CHECK(state.bytes() == expected);
    // REPLACE with itself: the same count.
    REQUIRE(run(state, {"RESTORE", key, "0", payload, "REPLACE"}) == "+OK\r\n");
    CHECK(state.bytes() == expected);
  }
  CHECK(state.bytes() == source.bytes());
  // REPLACE with a smaller value, then with a deadline already past (the key goes).
  REQUIRE(run(state, {"SET", "tiny", "t"}) == "+OK\r\n");
  const std::string tiny = dump(state, "tiny");
  REQUIRE(run(state, {"RESTORE", "list", "0", tiny, "REPLACE"}) == "+OK\r\n");
  CHECK(state.keys().find("list")->bytes == 1);
  REQUIRE(run(state, {"RESTORE", "hash", "1", tiny, "REPLACE", "ABSTTL"}) == "+OK\r\n");
  CHECK(state.keys().find("hash") == nullptr);
  // A deadline that passes: active expiry removes it and its bytes.
  REQUIRE(run(state, {"RESTORE", "soon", "10", tiny}) == "+OK\r\n");
  REQUIRE(run(state, {"EXISTS", "soon"}, now_ms + 20) == ":0\r\n");
  state.advance_clock(now_ms + 20);
  CHECK(state.keys().find("soon") == nullptr);
  CHECK(state.bytes() == state.keys().recount_bytes());
}
