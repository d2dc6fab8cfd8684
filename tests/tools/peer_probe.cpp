// peer_probe: a stand-in for a prez peer, in two modes. Test tool, not part of the server.
//
//   peer_probe HOST PORT COUNT SEED
//     connects to a prez node's cluster port as a peer would and sends it malformed frames
//     (random bytes, truncated and bit-flipped valid frames, oversized declared lengths), to
//     show a node survives bad input from a connected peer.
//   peer_probe sink PORT SECONDS ack|silent
//     publishes a fake node on 127.0.0.1:PORT that counts the frames it receives, answers the
//     peer links' window questions (link_ack_request frames; ack) or never answers them
//     (silent), and after SECONDS
//     prints "frames F bytes B questions Q", to show a link bounds what it sends.
//   peer_probe intrude HOST PORT LEADER_NAME
//     connects to a node's cluster port knowing no cluster secret and sends it the raw CAF
//     messages a node's actors use among themselves: "who leads?" (leader_atom), "status?"
//     (status_atom), the link window question as it used to be (ack, n), and "your leader is
//     LEADER_NAME in term 1000000" (leader_atom, epoch, term, name) for every epoch from 0 to 63.
//     Prints one line per question, "<question> answered <what>" or "<question> refused", then the
//     same "who leads?" again, then "intruder: sent N raw messages", to show a node answers only
//     sealed frames (docs/decisions.md D15).

#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "caf/all.hpp"
#include "caf/io/all.hpp"

#include "actors/caf_messages.hpp"
#include "messages/wire_codec.hpp"

namespace {

/// The window question's atom before it became a sealed frame: an intruder still tries it.
using old_ack_atom = caf::atom_constant<caf::atom("ack")>;

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
        // The cluster under test has no secret: frames are plain.
        auto decoded = prez::decode_frame(bytes.data(), bytes.size());
        const auto* question =
            decoded.frame ? std::get_if<prez::link_ack_request>(&decoded.frame->body) : nullptr;
        if (question == nullptr) {
          ++self->state.frames;
          self->state.bytes += bytes.size();
          return;
        }
        ++self->state.questions;
        auto rp = self->make_response_promise();
        if (!self->state.answer) {
          self->state.held.push_back(rp);
          return;
        }
        rp.deliver(prez::encode_frame("sink", 1, "127.0.0.1:1",
                                      prez::frame_body{prez::link_ack_response{question->upto}}));
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

/// Asks `node` one raw question expecting an `Answer` and prints "<what> answered <it>" or
/// "<what> refused (<error>)" (a different answer, or none within 5 s, is an error here too).
template <class Answer, class... Ts>
void ask(caf::scoped_actor& self, const caf::actor& node, const char* what, Ts... xs) {
  self->request(node, std::chrono::seconds(5), xs...)
      .receive(
          [&](const Answer& answer) {
            if constexpr (std::is_same_v<Answer, std::string>)
              std::printf("%s answered '%s'\n", what, answer.c_str());
            else
              std::printf("%s answered %llu\n", what, static_cast<unsigned long long>(answer));
          },
          [&](caf::error& error) {
            std::printf("%s refused (%s)\n", what, self->system().render(error).c_str());
          });
  std::fflush(stdout);
}

constexpr std::uint64_t intruder_epochs = 64;

int run_intruder(const std::string& host, std::uint16_t port, const std::string& leader_name) {
  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  cfg.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system system{cfg};
  auto node = system.middleman().remote_actor(host, port);
  if (!node) {
    std::fprintf(stderr, "peer_probe: cannot connect: %s\n", system.render(node.error()).c_str());
    return 1;
  }
  caf::scoped_actor self{system};
  ask<std::string>(self, *node, "leader", prez::leader_atom::value);
  ask<std::string>(self, *node, "status", prez::status_atom::value);
  ask<std::uint64_t>(self, *node, "ack", old_ack_atom::value, std::uint64_t{12345});
  for (std::uint64_t epoch = 0; epoch < intruder_epochs; ++epoch)
    self->send(*node, prez::leader_atom::value, epoch, std::uint64_t{1000000}, leader_name);
  ask<std::string>(self, *node, "leader-after", prez::leader_atom::value);
  // Messages from one sender stay in order: once this request is answered (anything, even an
  // error), the node has handled everything sent before it.
  bool answered = false;
  self->request(*node, std::chrono::seconds(30), prez::frame_atom::value, std::vector<char>{'x'})
      .receive([&] { answered = true; },
               [&](caf::error& error) { answered = error != caf::sec::request_timeout; });
  if (!answered) return 1;
  std::printf("intruder: sent %llu raw messages\n",
              static_cast<unsigned long long>(intruder_epochs + 4));
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == "intrude")
    return run_intruder(argv[2], static_cast<std::uint16_t>(std::stoi(argv[3])), argv[4]);
  if (argc == 5 && std::string(argv[1]) == "sink")
    return run_sink(static_cast<std::uint16_t>(std::stoi(argv[2])), std::stoi(argv[3]),
                    std::string(argv[4]) == "ack");
  if (argc != 5) {
    std::fprintf(stderr, "usage: peer_probe HOST PORT COUNT SEED | sink PORT SECONDS ack|silent | "
                         "intrude HOST PORT LEADER_NAME\n");
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
  // receiver stay in order, so once the node answers this request (anything, even an error) it
  // has handled every frame.
  bool answered = false;
  self->request(*node, std::chrono::seconds(30), prez::frame_atom::value, std::vector<char>{'x'})
      .receive([&] { answered = true; },
               [&](caf::error& error) {
                 answered = error != caf::sec::request_timeout;
                 if (!answered)
                   std::fprintf(stderr, "peer_probe: no answer after the frames: %s\n",
                                system.render(error).c_str());
               });
  if (!answered) return 1;
  std::printf("peer_probe: sent %d malformed frames, all delivered\n", count);
  return 0;
}
