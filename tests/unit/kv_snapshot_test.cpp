// Snapshots of the replicated state (kv_state + client_sessions, issue 8): exact round trips,
// consistency while entries keep being applied between snapshot_next() calls, damaged input, the
// byte budget, and a hidden benchmark ([.bench]).

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "actors/state_machine/client_sessions.hpp"
#include "actors/state_machine/kv_state.hpp"
#include "actors/state_machine/snapshot_format.hpp"
#include "actors/state_machine/state_restore.hpp"

using namespace prez;
using argv_type = std::vector<std::string>;

static_assert(std::is_nothrow_move_constructible_v<kv_state>);
static_assert(std::is_move_assignable_v<kv_state>);
static_assert(std::is_move_constructible_v<restored_state>);

namespace {

constexpr std::size_t unlimited = std::numeric_limits<std::size_t>::max();

/// The whole snapshot in one call: the "deep copy" every other form is compared with.
std::string full_snapshot(kv_state& kv, const client_sessions& sessions) {
  REQUIRE_FALSE(kv.snapshot_running());
  kv.begin_snapshot(sessions);
  std::string out;
  REQUIRE(kv.snapshot_next(out, unlimited));
  REQUIRE_FALSE(kv.snapshot_running());
  return out;
}

restored_state restore_ok(std::string_view bytes) {
  auto result = restore_state(bytes);
  if (auto* error = std::get_if<std::string>(&result)) FAIL("restore failed: " << *error);
  return std::get<restored_state>(std::move(result));
}

/// One log entry as the state machine actor applies it.
struct kv_entry {
  enum class kind { command, transaction, clock } what = kind::command;
  argv_type argv;
  std::vector<argv_type> transaction;
  std::vector<watched_key> watched;
  std::uint64_t time_ms = 0;
  std::uint64_t client_id = 0;
  std::uint64_t seq = 0;
};

/// Applies `e` the way state_machine_actor.cpp does (sessions first) and returns the reply.
std::string apply_entry(kv_state& kv, client_sessions& sessions, std::uint64_t index,
                        const kv_entry& e) {
  sessions.at_index(index);
  if (e.what == kv_entry::kind::clock) {
    kv.advance_clock(e.time_ms);
    return "(clock)";
  }
  std::string reply;
  switch (sessions.check(e.client_id, e.seq, e.time_ms, reply)) {
    case client_sessions::verdict::duplicate:
      return "(duplicate)" + reply;
    case client_sessions::verdict::too_old:
      return "(too old)";
    case client_sessions::verdict::apply:
      break;
  }
  reply = e.what == kv_entry::kind::transaction
              ? kv.apply_transaction(e.transaction, e.time_ms, e.watched)
              : kv.apply(e.argv, e.time_ms);
  sessions.record(e.client_id, e.seq, e.time_ms, reply);
  return reply;
}

/// Seeded random entries over a small key space, so commands collide: every write family, expiry
/// with due times, FLUSHALL, SPOP, RENAME, transactions with WATCH, retries, clock entries.
class entry_source {
public:
  explicit entry_source(std::uint64_t seed) : random_(seed) {}

  /// The next entry; WATCH versions are read from `kv` (the state the client would see).
  kv_entry next(const kv_state& kv) {
    kv_entry e;
    time_ms_ += below(40);
    // A new leader's clock may be behind: stamps go back now and then (the state keeps a max).
    e.time_ms = below(20) == 0 ? time_ms_ - below(200) : time_ms_;
    e.client_id = 1 + below(5);
    const std::uint64_t roll = below(100);
    if (roll < 3) {
      e.what = kv_entry::kind::clock;
    } else if (roll < 8) {
      e.what = kv_entry::kind::transaction;
      const std::string watched = key();
      e.watched.emplace_back(watched, kv.key_version(watched) + (below(4) == 0 ? 1 : 0));
      e.transaction = {command(), command()};
    } else {
      e.argv = command();
    }
    std::uint64_t& seq = seqs_[e.client_id];
    e.seq = (below(25) == 0 && seq > 3) ? seq - below(3) : ++seq; // sometimes a retry
    return e;
  }

