// role_executor: the one executor of a role's effects, shared by the role actors and the simulator.
#include <catch2/catch.hpp>

#include "actors/raft/role_executor.hpp"
#include "tests/paper/raft_test_support.hpp"

using namespace prez;
using namespace prez::raft;
using namespace prez::raft::test;

namespace {

raft_message reply_to(const std::string& peer) {
  return append_reply("n1", peer, 3, true, 1);
}

} // namespace

TEST_CASE("a role starts with a barrier, and writes get increasing persist seqs") {
  role_executor ex;
  auto context = context_for("n1", 3, 3, {1});
  CHECK(ex.start().seq == 1);
  raft_effects fx;
  fx.entries_to_persist.push_back(entry(2, 3));
  fx.hard_state_changed = true;
  auto out = ex.run(std::move(fx), context);
  REQUIRE(out.persist);
  CHECK(out.persist->seq == 2);
  CHECK(out.persist->entries.size() == 1);
  REQUIRE(out.persist->hard);
  CHECK(out.persist->hard->term == 3);
}

TEST_CASE("messages after persist wait for their write, or for a barrier when there is none") {
  role_executor ex;
  auto context = context_for("n1", 3, 3, {1});
  ex.start();
  CHECK(ex.persisted(1).empty()); // the start barrier answered: the role may speak
  raft_effects with_write;
  with_write.entries_to_persist.push_back(entry(2, 3));
  with_write.messages_after_persist.push_back(reply_to("n2"));
  with_write.messages.push_back(reply_to("n3"));
  auto out = ex.run(std::move(with_write), context);
  CHECK(out.send.size() == 1); // the plain message goes at once
  REQUIRE(out.persist);
  const auto write_seq = out.persist->seq;
  raft_effects no_write;
  no_write.messages_after_persist.push_back(reply_to("n3"));
  auto barrier = ex.run(std::move(no_write), context);
  REQUIRE(barrier.persist); // an empty request: a barrier behind the write
  CHECK(barrier.persist->entries.empty());
  CHECK(barrier.persist->seq == write_seq + 1);
  CHECK(ex.held() == 2);
  CHECK(ex.persisted(write_seq - 1).empty()); // the start barrier releases nothing
  auto first = ex.persisted(write_seq);
  REQUIRE(first.size() == 1);
  CHECK(first[0].to == "n2");
  CHECK(ex.persisted(write_seq + 1).size() == 1);
  CHECK(ex.held() == 0);
}

TEST_CASE("nothing a role says leaves before its start barrier is answered") {
  // What a role says rests on the term and vote earlier roles wrote: a single voter that wins
  // at once must not send entries of a term it could lose in a crash and take again.
  role_executor ex;
  auto context = context_for("n1", 3, 3, {1});
  const auto start = ex.start();
  raft_effects fx;
  fx.messages.push_back(reply_to("n2"));
  auto out = ex.run(std::move(fx), context);
  CHECK(out.send.empty());
  CHECK(ex.held() == 1);
  auto released = ex.persisted(start.seq);
  REQUIRE(released.size() == 1);
  CHECK(released[0].to == "n2");
  raft_effects later;
  later.messages.push_back(reply_to("n3"));
  CHECK(ex.run(std::move(later), context).send.size() == 1);
}

TEST_CASE("a role that ends drops what it held and does nothing more") {
  role_executor ex;
  auto context = context_for("n1", 3, 3, {1});
  ex.start();
  raft_effects fx;
  fx.entries_to_persist.push_back(entry(2, 3));
  fx.messages_after_persist.push_back(reply_to("n2"));
  fx.next_role = role::follower;
  auto out = ex.run(std::move(fx), context);
  CHECK(out.next_role == role::follower);
  CHECK(ex.retired());
  CHECK(ex.persisted(2).empty());
  raft_effects later;
  later.messages.push_back(reply_to("n3"));
  CHECK(ex.run(std::move(later), context).send.empty());
}
