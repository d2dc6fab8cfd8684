// The log actor's persist barriers and group commit (actors/storage/log_actor.cpp,
// docs/decisions.md D2): replies leave in the order requests came, each only after an fsync that
// covers it, and an empty request (a barrier) is answered after every earlier write is durable.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "actors/caf_messages.hpp"
#include "actors/storage/log_actor.hpp"
#include "actors/storage/log_store.hpp"
#include "tests/actors/coordinator_fixture.hpp"
#include "tests/temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

using prez::testing::coordinator_fixture;

/// A fresh directory under /tmp, removed with everything in it at scope exit.
struct temp_dir : prez::testing::temp_dir {
  temp_dir() : prez::testing::temp_dir("prez-log-actor") {}
};

/// What happened, in order: "sync" for each segment fdatasync, "reply <seq> <last_index>" for each
/// answer the client received.
using events = std::vector<std::string>;

struct log_fixture : coordinator_fixture {
  temp_dir dir;
  std::shared_ptr<events> seen = std::make_shared<events>();
  caf::actor log;
  caf::actor client;

  log_fixture() {
    prez::storage::recovered_state recovered;
    auto opened = prez::storage::log_store::open(
        dir.path, recovered, prez::limits::segment_bytes_max, [s = seen](const std::string& path) {
          if (path.ends_with(".seg")) s->push_back("sync");
        });
    REQUIRE(std::holds_alternative<std::unique_ptr<prez::storage::log_store>>(opened));
    seen->clear(); // open's own syncs
    log = prez::spawn_log_actor(
        *system, std::get<std::unique_ptr<prez::storage::log_store>>(std::move(opened)), false);
    client = spawn_fn([s = seen](caf::event_based_actor*) -> caf::behavior {
      return {[s](prez::persisted_atom, const prez::persist_reply& reply) {
        s->push_back("reply " + std::to_string(reply.seq) + " " + std::to_string(reply.last_index));
      }};
    });
    run();
  }

  /// Sends a write of entries [first, last] in term 1 (none when last < first) as request `seq`.
  void persist(std::uint64_t seq, std::uint64_t first, std::uint64_t last) {
    prez::persist_request request;
    request.seq = seq;
    for (auto index = first; index <= last; ++index)
      request.entries.push_back({1, index, 0, "x"});
    caf::send_as(client, log, prez::persist_atom::value, std::move(request));
  }
  void barrier(std::uint64_t seq) { persist(seq, 1, 0); }
};

} // namespace

TEST_CASE_METHOD(log_fixture, "writes that arrive together share one fsync; replies keep order") {
  persist(1, 1, 2);
  persist(2, 3, 3);
  barrier(3);
  run();
  CHECK(*seen == events{"sync", "reply 1 3", "reply 2 3", "reply 3 3"});
}

TEST_CASE_METHOD(log_fixture, "a barrier is answered only after every earlier write is durable") {
  persist(1, 1, 1);
  sched->run_once(); // the log writes entry 1 and queues its flush behind itself
  barrier(2);        // arrives after that flush was queued
  persist(3, 2, 2);  // and a write after the barrier
  run();
  // The log runs until its mailbox is empty before the client reads its replies, so compare the
  // replies and count the syncs: the barrier's answer covers entry 2, written after entry 1's
  // fsync, so it needed the second fsync.
  std::vector<std::string> replies;
  std::copy_if(seen->begin(), seen->end(), std::back_inserter(replies),
               [](const std::string& e) { return e != "sync"; });
  CHECK(replies == events{"reply 1 1", "reply 2 2", "reply 3 2"});
  CHECK(std::count(seen->begin(), seen->end(), "sync") == 2);
}

TEST_CASE_METHOD(log_fixture, "a barrier with nothing before it is answered too") {
  barrier(1);
  run();
  CHECK(*seen == events{"reply 1 0"});
}
