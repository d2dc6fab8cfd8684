#pragma once
// What a peer link reports about itself (INFO raft's link_<peer> lines). Pure.

#include <cstdint>
#include <string>

namespace prez {

struct peer_link_info {
  std::string peer;
  bool connected = false;
  std::uint64_t frames_sent = 0;
  std::uint64_t frames_dropped = 0;  ///< while disconnected, cut, or with the window full
  std::uint64_t window_drops = 0;    ///< of those, because the window was full
  std::uint64_t bytes_in_flight = 0; ///< sent on this connection, not yet acknowledged
};

} // namespace prez
