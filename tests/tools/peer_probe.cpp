// peer_probe: a stand-in for a prez peer, in two modes. Test tool, not part of the server.
//
//   peer_probe HOST PORT COUNT SEED
//     connects to a prez node's cluster port as a peer would and sends it malformed frames
//     (random bytes, truncated and bit-flipped valid frames, oversized declared lengths), to
//     show a node survives bad input from a connected peer.
//   peer_probe sink PORT SECONDS ack|silent
//     publishes a fake node on 127.0.0.1:PORT that counts the frames it receives, answers the
//     peer links' window questions (ack) or never answers them (silent), and after SECONDS
//     prints "frames F bytes B questions Q", to show a link bounds what it sends.

#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "caf/all.hpp"
#include "caf/io/all.hpp"

#include "messages/caf_messages.hpp"
#include "messages/wire_codec.hpp"

namespace {

struct sink_state {
  std::uint64_t frames = 0;
  std::uint64_t bytes = 0;
  std::uint64_t questions = 0;
  bool answer = true;
  /// Unanswered questions stay pending (kept alive, so CAF never reports them broken).
  std::vector<caf::response_promise> held;
};

caf::behavior sink(caf::stateful_actor<sink_state>* self, bool answer) {
  self->state.answer = answer;
  return {
      [=](prez::frame_atom, const std::vector<char>& bytes) {
        ++self->state.frames;
        self->state.bytes += bytes.size();
      },
      [=](prez::ack_atom, std::uint64_t upto) -> caf::result<std::uint64_t> {
        ++self->state.questions;
        if (self->state.answer) return upto;
        self->state.held.push_back(self->make_response_promise());
        return caf::delegated<std::uint64_t>{};
      },
      [=](prez::status_atom) {
        const auto& st = self->state;
        return caf::make_message(st.frames, st.bytes, st.questions);
      },
  };
}

int run_sink(std::uint16_t port, int seconds, bool answer) {
  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  cfg.set("logger.verbosity", caf::atom("quiet"));
  // As a real node does: prez nodes drop a connection that stays silent for 2 s.
  cfg.set("middleman.heartbeat-interval", caf::timespan{std::chrono::milliseconds(200)});
  caf::actor_system system{cfg};
  auto node = system.spawn(sink, answer);
  auto published = system.middleman().publish(node, port, "127.0.0.1", true);
  if (!published) {
    std::fprintf(stderr, "peer_probe: cannot publish on %u: %s\n", port,
                 system.render(published.error()).c_str());
    return 1;
  }
  std::printf("listening\n");
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  caf::scoped_actor self{system};
  int rc = 1;
  self->request(node, std::chrono::seconds(5), prez::status_atom::value)
      .receive(
          [&](std::uint64_t frames, std::uint64_t bytes, std::uint64_t questions) {
            std::printf(
                "frames %llu bytes %llu questions %llu\n", static_cast<unsigned long long>(frames),
                static_cast<unsigned long long>(bytes), static_cast<unsigned long long>(questions));
            rc = 0;
          },
          [&](caf::error& error) {
            std::fprintf(stderr, "peer_probe: %s\n", system.render(error).c_str());
          });
  std::fflush(stdout);
  std::_Exit(rc); // the held promises and the published port go with the process
}

} // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == "sink")
    return run_sink(static_cast<std::uint16_t>(std::stoi(argv[2])), std::stoi(argv[3]),
                    std::string(argv[4]) == "ack");
  if (argc != 5) {
    std::fprintf(stderr, "usage: peer_probe HOST PORT COUNT SEED | sink PORT SECONDS ack|silent\n");
    return 2;
  }
  std::string host = argv[1];
  auto port = static_cast<std::uint16_t>(std::stoi(argv[2]));
  int count = std::stoi(argv[3]);
  std::mt19937_64 random(std::stoull(argv[4]));
  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  cfg.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system system{cfg};
  auto node = system.middleman().remote_actor(host, port);
  if (!node) {
    std::fprintf(stderr, "peer_probe: cannot connect: %s\n", system.render(node.error()).c_str());
    return 1;
  }
  // A valid frame to mutate: a vote request that claims to come from a configured member.
  prez::raft_message vote{"node-0", "node-1", prez::vote_request{999, 1, 1, false}};
  auto valid = prez::encode_frame("node-0", 1, "127.0.0.1:1", prez::frame_body{vote});
  caf::scoped_actor self{system};
  for (int i = 0; i < count; ++i) {
    std::vector<char> bytes;
    switch (i % 4) {
      case 0: // random bytes
        bytes.resize(random() % 512);
        for (auto& b : bytes)
          b = static_cast<char>(random());
        break;
      case 1: // a valid frame cut short
        bytes.assign(valid.begin(), valid.begin() + static_cast<long>(random() % valid.size()));
        break;
      case 2: // a valid frame with a flipped bit
        bytes = valid;
        bytes[random() % bytes.size()] ^= static_cast<char>(1 << (random() % 8));
        break;
      default: // an array header that declares four billion elements
        bytes = {'\xdd', '\xff', '\xff', '\xff', '\xff', '\x01'};
        break;
    }
    self->send(*node, prez::frame_atom::value, std::move(bytes));
  }
  // A message of a type the node does not expect at all.
  self->send(*node, std::string("not a frame"), 42);
  // CAF drops what is still buffered when the process exits. Messages from one sender to one
  // receiver stay in order, so once the node answers this request it has handled every frame.
  bool answered = false;
  self->request(*node, std::chrono::seconds(30), prez::leader_atom::value)
      .receive([&](const std::string&) { answered = true; },
               [&](caf::error& error) {
                 std::fprintf(stderr, "peer_probe: no answer after the frames: %s\n",
                              system.render(error).c_str());
               });
  if (!answered) return 1;
  std::printf("peer_probe: sent %d malformed frames, all delivered\n", count);
  return 0;
}
