#include <catch2/catch.hpp>

#include "actors/state_machine/client_sessions.hpp"

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
