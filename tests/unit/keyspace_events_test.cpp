// Keyspace notifications (docs/decisions.md D32): the node-local notify-keyspace-events flags,
// their text, and the channel/payload pairs each applied write queues in kv_state's outbox, in
// Redis 7.0's order and with its event names.

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "actors/state_machine/kv_state.hpp"

using namespace prez;

namespace {

using pairs = std::vector<std::pair<std::string, std::string>>;

/// The messages queued since the last call, as (channel, payload) pairs.
pairs published(kv_state& kv) {
  const auto flat = kv.take_published();
  REQUIRE(flat.size() % 2 == 0);
  pairs out;
  for (std::size_t i = 0; i < flat.size(); i += 2)
    out.emplace_back(flat[i], flat[i + 1]);
  return out;
}

/// The keyspace channel's events only (flags "K..."), as (key, event).
pairs events(kv_state& kv) {
  pairs out;
  for (auto& [channel, payload] : published(kv)) {
    REQUIRE(channel.rfind("__keyspace@0__:", 0) == 0);
    out.emplace_back(channel.substr(15), payload);
  }
  return out;
}

kv_state with_flags(const char* letters) {
  kv_state kv;
  kv.set_notify_flags(*kv::parse_notify_flags(letters));
  return kv;
}

} // namespace

TEST_CASE("notify-keyspace-events letters parse and print as Redis does", "[keyspace-events]") {
  CHECK(kv::parse_notify_flags("") == 0);
  CHECK(kv::parse_notify_flags("KEA") ==
        (kv::notify::keyspace | kv::notify::keyevent | kv::notify::all));
  CHECK_FALSE(kv::parse_notify_flags("KEQ"));
  CHECK_FALSE(kv::parse_notify_flags("k"));
  CHECK(kv::notify_flags_text(*kv::parse_notify_flags("KEA")) == "AKE");
  CHECK(kv::notify_flags_text(*kv::parse_notify_flags("EKg$lshzxetd")) == "AKE");
  CHECK(kv::notify_flags_text(*kv::parse_notify_flags("Ex$g")) == "g$xE");
  CHECK(kv::notify_flags_text(*kv::parse_notify_flags("mnK")) == "nKm");
  // Redis 7.0 prints "AK" but keeps n; prez stores the text, so the n must survive it.
  CHECK(kv::notify_flags_text(*kv::parse_notify_flags("KAn")) == "AnK");
  CHECK(*kv::parse_notify_flags(kv::notify_flags_text(*kv::parse_notify_flags("KAn"))) ==
        *kv::parse_notify_flags("KAn"));
  CHECK(kv::notify_flags_text(0).empty());
}

TEST_CASE("with notifications off nothing is queued", "[keyspace-events]") {
  kv_state kv;
  kv.apply({"SET", "k", "v", "PX", "10"}, 1000);
  kv.apply({"DEL", "k"}, 1001);
  kv.apply({"SET", "e", "v", "PX", "10"}, 1002);
  kv.advance_clock(2000);
  CHECK(kv.size() == 0);
  CHECK(kv.take_published().empty());
}

TEST_CASE("SET DEL EXPIRE and expiry publish Redis's keyspace and keyevent pairs in order",
          "[keyspace-events]") {
  kv_state kv = with_flags("KEA");
  CHECK(kv.apply({"SET", "k", "v"}, 1000) == "+OK\r\n");
  CHECK(published(kv) == pairs{{"__keyspace@0__:k", "set"}, {"__keyevent@0__:set", "k"}});
  kv.apply({"SET", "k", "w", "PX", "100"}, 1001);
  CHECK(published(kv) == pairs{{"__keyspace@0__:k", "set"},
                               {"__keyevent@0__:set", "k"},
                               {"__keyspace@0__:k", "expire"},
                               {"__keyevent@0__:expire", "k"}});
  kv.apply({"DEL", "k", "missing"}, 1002);
  CHECK(published(kv) == pairs{{"__keyspace@0__:k", "del"}, {"__keyevent@0__:del", "k"}});
  kv.apply({"SET", "t", "v"}, 1003);
  kv.apply({"EXPIRE", "t", "1"}, 1003);
  (void)published(kv);
  kv.advance_clock(2003); // active expiry
  CHECK(published(kv) == pairs{{"__keyspace@0__:t", "expired"}, {"__keyevent@0__:expired", "t"}});
  CHECK(kv.size() == 0);
}

TEST_CASE("only the keyevent channel with E and only keyspace with K", "[keyspace-events]") {
  kv_state e_only = with_flags("E$");
  e_only.apply({"SET", "k", "v"}, 1000);
  e_only.apply({"DEL", "k"}, 1000); // g is off: nothing
  CHECK(published(e_only) == pairs{{"__keyevent@0__:set", "k"}});
  kv_state none = with_flags("A"); // neither K nor E
  none.apply({"SET", "k", "v"}, 1000);
  CHECK(none.take_published().empty());
}

