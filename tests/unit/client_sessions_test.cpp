#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <variant>

#include "actors/state_machine/client_sessions.hpp"
#include "actors/state_machine/snapshot_format.hpp"
#include "config/limits.hpp"

using prez::client_sessions;

TEST_CASE("a command seen for the first time is applied, a repeat gets the stored reply") {
  client_sessions s;
  std::string reply;
  CHECK(s.check(1, 1, 1000, reply) == client_sessions::verdict::apply);
  s.record(1, 1, 1000, ":1\r\n");
  CHECK(s.check(1, 1, 1001, reply) == client_sessions::verdict::duplicate);
  CHECK(reply == ":1\r\n");
  CHECK(s.check(1, 2, 1001, reply) == client_sessions::verdict::apply);
  CHECK(s.check(2, 1, 1001, reply) == client_sessions::verdict::apply);
}

TEST_CASE("replies beyond the per-client window are forgotten and reported too old") {
  client_sessions s;
  std::string reply;
  for (std::uint64_t seq = 1; seq <= client_sessions::replies_per_client_max + 10; ++seq)
    s.record(7, seq, 1000 + seq, "+OK\r\n");
  CHECK(s.check(7, 1, 5000, reply) == client_sessions::verdict::too_old);
  CHECK(s.check(7, 10, 5000, reply) == client_sessions::verdict::too_old);
  CHECK(s.check(7, client_sessions::replies_per_client_max + 10, 5000, reply) ==
        client_sessions::verdict::duplicate);
  // A seq never seen and above the window is new.
  CHECK(s.check(7, client_sessions::replies_per_client_max + 11, 5000, reply) ==
        client_sessions::verdict::apply);
}

TEST_CASE("idle clients expire by log time, identically on every replica") {
  client_sessions a, b;
  std::string reply;
  for (auto* s : {&a, &b}) {
    s->record(1, 1, 1000, "+OK\r\n");
    s->record(2, 1, 5000, "+OK\r\n");
  }
  auto later = 1000 + client_sessions::idle_ms_max + 1;
  for (auto* s : {&a, &b})
    s->at_index(client_sessions::idle_entries_min);
  CHECK(a.check(1, 1, later, reply) == client_sessions::verdict::apply); // client 1 forgotten
  CHECK(a.check(2, 1, later, reply) == client_sessions::verdict::duplicate);
  CHECK(b.check(1, 1, later, reply) == client_sessions::verdict::apply);
  CHECK(a.size() == b.size());
}

TEST_CASE("the number of remembered clients is bounded") {
  client_sessions s;
  for (std::uint64_t id = 0; id < client_sessions::clients_max + 100; ++id)
    s.record(id, 1, 1000 + id, "+OK\r\n");
  CHECK(s.size() == client_sessions::clients_max);
  std::string reply;
  CHECK(s.check(0, 1, 1000 + client_sessions::clients_max + 100, reply) ==
        client_sessions::verdict::apply); // the least recently active went first
}

namespace {

/// Bytes of every reply the table still answers as a duplicate, over clients [0, clients) with
/// one seq each; counts the verdicts seen in `too_old` and fails on any `apply` (a re-execution).
std::size_t duplicate_reply_bytes(client_sessions& s, std::uint64_t clients, std::uint64_t seq,
                                  std::uint64_t time_ms, std::size_t& too_old) {
  std::size_t bytes = 0;
  for (std::uint64_t id = 0; id < clients; ++id) {
    std::string reply;
    switch (s.check(id, seq, time_ms, reply)) {
      case client_sessions::verdict::duplicate:
        bytes += reply.size();
        break;
      case client_sessions::verdict::too_old:
        ++too_old;
        break;
      case client_sessions::verdict::apply:
        FAIL("client " << id << " seq " << seq << " would run again");
    }
  }
  return bytes;
}

} // namespace