  argv_type command() {
    const std::string k = key();
    switch (below(40)) {
      case 0:
        return {"SET", k, text()};
      case 1:
        return {"SET", k, text(), "PX", std::to_string(1 + below(300))};
      case 2:
        return {"SET", k, text(), "EX", "1", "GET"};
      case 3:
        return {"SET", k, text(), below(2) == 0 ? "NX" : "XX", "KEEPTTL"};
      case 4:
        return {"DEL", k, key()};
      case 5:
        return {"APPEND", k, text()};
      case 6:
        return {"LPUSH", k, text(), text()};
      case 7:
        return {"RPUSH", k, text()};
      case 8:
        return {"LPOP", k, std::to_string(below(3))};
      case 9:
        return {"RPOPLPUSH", k, key()};
      case 10:
        return {"HSET", k, field(), text(), field(), text()};
      case 11:
        return {"HDEL", k, field()};
      case 12:
        return {"HINCRBY", k, field(), std::to_string(below(10))};
      case 13:
        return {"SADD", k, member(), member(), member()};
      case 14:
        return {"SREM", k, member()};
      case 15:
        return below(2) == 0 ? argv_type{"SPOP", k}
                             : argv_type{"SPOP", k, std::to_string(below(4))};
      case 16:
        return {"EXPIRE", k, std::to_string(below(3))};
      case 17:
        return {"PEXPIRE", k, std::to_string(below(400))};
      case 18:
        return {"PEXPIREAT", k, std::to_string(time_ms_ + below(400) - 100)};
      case 19:
        return {"PERSIST", k};
      case 20:
        return {"RENAME", k, key()};
      case 21:
        return {"INCR", k};
      case 22:
        return {"SETRANGE", k, std::to_string(below(8)), text()};
      case 23:
        return {"SINTERSTORE", k, key(), key()};
      case 24:
        return {"SUNIONSTORE", k, key(), key()};
      case 25:
        return {"SMOVE", k, key(), member()};
      case 26:
        return {"GETDEL", k};
      case 27:
        return {"GETEX", k, "PX", std::to_string(1 + below(300))};
      case 28:
        return {"MSET", k, text(), key(), text()};
      case 29:
        return below(8) == 0 ? argv_type{below(2) == 0 ? "FLUSHALL" : "FLUSHDB"}
                             : argv_type{"GET", k};
      case 30:
        return {"LTRIM", k, "0", std::to_string(below(4))};
      case 31:
        return {"LREM", k, "0", text()};
      case 32:
        return {"SCAN", "0", "COUNT", "100"};
      case 34:
        return {"ZADD", k, std::to_string(below(5)), member(), "1.5", member()};
      case 35:
        return {"ZREM", k, member()};
      case 36:
        return {"ZINCRBY", k, "0.25", member()};
      case 37:
        return {"ZPOPMIN", k, std::to_string(below(3))};
      case 38:
        return {"ZUNIONSTORE", k, "2", key(), key()};
      case 39:
        return {"ZREMRANGEBYSCORE", k, "-inf", std::to_string(below(3))};
      default:
        return {"RENAMENX", k, key()};
    }
  }