TEST_CASE("flag n publishes new for created keys only", "[keyspace-events]") {
  kv_state kv = with_flags("Kn$");
  kv.apply({"SET", "k", "v"}, 1000);
  kv.apply({"SET", "k", "w"}, 1000);
  CHECK(events(kv) == pairs{{"k", "new"}, {"k", "set"}, {"k", "set"}});
}

TEST_CASE("expiry in a write path publishes expired and reads publish nothing",
          "[keyspace-events]") {
  kv_state kv = with_flags("KA");
  kv.apply({"SET", "k", "v", "PX", "10"}, 1000);
  (void)events(kv);
  CHECK(kv.read({"GET", "k"}, 5000) == "$-1\r\n");
  CHECK(kv.take_published().empty());
  // Stamped earlier than the deadline would be, then a write that finds it expired later.
  kv_state lazy = with_flags("KA");
  lazy.apply({"SET", "a", "1", "PX", "10"}, 1000);
  (void)events(lazy);
  lazy.apply({"APPEND", "a", "x"}, 1011);
  CHECK(events(lazy) == pairs{{"a", "expired"}, {"a", "append"}});
}

TEST_CASE("string commands publish their Redis events", "[keyspace-events]") {
  kv_state kv = with_flags("KA");
  kv.apply({"INCR", "n"}, 1000);
  kv.apply({"DECRBY", "n", "3"}, 1000);
  kv.apply({"INCRBYFLOAT", "n", "1.5"}, 1000);
  kv.apply({"APPEND", "s", "ab"}, 1000);
  kv.apply({"SETRANGE", "s", "1", "z"}, 1000);
  kv.apply({"SETRANGE", "s", "1", ""}, 1000); // no change: nothing
  kv.apply({"MSET", "a", "1", "b", "2"}, 1000);
  kv.apply({"GETDEL", "a"}, 1000);
  kv.apply({"GETEX", "b", "PX", "100"}, 1000);
  kv.apply({"GETEX", "b", "PERSIST"}, 1000);
  kv.apply({"GETEX", "b", "PERSIST"}, 1000); // no deadline: nothing
  kv.apply({"SETEX", "c", "10", "v"}, 1000);
  kv.apply({"SETNX", "c", "v"}, 1000); // exists: nothing
  kv.apply({"SETBIT", "bits", "3", "1"}, 1000);
  kv.apply({"BITOP", "NOT", "dest", "bits"}, 1000);
  kv.apply({"BITFIELD", "bf", "SET", "u8", "0", "1"}, 1000);
  kv.apply({"BITFIELD", "bf", "GET", "u8", "0"}, 1000); // no write: nothing
  CHECK(events(kv) == pairs{{"n", "incrby"},
                            {"n", "incrby"},
                            {"n", "incrbyfloat"},
                            {"s", "append"},
                            {"s", "setrange"},
                            {"a", "set"},
                            {"b", "set"},
                            {"a", "del"},
                            {"b", "expire"},
                            {"b", "persist"},
                            {"c", "set"},
                            {"c", "expire"},
                            {"bits", "setbit"},
                            {"dest", "set"},
                            {"bf", "setbit"}});
}

TEST_CASE("key commands publish their Redis events and FLUSHALL none", "[keyspace-events]") {
  kv_state kv = with_flags("KA");
  kv.apply({"SET", "a", "1"}, 1000);
  kv.apply({"RENAME", "a", "b"}, 1000);
  kv.apply({"COPY", "b", "c"}, 1000);
  kv.apply({"PEXPIRE", "c", "100"}, 1000);
  kv.apply({"PERSIST", "c"}, 1000);
  kv.apply({"PERSIST", "c"}, 1000); // no deadline: nothing
  kv.apply({"EXPIRE", "c", "-1"}, 1000);
  kv.apply({"UNLINK", "b"}, 1000);
  CHECK(events(kv) == pairs{{"a", "set"},
                            {"a", "rename_from"},
                            {"b", "rename_to"},
                            {"c", "copy_to"},
                            {"c", "expire"},
                            {"c", "persist"},
                            {"c", "del"},
                            {"b", "del"}});
  kv.apply({"SET", "x", "1"}, 1000);
  kv.apply({"RPUSH", "l", "3", "1", "2"}, 1000);
  (void)events(kv);
  kv.apply({"FLUSHALL"}, 1000);
  CHECK(events(kv).empty());
}

TEST_CASE("DUMP and RESTORE and SORT STORE publish restore and sortstore", "[keyspace-events]") {
  kv_state kv = with_flags("KA");
  kv.apply({"RPUSH", "l", "3", "1", "2"}, 1000);
  kv.apply({"SORT", "l", "STORE", "sorted"}, 1000);
  kv.apply({"SORT", "missing", "STORE", "sorted"}, 1000); // empty result: the store key goes
  const auto dump = kv.read({"DUMP", "l"}, 1000);
  REQUIRE(dump.front() == '$');
  const auto header_end = dump.find("\r\n");
  const auto payload = dump.substr(header_end + 2, dump.size() - header_end - 4);
  kv.apply({"RESTORE", "r", "0", payload}, 1000);
  CHECK(events(kv) ==
        pairs{{"l", "rpush"}, {"sorted", "sortstore"}, {"sorted", "del"}, {"r", "restore"}});
}