TEST_CASE("the replies kept over all clients stay within the total byte bound") {
  // Each reply fits the per-client bound; together they are well over the total one.
  const std::size_t reply_bytes = prez::limits::session_reply_bytes_per_client_max / 2;
  const std::uint64_t clients = prez::limits::session_reply_bytes_max / reply_bytes + 40;
  client_sessions s;
  for (std::uint64_t id = 0; id < clients; ++id)
    s.record(id, 1, 1000 + id, std::string(reply_bytes, static_cast<char>('a' + id % 26)));
  std::size_t too_old = 0;
  const std::size_t kept = duplicate_reply_bytes(s, clients, 1, 1000 + clients, too_old);
  CHECK(kept <= prez::limits::session_reply_bytes_max);
  CHECK(too_old >= 40); // dropped replies answer too_old; none is applied again
  // The oldest replies went first: the newest client's reply is still there.
  std::string reply;
  CHECK(s.check(clients - 1, 1, 1000 + clients, reply) == client_sessions::verdict::duplicate);
  CHECK(reply.size() == reply_bytes);
  CHECK(s.check(0, 1, 1000 + clients, reply) == client_sessions::verdict::too_old);
}

TEST_CASE("a reply too large to keep makes its retry too old, never a second run") {
  client_sessions s;
  std::string reply;
  s.record(3, 1, 1000, "+OK\r\n");
  s.record(3, 2, 1001, std::string(prez::limits::session_reply_bytes_per_client_max + 1, 'x'));
  CHECK(s.check(3, 2, 1002, reply) == client_sessions::verdict::too_old);
  CHECK(s.check(3, 1, 1002, reply) == client_sessions::verdict::duplicate); // older reply kept
  CHECK(reply == "+OK\r\n");
  CHECK(s.check(3, 3, 1002, reply) == client_sessions::verdict::apply);
}

TEST_CASE("one client's replies stay within the per-client byte bound, oldest dropped first") {
  client_sessions s;
  const std::size_t reply_bytes = prez::limits::session_reply_bytes_per_client_max / 4 + 1;
  for (std::uint64_t seq = 1; seq <= 10; ++seq)
    s.record(5, seq, 1000 + seq, std::string(reply_bytes, 'y'));
  std::size_t kept = 0;
  std::string reply;
  for (std::uint64_t seq = 1; seq <= 10; ++seq) {
    const auto verdict = s.check(5, seq, 2000, reply);
    REQUIRE(verdict != client_sessions::verdict::apply);
    if (verdict == client_sessions::verdict::duplicate) kept += reply.size();
  }
  CHECK(kept <= prez::limits::session_reply_bytes_per_client_max);
  CHECK(s.check(5, 10, 2000, reply) == client_sessions::verdict::duplicate);
  CHECK(s.check(5, 1, 2000, reply) == client_sessions::verdict::too_old);
}

TEST_CASE("two replicas fed the same records keep and drop the same replies") {
  client_sessions a, b;
  const std::size_t reply_bytes = prez::limits::session_reply_bytes_per_client_max / 3;
  const std::uint64_t clients = prez::limits::session_reply_bytes_max / reply_bytes + 10;
  for (auto* s : {&a, &b})
    for (std::uint64_t id = 0; id < clients; ++id)
      s->record(id % 97, id, 1000 + id, std::string(reply_bytes, 'z'));
  for (std::uint64_t id = 0; id < clients; ++id) {
    std::string reply_a, reply_b;
    CHECK(a.check(id % 97, id, 5000, reply_a) == b.check(id % 97, id, 5000, reply_b));
    CHECK(reply_a == reply_b);
  }
}

TEST_CASE("a leader clock far ahead does not make an active client forgotten") {
  client_sessions s;
  std::string reply;
  s.at_index(10);
  s.record(1, 1, 1000, ":1\r\n");
  s.at_index(11);
  // The next leader's clock is a day ahead: by log time the client is idle, by entries it is not.
  const std::uint64_t day_ahead = 1000 + 24ULL * 3600 * 1000;
  CHECK(s.check(1, 1, day_ahead, reply) == client_sessions::verdict::duplicate);
  CHECK(reply == ":1\r\n");
  s.at_index(11 + client_sessions::idle_entries_min);
  CHECK(s.check(1, 1, day_ahead, reply) == client_sessions::verdict::apply); // now forgotten
}