  /// A write to one of enrich()'s big keys, stamped like next()'s entries.
  kv_entry big_write() {
    kv_entry e;
    e.time_ms = time_ms_;
    e.client_id = 6;
    e.seq = ++seqs_[0];
    const std::string n = std::to_string(below(5000));
    switch (below(8)) {
      case 0:
        e.argv = {"LPUSH", "big:list", text()};
        break;
      case 1:
        e.argv = {"LSET", "big:list", std::to_string(below(9000)), text()};
        break;
      case 2:
        e.argv = {"HSET", "big:hash", "field" + n, text()};
        break;
      case 3:
        e.argv = {"HDEL", "big:hash", "field" + n};
        break;
      case 4:
        e.argv = {"SREM", "big:set", "member" + n};
        break;
      case 5:
        e.argv = {"SADD", "big:set", "member" + n + "x"};
        break;
      case 6:
        e.argv = {"SETRANGE", "big:string", std::to_string(below(300'000)), text()};
        break;
      default:
        e.argv = {"DEL", below(2) == 0 ? "big:list" : "big:hash"};
        break;
    }
    return e;
  }

  std::uint64_t below(std::uint64_t bound) { return random_() % bound; }

private:
  std::string key() {
    // Now and then one of the big keys enrich() makes (values spanning several records).
    static const char* const big[] = {"big:list", "big:hash", "big:set", "big:string"};
    if (below(16) == 0) return big[below(4)];
    return "k" + std::to_string(below(24));
  }
  std::string field() { return "f" + std::to_string(below(8)); }
  std::string member() { return "m" + std::to_string(below(12)); }
  std::string text() {
    const std::uint64_t roll = below(20);
    if (roll == 0) return std::string(200 + below(300), static_cast<char>('a' + below(26)));
    if (roll == 1) return std::string(1 + below(3), '\0'); // binary-safe values
    return "v" + std::to_string(below(50));
  }

  std::mt19937_64 random_;
  std::uint64_t time_ms_ = 1'000'000;
  std::uint64_t seqs_[6] = {};
};

/// A replica: the state, the exactly-once table and the last applied index.
struct replica {
  kv_state kv;
  client_sessions sessions;
  std::uint64_t index = 0;
  std::string apply(const kv_entry& e) { return apply_entry(kv, sessions, ++index, e); }
};

/// Some structure random commands rarely build: values spanning several records, many
/// tombstones, sessions with kept, dropped and forgotten replies.
void enrich(replica& r) {
  constexpr std::uint64_t t = 900'000;
  argv_type push = {"RPUSH", "big:list"};
  for (int i = 0; i < 9000; ++i)
    push.push_back("item" + std::to_string(i));
  r.kv.apply(push, t);
  argv_type hset = {"HSET", "big:hash"};
  for (int i = 0; i < 5000; ++i) {
    hset.push_back("field" + std::to_string(i));
    hset.push_back(std::string(i % 40, 'x'));
  }
  r.kv.apply(hset, t);
  argv_type sadd = {"SADD", "big:set"};
  for (int i = 0; i < 5000; ++i)
    sadd.push_back("member" + std::to_string(i));
  r.kv.apply(sadd, t);
  argv_type zadd = {"ZADD", "big:zset"};
  for (int i = 0; i < 5000; ++i) {
    zadd.push_back(std::to_string(i % 97) + "." + std::to_string(i % 7));
    zadd.push_back("member" + std::to_string(i));
  }
  r.kv.apply(zadd, t);
  r.kv.apply({"ZADD", "inf:zset", "inf", "top", "-inf", "bottom", "1e-310", "tiny"}, t);
  std::string text(300 * 1024, 'z');
  for (std::size_t i = 0; i < text.size(); i += 1000)
    text[i] = static_cast<char>('a' + i % 26);
  r.kv.apply({"SET", "big:string", text}, t);
  r.kv.apply({"SET", "", "empty name"}, t);
  r.kv.apply({"SET", "empty:value", ""}, t);
  r.kv.apply({"SET", "expiring", "soon", "PX", "5000000"}, t);
  for (int i = 0; i < 3000; ++i) { // tombstones
    r.kv.apply({"SET", "gone" + std::to_string(i), "x"}, t);
    r.kv.apply({"DEL", "gone" + std::to_string(i)}, t);
  }
  r.sessions.at_index(++r.index);
  r.sessions.record(77, 1, t, std::string(limits::session_reply_bytes_per_client_max + 1, 'r'));
  for (std::uint64_t seq = 1; seq <= client_sessions::replies_per_client_max + 20; ++seq) {
    r.sessions.at_index(++r.index);
    r.sessions.record(88, seq, t + seq, ":" + std::to_string(seq) + "\r\n");
  }
  r.sessions.record(99, 5, t, std::string(600 * 1024, 'a'));
  r.sessions.record(99, 6, t, std::string(600 * 1024, 'b')); // drops seq 5's reply
}

} // namespace

TEST_CASE("a restored state is the same replica: same replies, same serialisation",
          "[kv_snapshot]") {
  replica original;
  entry_source before(1);
  for (int i = 0; i < 3000; ++i)
    original.apply(before.next(original.kv));
  enrich(original);
  REQUIRE(original.kv.size() > 10);
  REQUIRE(original.kv.keys().expiring() > 0);

  const std::string bytes = full_snapshot(original.kv, original.sessions);
  restored_state restored = restore_ok(bytes);
  replica copy{std::move(restored.kv), std::move(restored.sessions), original.index};
  CHECK(copy.sessions == original.sessions);
  CHECK(copy.kv.size() == original.kv.size());
  CHECK(copy.kv.bytes() == original.kv.bytes());
  CHECK(copy.kv.bytes() == copy.kv.keys().recount_bytes());
  CHECK(copy.kv.keys().expiring() == original.kv.keys().expiring());
  CHECK(copy.kv.keys().clock_ms() == original.kv.keys().clock_ms());
  for (const std::string key : {"big:list", "gone5", "gone2999", "never", "k1", "k2", "expiring"})
    CHECK(copy.kv.key_version(key) == original.kv.key_version(key));
  CHECK(full_snapshot(copy.kv, copy.sessions) == bytes);

  entry_source after(2);
  for (int i = 0; i < 4000; ++i) {
    const kv_entry e = after.next(original.kv);
    const std::string expected = original.apply(e);
    REQUIRE(copy.apply(e) == expected);
  }
  CHECK(copy.kv.read({"ZRANGE", "big:zset", "0", "-1", "WITHSCORES"}) ==
        original.kv.read({"ZRANGE", "big:zset", "0", "-1", "WITHSCORES"}));
  CHECK(copy.kv.read({"ZRANGE", "inf:zset", "0", "-1", "WITHSCORES"}) ==
        original.kv.read({"ZRANGE", "inf:zset", "0", "-1", "WITHSCORES"}));
  // SPOP on the big set draws from draws_: the same members on both.
  CHECK(copy.kv.apply({"SPOP", "big:set", "5"}, 2'000'000) ==
        original.kv.apply({"SPOP", "big:set", "5"}, 2'000'000));
  CHECK(full_snapshot(copy.kv, copy.sessions) == full_snapshot(original.kv, original.sessions));
  CHECK(copy.sessions == original.sessions);
}

TEST_CASE("a snapshot shows the state at begin while entries keep being applied", "[kv_snapshot]") {
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    CAPTURE(seed);
    replica r;
    entry_source source(seed);
    // One seed in five holds big keys, which snapshot_next() writes over several calls.
    const bool big = seed % 5 == 0;
    if (big) enrich(r);
    for (int i = 0; i < 150; ++i)
      r.apply(source.next(r.kv));
    const std::string expected = full_snapshot(r.kv, r.sessions);

    r.kv.begin_snapshot(r.sessions);
    std::string out;
    bool done = false;
    int calls = 0;
    while (!done) {
      const std::uint64_t writes = source.below(4);
      for (std::uint64_t i = 0; i < writes; ++i)
        r.apply(source.next(r.kv));
      if (big && source.below(3) == 0) r.apply(source.big_write());
      const std::uint64_t budget_max = big ? 40'000 : seed % 2 == 0 ? 64 : 700;
      done = r.kv.snapshot_next(out, 1 + source.below(budget_max));
      REQUIRE(done != r.kv.snapshot_running());
      REQUIRE(++calls < 100000);
    }
    REQUIRE(out == expected);
    restored_state restored = restore_ok(out);
    CHECK(full_snapshot(restored.kv, restored.sessions) == expected);
    // The live state went on: it serialises like itself, not like the snapshot.
    CHECK(r.kv.bytes() == r.kv.keys().recount_bytes());
  }
}

TEST_CASE("each write path saves the old key; FLUSHALL hands the old map over", "[kv_snapshot]") {
  kv_state kv;
  client_sessions sessions;
  constexpr std::uint64_t t = 1'000;
  for (int i = 0; i < 200; ++i)
    kv.apply({"SET", "key" + std::to_string(i), "old" + std::to_string(i)}, t);
  kv.apply({"RPUSH", "list", "a", "b"}, t);
  kv.apply({"HSET", "hash", "f", "v"}, t);
  kv.apply({"SADD", "set", "m1", "m2"}, t);
  kv.apply({"SET", "dies", "x", "PX", "10"}, t);
  const std::string expected = full_snapshot(kv, sessions);

  kv.begin_snapshot(sessions);
  std::string out;
  REQUIRE_FALSE(kv.snapshot_next(out, 300));
  // Every family of write, on keys written and not yet written; most keys stay untouched, so
  // the FLUSHALL below must hand them over.
  for (int i = 0; i < 200; i += 12) {
    const std::string k = "key" + std::to_string(i);
    kv.apply({"APPEND", k, "-new"}, t + 1);
    kv.apply({"DEL", "key" + std::to_string(i + 1)}, t + 1);
    kv.apply({"SET", "fresh" + std::to_string(i), "new"}, t + 1);
    kv.apply({"EXPIRE", "key" + std::to_string(i + 2), "100"}, t + 1);
    kv.apply({"SET", "key" + std::to_string(i + 3), "overwritten"}, t + 1);
    kv.apply({"MSET", "key" + std::to_string(i + 4), "m", "key" + std::to_string(i + 5), "m"},
             t + 1);
  }
  kv.apply({"RPUSH", "list", "c"}, t + 1);
  kv.apply({"HSET", "hash", "f", "changed"}, t + 1);
  kv.apply({"SPOP", "set"}, t + 1);
  kv.apply({"RENAME", "key3", "renamed"}, t + 1);
  kv.apply({"GET", "x"}, t + 50); // active expiry deletes "dies"
  REQUIRE_FALSE(kv.snapshot_next(out, 300));
  kv.apply({"FLUSHALL"}, t + 60);
  kv.apply({"SET", "after", "flush"}, t + 60);
  kv.apply({"FLUSHALL"}, t + 61);
  kv.apply({"SET", "key9", "again"}, t + 61);
  while (!kv.snapshot_next(out, 300)) {
  }
  CHECK(out == expected);
  CHECK(kv.size() == 1);
}

TEST_CASE("an aborted snapshot frees its saves and a new one starts clean", "[kv_snapshot]") {
  kv_state kv;
  client_sessions sessions;
  for (int i = 0; i < 100; ++i)
    kv.apply({"SET", "k" + std::to_string(i), "v"}, 1'000);
  kv.begin_snapshot(sessions);
  std::string out;
  REQUIRE_FALSE(kv.snapshot_next(out, 200));
  kv.apply({"DEL", "k1", "k2", "k50"}, 1'001);
  kv.apply({"FLUSHALL"}, 1'002);
  kv.apply({"SET", "z", "1"}, 1'003);
  kv.abort_snapshot();
  CHECK_FALSE(kv.snapshot_running());
  kv.abort_snapshot(); // no precondition
  const std::string now = full_snapshot(kv, sessions);
  restored_state restored = restore_ok(now);
  CHECK(restored.kv.size() == 1);
  CHECK(restored.kv.read({"GET", "z"}) == "$1\r\n1\r\n");
  // A moved state keeps its running snapshot.
  kv.begin_snapshot(sessions);
  kv_state moved = std::move(kv);
  REQUIRE(moved.snapshot_running());
  std::string again;
  while (!moved.snapshot_next(again, 7)) {
  }
  CHECK(again == now);
}

TEST_CASE("bytes_max is honoured: big keys are spread over calls, one record at a time",
          "[kv_snapshot]") {
  kv_state kv;
  client_sessions sessions;
  for (int i = 0; i < 5000; ++i)
    kv.apply({"SET", "key" + std::to_string(i), std::string(100, 'v')}, 1'000);
  argv_type push = {"RPUSH", "huge:list"};
  argv_type hset = {"HSET", "huge:hash"};
  argv_type sadd = {"SADD", "huge:set"};
  argv_type zadd = {"ZADD", "huge:zset"};
  for (int i = 0; i < 20000; ++i) {
    zadd.push_back(std::to_string(i * 0.001));
    zadd.push_back("zmember" + std::to_string(i));
    push.push_back(std::string(10, 'e'));
    hset.push_back("field" + std::to_string(i));
    hset.push_back(std::string(i % 20, 'h'));
    sadd.push_back("member" + std::to_string(i));
  }
  kv.apply(push, 1'000);
  kv.apply(hset, 1'000);
  kv.apply(sadd, 1'000);
  kv.apply(zadd, 1'000);
  kv.apply({"SET", "long", std::string(200 * 1024, 's')}, 1'000);
  const std::string expected = full_snapshot(kv, sessions);
  // At most one record past the budget: a record closes at snapshot_record_bytes of items.
  constexpr std::size_t overshoot_max = limits::snapshot_record_bytes + 1024;

  for (const std::size_t budget : {std::size_t{8} * 1024, std::size_t{256} * 1024}) {
    CAPTURE(budget);
    kv.begin_snapshot(sessions);
    std::string out;
    std::vector<std::size_t> sizes;
    for (bool done = false; !done;) {
      const std::size_t before = out.size();
      done = kv.snapshot_next(out, budget);
      sizes.push_back(out.size() - before);
    }
    CHECK(out == expected); // where calls end never changes the bytes
    CHECK(sizes.back() > 0);
    for (std::size_t i = 0; i + 1 < sizes.size(); ++i) {
      CAPTURE(i, sizes[i]);
      CHECK(sizes[i] <= budget + overshoot_max);
      // With a small budget every key is either small (written whole while it fits) or split:
      // each call but the last fills the budget less about one small key.
      if (budget < 10 * 1024) CHECK(sizes[i] >= budget - 512);
    }
    CHECK(sizes.size() <= expected.size() / (budget / 2) + 2);
  }
}

TEST_CASE("restoring from pieces of any size gives the same state", "[kv_snapshot]") {
  replica r;
  entry_source source(7);
  for (int i = 0; i < 500; ++i)
    r.apply(source.next(r.kv));
  enrich(r);
  const std::string bytes = full_snapshot(r.kv, r.sessions);
  for (const std::size_t piece :
       {std::size_t{1}, std::size_t{3}, std::size_t{4096}, std::size_t{1} << 20}) {
    CAPTURE(piece);
    state_restorer restorer;
    for (std::size_t at = 0; at < bytes.size(); at += piece)
      REQUIRE_FALSE(restorer.feed(std::string_view(bytes).substr(at, piece)));
    auto result = restorer.finish();
    REQUIRE(std::holds_alternative<restored_state>(result));
    auto& restored = std::get<restored_state>(result);
    CHECK(full_snapshot(restored.kv, restored.sessions) == bytes);
    CHECK(std::holds_alternative<std::string>(restorer.finish())); // once only
    CHECK(restorer.feed("x"));
  }
}

namespace {

/// A small snapshot with every record kind.
std::string small_snapshot() {
  replica r;
  constexpr std::uint64_t t = 5'000;
  r.kv.apply({"SET", "s", "text", "PX", "100000"}, t);
  r.kv.apply({"RPUSH", "l", "a", "b", "c"}, t);
  r.kv.apply({"HSET", "h", "f1", "v1", "f2", "v2"}, t);
  r.kv.apply({"SADD", "set", "x", "y", "z"}, t);
  r.kv.apply({"SPOP", "set"}, t);
  r.kv.apply({"SET", "gone", "1"}, t);
  r.kv.apply({"DEL", "gone"}, t);
  r.sessions.at_index(3);
  r.sessions.record(1, 1, t, "+OK\r\n");
  r.sessions.record(1, 2, t, std::string(limits::session_reply_bytes_per_client_max + 1, 'x'));
  r.sessions.record(2, 1, t, ":1\r\n");
  return full_snapshot(r.kv, r.sessions);
}

/// restore_state() with the bytes fed `piece` bytes at a time.
std::variant<restored_state, std::string> restore_in_pieces(std::string_view bytes,
                                                            std::size_t piece) {
  state_restorer restorer;
  for (std::size_t at = 0; at < bytes.size(); at += piece)
    if (auto error = restorer.feed(bytes.substr(at, piece))) return *error;
  return restorer.finish();
}

/// A restored state must hold its invariants: re-serialising and restoring again gives the same
/// bytes, byte counts add up, and commands run on it.
void check_consistent(restored_state& restored) {
  REQUIRE(restored.kv.bytes() == restored.kv.keys().recount_bytes());
  const std::string again = full_snapshot(restored.kv, restored.sessions);
  restored_state twice = restore_ok(again);
  CHECK(full_snapshot(twice.kv, twice.sessions) == again);
  CHECK(twice.sessions == restored.sessions);
  entry_source source(3);
  replica r{std::move(restored.kv), std::move(restored.sessions), 10};
  for (int i = 0; i < 200; ++i)
    r.apply(source.next(r.kv));
  CHECK(r.kv.bytes() == r.kv.keys().recount_bytes());
}

std::string
pack_records(const std::vector<std::vector<std::variant<std::uint64_t, std::string>>>& records) {
  std::string out;
  snapshot::string_writer writer{out};
  snapshot::packer pk(writer);
  for (const auto& record : records) {
    pk.pack_array(static_cast<std::uint32_t>(record.size()));
    for (const auto& field : record) {
      if (const auto* number = std::get_if<std::uint64_t>(&field))
        pk.pack(*number);
      else
        pk.pack(std::get<std::string>(field));
    }
  }
  return out;
}

} // namespace

TEST_CASE("every truncation of a snapshot is refused", "[kv_snapshot]") {
  const std::string bytes = small_snapshot();
  REQUIRE(std::holds_alternative<restored_state>(restore_state(bytes)));
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    CAPTURE(length);
    const auto result = restore_state(std::string_view(bytes).substr(0, length));
    REQUIRE(std::holds_alternative<std::string>(result));
  }
  const auto empty = restore_state("");
  REQUIRE(std::holds_alternative<std::string>(empty));
  CHECK(std::get<std::string>(empty).find("incomplete") != std::string::npos);
  const auto doubled = restore_state(bytes + bytes);
  REQUIRE(std::holds_alternative<std::string>(doubled));
  CHECK(std::get<std::string>(doubled).find("after the end") != std::string::npos);
  const auto trailing = restore_state(bytes + "\x92");
  REQUIRE(std::holds_alternative<std::string>(trailing));
}

TEST_CASE("flipped bytes give an error or a consistent state, never a crash", "[kv_snapshot]") {
  const std::string bytes = small_snapshot();
  std::mt19937_64 random(11);
  int refused = 0;
  int accepted = 0;
  for (std::size_t at = 0; at < bytes.size(); ++at) {
    for (const unsigned flip : {0x01u, 0x80u, 0xffu, static_cast<unsigned>(random() & 0xff)}) {
      if (flip == 0) continue;
      CAPTURE(at, static_cast<int>(flip));
      std::string damaged = bytes;
      damaged[at] = static_cast<char>(static_cast<unsigned char>(damaged[at]) ^ flip);
      auto result = restore_state(damaged);
      // Fed in pieces, the same bytes give the same outcome.
      auto pieces = restore_in_pieces(damaged, 1 + at % 13);
      REQUIRE(pieces.index() == result.index());
      if (const auto* error = std::get_if<std::string>(&result)) {
        CHECK(std::get<std::string>(pieces) == *error);
        ++refused;
        continue;
      }
      ++accepted;
      auto& restored = std::get<restored_state>(pieces);
      CHECK(full_snapshot(restored.kv, restored.sessions) ==
            full_snapshot(std::get<restored_state>(result).kv,
                          std::get<restored_state>(result).sessions));
      check_consistent(std::get<restored_state>(result));
    }
  }
  CHECK(refused > 0);
  CHECK(accepted > 0); // flips inside values decode: those states must be consistent too
  // Several random flips at once.
  for (int round = 0; round < 2000; ++round) {
    std::string damaged = bytes;
    for (int i = 0; i < 4; ++i)
      damaged[random() % damaged.size()] = static_cast<char>(random());
    auto result = restore_state(damaged);
    if (auto* restored = std::get_if<restored_state>(&result)) check_consistent(*restored);
  }
}

TEST_CASE("declared sizes beyond the limits are refused without allocating them", "[kv_snapshot]") {
  const std::string header =
      pack_records({{std::uint64_t{0}, std::string("prez-snapshot"), std::uint64_t{1},
                     std::uint64_t{10}, std::uint64_t{0}, std::uint64_t{0}, std::uint64_t{0}}});
  // An array of 2^32-1 elements, a map, nesting too deep: refused as soon as the header is read.
  for (const std::string& bad :
       {std::string("\xdd\xff\xff\xff\xff", 5), std::string("\x81\x00\x00", 3),
        std::string("\x91\x91\x91\x00", 4)}) {
    state_restorer restorer;
    const auto error = restorer.feed(header + bad);
    REQUIRE(error);
    CHECK(error->find("damaged snapshot: msgpack") != std::string::npos);
  }
  // A str declaring 4 GiB: msgpack checks the str limit only once the bytes are there, and it
  // buffers only what is fed, so a truncated stream is refused as incomplete; with 17 MiB fed it
  // is refused as over the limit.
  const std::string huge_str("\x92\x00\xdb\xff\xff\xff\xff", 7);
  const auto cut = restore_state(header + huge_str);
  REQUIRE(std::holds_alternative<std::string>(cut));
  CHECK(std::get<std::string>(cut).find("incomplete") != std::string::npos);
  const std::string over_limit("\x92\x00\xdb\x01\x10\x00\x00", 7); // 17 MiB
  const auto refused = restore_state(header + over_limit + std::string(17 * 1024 * 1024 + 16, 'x'));
  REQUIRE(std::holds_alternative<std::string>(refused));
  CHECK(std::get<std::string>(refused).find("damaged") != std::string::npos);
}

TEST_CASE("restoring re-checks the invariants", "[kv_snapshot]") {
  using record = std::vector<std::variant<std::uint64_t, std::string>>;
  const auto header = [](std::uint64_t version_clock) {
    return record{std::uint64_t{0}, std::string("prez-snapshot"),
                  std::uint64_t{1}, version_clock,
                  std::uint64_t{0}, std::uint64_t{0},
                  std::uint64_t{0}};
  };
  const record sessions{std::uint64_t{2}, std::uint64_t{0}, std::uint64_t{0}, std::uint64_t{0}};
  // A key record with one string piece: [4, name, 0, expires, version, 1, [text]].
  const auto key = [](const std::string& name, std::uint64_t version) {
    std::string out;
    snapshot::string_writer writer{out};
    snapshot::packer pk(writer);
    pk.pack_array(7);
    pk.pack(std::uint64_t{4});
    pk.pack(name);
    pk.pack(std::uint64_t{0});
    pk.pack(std::uint64_t{0});
    pk.pack(version);
    pk.pack(std::uint64_t{1});
    pk.pack_array(1);
    pk.pack(std::string("v"));
    return out;
  };
  const auto end = [](std::uint64_t keys, std::uint64_t bytes) {
    return pack_records({{std::uint64_t{6}, keys, bytes, std::uint64_t{0}, std::uint64_t{0}}});
  };
  const auto error_of = [](const std::string& bytes) {
    auto result = restore_state(bytes);
    REQUIRE(std::holds_alternative<std::string>(result));
    return std::get<std::string>(result);
  };
  const std::string start = pack_records({header(10), sessions});
  // The hand-made form is right: it restores.
  REQUIRE(std::holds_alternative<restored_state>(restore_state(start + key("a", 3) + end(1, 2))));
  const bool a_first =
      kv::slot_order{}(kv::key_slot{kv::key_hash("a"), "a"}, kv::key_slot{kv::key_hash("b"), "b"});
  const std::string first = a_first ? "a" : "b";
  const std::string second = a_first ? "b" : "a";
  CHECK(error_of(start + key(second, 1) + key(first, 1) + end(2, 4)).find("out of order") !=
        std::string::npos);
  CHECK(error_of(start + key("a", 1) + key("a", 1) + end(2, 4)).find("repeated") !=
        std::string::npos);
  CHECK(error_of(start + key("a", 11) + end(1, 2)).find("version clock") != std::string::npos);
  CHECK(error_of(start + key("a", 1) + end(1, 3)).find("bytes") != std::string::npos);
  CHECK(error_of(start + key("a", 1) + end(2, 2)).find("count") != std::string::npos);
  CHECK(error_of(pack_records({sessions})).find("header") != std::string::npos);
  record future = header(10);
  future[2] = std::uint64_t{2};
  CHECK(error_of(pack_records({future, sessions}) + end(0, 0)).find("version") !=
        std::string::npos);
  CHECK(error_of(pack_records({header(10)}) + end(0, 0)).find("session") != std::string::npos);
  const std::string tombstone_for_a = [] {
    std::string out;
    snapshot::string_writer writer{out};
    snapshot::packer pk(writer);
    pk.pack_array(2);
    pk.pack(std::uint64_t{1});
    pk.pack_array(2);
    pk.pack(std::string("a"));
    pk.pack(std::uint64_t{2});
    return out;
  }();
  CHECK(error_of(pack_records({header(10)}) + tombstone_for_a + pack_records({sessions}) +
                 key("a", 3) +
                 pack_records({{std::uint64_t{6}, std::uint64_t{1}, std::uint64_t{2},
                                std::uint64_t{1}, std::uint64_t{0}}}))
            .find("tombstone") != std::string::npos);
}

TEST_CASE("snapshot of 1M keys: begin, longest step, total", "[.bench][kv_snapshot]") {
  using clock = std::chrono::steady_clock;
  const auto ms = [](clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
  };
  kv_state kv;
  client_sessions sessions;
  constexpr int keys = 1'000'000;
  const std::string text(100, 'v');
  for (int i = 0; i < keys; ++i)
    kv.apply({"SET", "key:" + std::to_string(i), text}, 1'000);
  for (std::uint64_t client = 1; client <= 1000; ++client)
    sessions.record(client, 1, 1'000, "+OK\r\n");

  std::string whole; // the first snapshot, for the restore below
  for (const bool with_writes : {false, true}) {
    const auto begun = clock::now();
    kv.begin_snapshot(sessions);
    const auto begin_time = clock::now() - begun;
    clock::duration longest{};
    std::size_t total = 0;
    std::size_t calls = 0;
    std::string out;
    std::uint64_t written = 0;
    const auto started = clock::now();
    for (bool done = false; !done; ++calls) {
      // Between steps the actor applies entries: overwrite keys all over the key space.
      for (int i = 0; with_writes && i < 1000; ++i, ++written)
        kv.apply({"SET", "key:" + std::to_string((written * 7919) % keys), "new"}, 2'000);
      out.clear();
      const auto step = clock::now();
      done = kv.snapshot_next(out, 1 << 20);
      longest = std::max(longest, clock::now() - step);
      total += out.size();
      if (!with_writes) whole += out;
    }
    const auto all = clock::now() - started;
    WARN("1M keys of 100 bytes" << (with_writes ? ", 1000 SETs between steps" : "")
                                << ": begin_snapshot " << ms(begin_time) << " ms, longest step "
                                << ms(longest) << " ms, " << calls << " steps, total " << ms(all)
                                << " ms (writes included), " << total << " bytes");
  }

  const auto started = clock::now();
  state_restorer restorer;
  clock::duration longest{};
  for (std::size_t at = 0; at < whole.size(); at += 1 << 20) {
    const auto step = clock::now();
    REQUIRE_FALSE(restorer.feed(std::string_view(whole).substr(at, 1 << 20)));
    longest = std::max(longest, clock::now() - step);
  }
  auto result = restorer.finish();
  const auto all = clock::now() - started;
  REQUIRE(std::holds_alternative<restored_state>(result));
  CHECK(std::get<restored_state>(result).kv.size() == keys);
  WARN("restore of " << whole.size() << " bytes in 1 MiB pieces: longest feed " << ms(longest)
                     << " ms, total " << ms(all) << " ms");
}
