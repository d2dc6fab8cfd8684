// The peer link's window (actors/net/peer_link_actor.cpp) under CAF's test_coordinator: frames
// past the window are dropped until the peer node answers the link's question, only an authentic
// answer about the question asked moves the window, an unanswered question counts as a lost
// connection, and a forwarded command that cannot go out is answered "not leader" at once.
// The network is replaced by two stand-ins: a connector that answers as CAF's middleman does, and
// a node door that keeps the questions until the test answers them.

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "actors/caf_messages.hpp"
#include "actors/net/peer_link_actor.hpp"
#include "actors/net/peer_link_info.hpp"
#include "messages/client_messages.hpp"
#include "messages/frame_auth.hpp"
#include "messages/wire_codec.hpp"
#include "tests/actors/coordinator_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using prez::testing::coordinator_fixture;

const std::string secret = "peer-link-test-secret";

/// The test tells the stand-in door to answer question `i` with these bytes. A response promise
/// must be delivered from inside its actor.
using answer_atom = caf::atom_constant<caf::atom("answer")>;

/// What the stand-in node door saw.
struct door_log {
  std::uint64_t frames = 0; ///< data frames (everything but window questions)
  std::uint64_t bytes = 0;  ///< their bytes (the window counts data frames only)
  std::uint64_t forged = 0; ///< frames whose seal did not check
  /// Window questions in the order asked: the promise and the byte count asked about.
  std::vector<std::pair<caf::response_promise, std::uint64_t>> questions;
};

struct link_fixture : coordinator_fixture {
  std::shared_ptr<door_log> seen = std::make_shared<door_log>();
  std::shared_ptr<int> connects = std::make_shared<int>(0);
  caf::actor door;
  caf::actor connector;
  caf::actor link;
  caf::scoped_actor me{*system};

  link_fixture() {
    door = spawn_fn([log = seen](caf::event_based_actor* self) -> caf::behavior {
      return {[=](answer_atom, std::size_t i, std::vector<char>& bytes) {
                log->questions.at(i).first.deliver(std::move(bytes));
              },
              [=](prez::frame_atom, std::vector<char>& bytes) -> caf::result<std::vector<char>> {
                auto size = prez::open_frame(bytes, secret);
                if (!size) {
                  ++log->forged;
                  return caf::delegated<std::vector<char>>{};
                }
                auto decoded = prez::decode_frame(bytes.data(), *size);
                REQUIRE(decoded.frame);
                if (const auto* q = std::get_if<prez::link_ack_request>(&decoded.frame->body)) {
                  auto promise = self->make_response_promise<std::vector<char>>();
                  log->questions.emplace_back(promise, q->upto);
                  return promise;
                }
                ++log->frames;
                log->bytes += bytes.size();
                return caf::delegated<std::vector<char>>{};
              }};
    });
    connector = spawn_fn([d = door, n = connects](caf::event_based_actor*) -> caf::behavior {
      return {[=](caf::connect_atom, const std::string&, std::uint16_t)
                  -> caf::result<caf::node_id, caf::strong_actor_ptr, std::set<std::string>> {
        ++*n;
        return {caf::node_id{}, caf::actor_cast<caf::strong_actor_ptr>(d), std::set<std::string>{}};
      }};
    });
  }

  ~link_fixture() {
    // Stop the actors and fire the timers that still hold them, so nothing outlives the test.
    for (const auto& a : {link, door, connector})
      if (a) me->send_exit(a, caf::exit_reason::kill);
    run();
    for (int i = 0; i < 4 && sched->trigger_timeouts() > 0; ++i)
      run();
  }

  void start_link(std::uint64_t window_bytes) {
    prez::peer_link_args args;
    args.self = "n1";
    args.incarnation = 7;
    args.peer = "n2";
    args.host = "127.0.0.1";
    args.port = 1;
    args.client_address = "127.0.0.1:2";
    args.cluster_secret = secret;
    args.window_bytes = window_bytes;
    args.connector = connector;
    link = prez::spawn_peer_link(*system, args);
    run();
  }

  /// An AppendEntries with `payload` bytes of entry data: one frame of a little more than that.
  static prez::raft_message append(std::size_t payload) {
    prez::append_entries_request request;
    request.term = 3;
    request.entries.push_back(prez::log_entry{3, 1, 1, std::string(payload, 'x')});
    return prez::raft_message{"n1", "n2", request};
  }

  void send_frames(int count, std::size_t payload) {
    for (int i = 0; i < count; ++i)
      me->send(link, prez::peer_send_atom::value, append(payload));
    run();
  }

  prez::peer_link_info status() {
    me->send(link, prez::status_atom::value);
    run();
    prez::peer_link_info info;
    me->receive([&](const prez::peer_link_info& x) { info = x; });
    return info;
  }

  /// The node's sealed answer to a question about `upto`.
  static std::vector<char> answer(std::uint64_t upto, const std::string& key = secret) {
    auto bytes =
        prez::encode_frame("n2", 9, "127.0.0.1:3", prez::frame_body{prez::link_ack_response{upto}});
    prez::seal_frame(bytes, key);
    return bytes;
  }

  /// The door answers question `i` (in the order asked) with `bytes`.
  void reply(std::size_t i, std::vector<char> bytes) {
    me->send(door, answer_atom::value, i, std::move(bytes));
    run();
  }

  /// The door answers every question asked so far, truthfully.
  void answer_all() {
    for (std::size_t i = 0; i < seen->questions.size(); ++i)
      reply(i, answer(seen->questions[i].second));
  }
};

} // namespace