namespace {

/// Feeds the records serialise() wrote to a restorer; the table, or the first error.
std::variant<client_sessions, std::string> round_trip(const std::string& bytes) {
  msgpack::unpacker unpacker(nullptr, nullptr, 1024, prez::snapshot::unpack_limits());
  unpacker.reserve_buffer(bytes.size());
  std::memcpy(unpacker.buffer(), bytes.data(), bytes.size());
  unpacker.buffer_consumed(bytes.size());
  client_sessions::restorer restorer;
  msgpack::object_handle record;
  while (unpacker.next(record))
    if (auto error = restorer.add(record.get())) return *error;
  return restorer.finish();
}

} // namespace

TEST_CASE("a table restored from its records is identical and answers identically") {
  client_sessions s;
  s.at_index(5);
  s.record(1, 1, 1000, "+OK\r\n");
  s.record(1, 2, 1001, std::string(prez::limits::session_reply_bytes_per_client_max + 1, 'x'));
  for (std::uint64_t seq = 1; seq <= client_sessions::replies_per_client_max + 5; ++seq) {
    s.at_index(5 + seq);
    s.record(2, seq, 2000 + seq, ":" + std::to_string(seq) + "\r\n");
  }
  s.record(3, 7, 3000, std::string(700 * 1024, 'a'));
  s.record(3, 8, 3001, std::string(700 * 1024, 'b')); // drops seq 7's reply
  std::string bytes;
  s.serialise(bytes);
  auto result = round_trip(bytes);
  REQUIRE(std::holds_alternative<client_sessions>(result));
  client_sessions& copy = std::get<client_sessions>(result);
  CHECK(copy == s);
  CHECK(copy.reply_bytes() == s.reply_bytes());
  for (std::uint64_t step = 0; step < 300; ++step) {
    const std::uint64_t client = 1 + step % 4;
    const std::uint64_t seq = step % 7 == 0 ? 1 : step;
    std::string reply_a = "a", reply_b = "b";
    const auto verdict = s.check(client, seq, 4000 + step, reply_a);
    REQUIRE(copy.check(client, seq, 4000 + step, reply_b) == verdict);
    if (verdict == client_sessions::verdict::duplicate) CHECK(reply_a == reply_b);
    s.record(client, step + 1000, 4000 + step, std::to_string(step));
    copy.record(client, step + 1000, 4000 + step, std::to_string(step));
  }
  CHECK(copy == s);
  std::string again;
  copy.serialise(again);
  std::string original;
  s.serialise(original);
  CHECK(again == original);
}

TEST_CASE("a damaged session table is refused") {
  client_sessions s;
  s.record(1, 1, 1000, "+OK\r\n");
  s.record(2, 1, 1000, "+OK\r\n");
  std::string bytes;
  s.serialise(bytes);
  // Truncated: a client record missing.
  const std::string cut = bytes.substr(0, bytes.size() - 4);
  CHECK(std::holds_alternative<std::string>(round_trip(cut + std::string(4, '\xc0'))));
  // A client twice.
  std::string one;
  client_sessions single;
  single.record(1, 1, 1000, "+OK\r\n");
  single.serialise(one);
  std::string twice;
  {
    prez::snapshot::string_writer writer{twice};
    prez::snapshot::packer pk(writer);
    pk.pack_array(4);
    pk.pack(std::uint64_t{2});
    pk.pack(std::uint64_t{10});
    pk.pack(std::uint64_t{0});
    pk.pack(std::uint64_t{2});
  }
  const std::string client_record = one.substr(5); // after the 5-byte table record
  const auto repeated = round_trip(twice + client_record + client_record);
  REQUIRE(std::holds_alternative<std::string>(repeated));
  CHECK(std::get<std::string>(repeated).find("repeated") != std::string::npos);
  // next_order below a kept reply's order.
  std::string low;
  {
    prez::snapshot::string_writer writer{low};
    prez::snapshot::packer pk(writer);
    pk.pack_array(4);
    pk.pack(std::uint64_t{2});
    pk.pack(std::uint64_t{0});
    pk.pack(std::uint64_t{0});
    pk.pack(std::uint64_t{1});
  }
  CHECK(std::holds_alternative<std::string>(round_trip(low + client_record)));
  CHECK(std::holds_alternative<std::string>(round_trip(twice + client_record))); // one missing
}