TEST_CASE("list commands publish pushes pops and del when emptied", "[keyspace-events]") {
  kv_state kv = with_flags("KA");
  kv.apply({"RPUSH", "l", "a", "b", "c"}, 1000);
  kv.apply({"LPUSH", "l", "z"}, 1000);
  kv.apply({"LPUSHX", "nope", "z"}, 1000); // absent: nothing
  kv.apply({"LSET", "l", "0", "y"}, 1000);
  kv.apply({"LINSERT", "l", "BEFORE", "a", "x"}, 1000);
  kv.apply({"LREM", "l", "1", "x"}, 1000);
  kv.apply({"LTRIM", "l", "0", "2"}, 1000);
  kv.apply({"LMOVE", "l", "m", "LEFT", "RIGHT"}, 1000);
  kv.apply({"RPOP", "l", "5"}, 1000);
  kv.apply({"LMPOP", "1", "m", "LEFT"}, 1000);
  CHECK(events(kv) == pairs{{"l", "rpush"},
                            {"l", "lpush"},
                            {"l", "lset"},
                            {"l", "linsert"},
                            {"l", "lrem"},
                            {"l", "ltrim"},
                            {"m", "rpush"},
                            {"l", "lpop"},
                            {"l", "rpop"},
                            {"l", "del"},
                            {"m", "lpop"},
                            {"m", "del"}});
}

TEST_CASE("a blocked pop publishes when the push serves it", "[keyspace-events]") {
  kv_state kv = with_flags("KA");
  CHECK_FALSE(kv.apply_client(1, 1, {"BLPOP", "q", "0"}, 1000));
  CHECK(kv.apply_client(2, 1, {"RPUSH", "q", "job"}, 1001) == ":1\r\n");
  CHECK(events(kv) == pairs{{"q", "rpush"}, {"q", "lpop"}, {"q", "del"}});
}

TEST_CASE("hash set and sorted set commands publish their Redis events", "[keyspace-events]") {
  kv_state kv = with_flags("KA");
  kv.apply({"HSET", "h", "f", "1", "g", "2"}, 1000);
  kv.apply({"HSETNX", "h", "f", "3"}, 1000); // exists: nothing
  kv.apply({"HINCRBY", "h", "f", "1"}, 1000);
  kv.apply({"HINCRBYFLOAT", "h", "f", "1.5"}, 1000);
  kv.apply({"HDEL", "h", "f", "g"}, 1000);
  kv.apply({"SADD", "s", "a", "b"}, 1000);
  kv.apply({"SADD", "s", "a"}, 1000); // no change: nothing
  kv.apply({"SREM", "s", "a"}, 1000);
  kv.apply({"SMOVE", "s", "t", "b"}, 1000);
  kv.apply({"SUNIONSTORE", "u", "t"}, 1000);
  kv.apply({"SPOP", "t"}, 1000);
  kv.apply({"ZADD", "z", "1", "a", "2", "b", "3", "c"}, 1000);
  kv.apply({"ZINCRBY", "z", "1", "a"}, 1000);
  kv.apply({"ZREM", "z", "a"}, 1000);
  kv.apply({"ZREMRANGEBYSCORE", "z", "0", "2"}, 1000);
  kv.apply({"ZPOPMIN", "z"}, 1000);
  CHECK(events(kv) == pairs{{"h", "hset"},
                            {"h", "hincrby"},
                            {"h", "hincrbyfloat"},
                            {"h", "hdel"},
                            {"h", "del"},
                            {"s", "sadd"},
                            {"s", "srem"},
                            {"s", "srem"},
                            {"s", "del"},
                            {"t", "sadd"},
                            {"u", "sunionstore"},
                            {"t", "spop"},
                            {"t", "del"},
                            {"z", "zadd"},
                            {"z", "zincr"},
                            {"z", "zrem"},
                            {"z", "zremrangebyscore"},
                            {"z", "zpopmin"},
                            {"z", "del"}});
}

TEST_CASE("a transaction publishes its commands' events in order", "[keyspace-events]") {
  kv_state kv = with_flags("KEA");
  kv.apply_transaction({{"SET", "a", "1"}, {"INCR", "a"}, {"DEL", "a"}}, 1000);
  CHECK(published(kv) == pairs{{"__keyspace@0__:a", "set"},
                               {"__keyevent@0__:set", "a"},
                               {"__keyspace@0__:a", "incrby"},
                               {"__keyevent@0__:incrby", "a"},
                               {"__keyspace@0__:a", "del"},
                               {"__keyevent@0__:del", "a"}});
}