TEST_CASE_METHOD(link_fixture, "frames past the window are dropped until the peer node answers",
                 "[peer_link]") {
  start_link(8192);
  REQUIRE(*connects == 1);
  REQUIRE(status().connected);

  // 40 frames of about 1 KiB: a question goes out after each quarter window (2 KiB), and the
  // window (8 KiB) fills after about 8 frames while no question is answered.
  send_frames(40, 1000);
  auto info = status();
  CHECK(info.connected);
  CHECK(seen->frames >= 7);
  CHECK(seen->frames <= 9);
  CHECK(info.frames_sent == seen->frames);
  CHECK(info.window_drops == 40 - seen->frames);
  CHECK(info.frames_dropped == info.window_drops);
  CHECK(info.bytes_in_flight == seen->bytes);
  CHECK(info.bytes_in_flight >= 8192);
  REQUIRE_FALSE(seen->questions.empty());
  CHECK(seen->forged == 0);

  // The node answers every question: the window opens and frames flow again.
  const auto before = seen->frames;
  answer_all();
  CHECK(status().bytes_in_flight == 0);
  send_frames(4, 1000);
  CHECK(seen->frames == before + 4);
  CHECK(status().window_drops == info.window_drops);
  CHECK(*connects == 1);
}

TEST_CASE_METHOD(link_fixture,
                 "an answer to an older question opens the window only as far as it covers",
                 "[peer_link]") {
  start_link(8192);
  send_frames(40, 1000);
  REQUIRE(seen->questions.size() >= 2);
  // Answer only the first question: the bytes after it stay in flight.
  const auto upto = seen->questions.front().second;
  reply(0, answer(upto));
  auto info = status();
  CHECK(info.connected);
  CHECK(info.bytes_in_flight == seen->bytes - upto);
}

TEST_CASE_METHOD(link_fixture, "an answer sealed with another secret drops the connection",
                 "[peer_link]") {
  start_link(8192);
  send_frames(40, 1000);
  REQUIRE_FALSE(seen->questions.empty());
  reply(0, answer(seen->questions.front().second, "someone-elses-secret"));
  auto info = status();
  CHECK_FALSE(info.connected);
  // The link reconnects after its back-off, with an empty window.
  sched->advance_time(100ms);
  run();
  CHECK(*connects == 2);
  info = status();
  CHECK(info.connected);
  CHECK(info.bytes_in_flight == 0);
  // An authentic answer to the old connection's next question arrives after the reconnect. It
  // says nothing about the new connection: the new frame stays in flight.
  REQUIRE(seen->questions.size() >= 2);
  const auto questions = seen->questions.size();
  const auto bytes_before = seen->bytes;
  send_frames(1, 1000);
  REQUIRE(seen->questions.size() == questions);
  reply(1, answer(seen->questions[1].second));
  info = status();
  CHECK(info.connected);
  CHECK(info.bytes_in_flight == seen->bytes - bytes_before);
}

TEST_CASE_METHOD(link_fixture, "an answer about another byte count drops the connection",
                 "[peer_link]") {
  start_link(8192);
  send_frames(40, 1000);
  REQUIRE_FALSE(seen->questions.empty());
  reply(0, answer(seen->questions.front().second + 1));
  CHECK_FALSE(status().connected);
}

TEST_CASE_METHOD(link_fixture, "a question left unanswered counts as a lost connection",
                 "[peer_link]") {
  start_link(8192);
  send_frames(40, 1000);
  REQUIRE_FALSE(seen->questions.empty());
  CHECK(status().connected);
  sched->advance_time(9s);
  run();
  CHECK(status().connected);
  sched->advance_time(2s);
  run();
  CHECK_FALSE(status().connected);
  sched->advance_time(100ms);
  run();
  auto info = status();
  CHECK(info.connected);
  CHECK(info.bytes_in_flight == 0);
  // A frame on the new connection; then late answers to the old connection's questions arrive.
  // They say nothing about the new connection: its frame stays in flight.
  const auto old_questions = seen->questions.size();
  const auto bytes_before = seen->bytes;
  send_frames(1, 1000);
  REQUIRE(seen->questions.size() == old_questions);
  for (std::size_t i = 0; i < old_questions; ++i)
    reply(i, answer(seen->questions[i].second));
  info = status();
  CHECK(info.connected);
  CHECK(info.bytes_in_flight == seen->bytes - bytes_before);
}

TEST_CASE_METHOD(link_fixture,
                 "a forwarded command that cannot go out is answered not-leader and never sent",
                 "[peer_link]") {
  start_link(4096);
  send_frames(20, 1000); // the window is full now
  const auto frames = seen->frames;
  prez::forward_request request;
  request.forward_id = 42;
  request.command.argv = {"SET", "k", "v"};
  auto second = request;
  second.forward_id = 43;
  me->send(link, prez::peer_send_atom::value, prez::forward_request_batch{{request, second}});
  run();
  bool answered = false;
  me->receive(
      [&](prez::frame_atom, const std::string& peer, const prez::forward_response_batch& batch) {
        answered = true;
        CHECK(peer == "n2");
        REQUIRE(batch.responses.size() == 2);
        CHECK(batch.responses[0].forward_id == 42);
        CHECK(batch.responses[1].forward_id == 43);
        for (const auto& r : batch.responses)
          CHECK(r.status == static_cast<std::uint8_t>(prez::forward_status::not_leader));
      });
  CHECK(answered);
  CHECK(seen->frames == frames);
}
