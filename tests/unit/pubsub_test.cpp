// Pub/sub on one node (actors/gateway/pubsub.hpp) and PUBLISH in the state machine: who receives
// a message, PUBSUB's answers, the frames in RESP2 and RESP3, and messages queued in commit
// order by applied entries (transactions included).

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "actors/gateway/pubsub.hpp"
#include "actors/state_machine/kv_state.hpp"

using namespace prez;
using pubsub::delivery;

TEST_CASE("a message reaches channel subscribers then pattern subscribers once each", "[pubsub]") {
  pubsub::registry r;
  CHECK(r.subscribe(2, "news"));
  CHECK(r.subscribe(1, "news"));
  CHECK_FALSE(r.subscribe(1, "news")); // again: nothing changes
  CHECK(r.psubscribe(1, "n*"));
  CHECK(r.psubscribe(3, "n?ws"));
  CHECK(r.psubscribe(3, "x*"));
  CHECK(r.receivers("news") == std::vector<delivery>{{1, ""}, {2, ""}, {1, "n*"}, {3, "n?ws"}});
  CHECK(r.count("zzz") == 0);
  CHECK(r.count("nx") == 1);
  CHECK(r.command({"PUBSUB", "NUMSUB", "news", "x"}) ==
        "*4\r\n$4\r\nnews\r\n:2\r\n$1\r\nx\r\n:0\r\n");
  CHECK(r.command({"PUBSUB", "NUMPAT"}) == ":3\r\n");
  CHECK(r.command({"PUBSUB", "CHANNELS"}) == "*1\r\n$4\r\nnews\r\n");
  CHECK(r.command({"PUBSUB", "CHANNELS", "x*"}) == "*0\r\n");
  CHECK(r.unsubscribe(2, "news"));
  CHECK_FALSE(r.unsubscribe(2, "news"));
  r.remove(1);
  CHECK(r.receivers("news") == std::vector<delivery>{{3, "n?ws"}});
  CHECK(r.channel_count() == 0);
  CHECK(r.command({"PUBSUB", "NUMPAT"}) == ":2\r\n");
  CHECK(r.punsubscribe(3, "x*"));
  CHECK(r.pattern_count() == 1);
  CHECK(r.command({"PUBSUB", "FOO"}) == "-ERR unknown subcommand 'FOO'. Try PUBSUB HELP.\r\n");
}

TEST_CASE("pub/sub frames are arrays in RESP2 and pushes in RESP3", "[pubsub]") {
  CHECK(pubsub::message("", "c", "hi", 2) == "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$2\r\nhi\r\n");
  CHECK(pubsub::message("c*", "c", "hi", 3) ==
        ">4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$1\r\nc\r\n$2\r\nhi\r\n");
  CHECK(pubsub::confirmation("subscribe", std::string("c"), 1, 2) ==
        "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n");
  CHECK(pubsub::confirmation("unsubscribe", std::nullopt, 0, 2) ==
        "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
  CHECK(pubsub::confirmation("unsubscribe", std::nullopt, 0, 3) ==
        ">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n");
  CHECK(pubsub::subscribed_pong({"PING"}) == "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
  CHECK(pubsub::allowed_while_subscribed("reset"));
  CHECK_FALSE(pubsub::allowed_while_subscribed("get"));
}

TEST_CASE("PUBLISH queues its message in commit order and keeps 0 in the log", "[pubsub]") {
  kv_state kv;
  CHECK(kv.apply({"PUBLISH", "a", "1"}, 1000) == ":0\r\n");
  CHECK(kv.apply_transaction({{"PUBLISH", "b", "2"}, {"SET", "k", "v"}, {"PUBLISH", "a", "3"}},
                             1000) == "*3\r\n:0\r\n+OK\r\n:0\r\n");
  CHECK(kv.take_published() == std::vector<std::string>{"a", "1", "b", "2", "a", "3"});
  CHECK(kv.take_published().empty());
  CHECK(kv.size() == 1); // messages are not state
}
