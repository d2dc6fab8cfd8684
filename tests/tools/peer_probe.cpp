// peer_probe: connects to a prez node's cluster port as a CAF peer would and sends it malformed
// frames (random bytes, truncated and bit-flipped valid frames, oversized declared lengths), to
// show a node survives bad input from a connected peer. Test tool, not part of the server.
//   peer_probe HOST PORT COUNT SEED

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "caf/all.hpp"
#include "caf/io/all.hpp"

#include "messages/caf_messages.hpp"
#include "messages/wire_codec.hpp"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: peer_probe HOST PORT COUNT SEED\n");
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
