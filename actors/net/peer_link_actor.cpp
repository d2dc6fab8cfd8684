#include "actors/net/peer_link_actor.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>

#include "caf/all.hpp"
#include "caf/io/all.hpp"
#include "caf/openssl/manager.hpp"
#include <spdlog/spdlog.h>

#include "actors/caf_messages.hpp"
#include "messages/frame_auth.hpp"
#include "messages/wire_codec.hpp"

namespace prez {

namespace {

using namespace std::chrono_literals;

/// Reconnect back-off bounds: fast enough to rejoin within a heartbeat or two after a restart,
/// slow enough not to spin on a dead host.
constexpr auto reconnect_delay_min = 50ms;
constexpr auto reconnect_delay_max = 1000ms;
/// A connect attempt (TCP + BASP handshake) that takes longer than this is abandoned. Without a
/// timeout a peer that accepts TCP but never answers would hang the link forever
/// (docs/architecture.md §8).
constexpr auto connect_timeout = 2s;
/// The window (see the header): a question after this many frames or bytes (or a quarter of the
/// window, if smaller), whichever comes first...
constexpr std::uint64_t ack_every_frames = 64;
constexpr std::uint64_t ack_every_bytes = 256 << 10;
/// ...and a peer node that leaves one unanswered this long is treated as unreachable.
constexpr auto ack_timeout = 10s;

struct peer_link_state {
  peer_link_args args;
  caf::actor remote; ///< the peer's node door; invalid while disconnected
  /// Test builds only: the fault switch cut this link (frames are dropped as if the network did).
  bool cut = false;
  bool connecting = false;
  std::chrono::milliseconds reconnect_delay = reconnect_delay_min;
  std::uint64_t frames_sent = 0;
  std::uint64_t frames_dropped = 0;
  /// The window. Counters restart with every connection (`generation`).
  std::uint64_t generation = 0;
  std::uint64_t bytes_sent = 0;        ///< on this connection
  std::uint64_t bytes_acked = 0;       ///< the peer has handled this many of them
  std::uint64_t bytes_at_question = 0; ///< bytes_sent when the last question went out
  std::uint64_t frames_since_question = 0;
  std::uint64_t window_drops = 0; ///< frames dropped because the window was full
  static inline const char* name = "peer_link";
};

using peer_link = caf::stateful_actor<peer_link_state>;

/// A new connection (or none): nothing of it is in flight yet.
void reset_window(peer_link_state& st) {
  ++st.generation;
  st.bytes_sent = st.bytes_acked = st.bytes_at_question = st.frames_since_question = 0;
}

void lose_connection(peer_link* self, const char* why);

void schedule_reconnect(peer_link* self) {
  auto& st = self->state;
  self->delayed_send(self, st.reconnect_delay, connect_atom_local::value);
  st.reconnect_delay =
      std::min(st.reconnect_delay * 2, std::chrono::milliseconds{reconnect_delay_max});
}

void connect(peer_link* self) {
  auto& st = self->state;
  if (st.connecting || st.remote) return;
  st.connecting = true;
  // With TLS the openssl manager's actor makes the connection: same protocol (connect_atom and
  // the same answer), but TLS with the configured certificates underneath (D24).
  caf::actor mm = st.args.connector;
  if (!mm)
    mm = caf::actor_cast<caf::actor>(st.args.tls ? self->system().openssl_manager().actor_handle()
                                                 : self->system().middleman().actor_handle());
  self->request(mm, connect_timeout, caf::connect_atom::value, st.args.host, st.args.port)
      .then(
          [=](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
            auto& st = self->state;
            st.connecting = false;
            if (!ptr) {
              spdlog::debug("peer link to {} ({}:{}): no actor published there", st.args.peer,
                            st.args.host, st.args.port);
              schedule_reconnect(self);
              return;
            }
            st.remote = caf::actor_cast<caf::actor>(ptr);
            reset_window(st);
            // A cached proxy may already be dead: then the monitor fires at once.
            self->monitor(st.remote);
            st.reconnect_delay = reconnect_delay_min;
            spdlog::info("peer link to {} ({}:{}) connected", st.args.peer, st.args.host,
                         st.args.port);
          },
          [=](const caf::error& error) {
            auto& st = self->state;
            st.connecting = false;
            spdlog::debug("peer link to {} ({}:{}): connect failed: {}", st.args.peer, st.args.host,
                          st.args.port, self->system().render(error));
            schedule_reconnect(self);
          });
}

#ifdef PREZ_FAULT_INJECTION
/// The test-only fault switch (compiled only with -DPREZ_FAULT_INJECTION=ON, never in a release
/// build): the fault suite creates `partition-<peer>` in this node's data dir to cut the link, as
/// a network partition would, and removes it to heal. Polled, so the hot path reads one bool.
constexpr auto fault_switch_poll_interval = 50ms;

void poll_fault_switch(peer_link* self) {
  auto& st = self->state;
  std::error_code ec;
  bool cut = std::filesystem::exists(
      std::filesystem::path(st.args.fault_dir) / ("partition-" + st.args.peer), ec);
  if (cut != st.cut)
    spdlog::warn("fault switch: link to {} {}", st.args.peer, cut ? "cut" : "healed");
  st.cut = cut;
  self->delayed_send(self, fault_switch_poll_interval, tick_atom::value);
}
#endif

/// Connected, and not cut by the test-only fault switch.
bool usable_connection(const peer_link_state& st) {
  return st.remote && !st.cut;
}

/// Can a frame go out now? Not while disconnected, cut, or with the window full.
bool usable(const peer_link_state& st) {
  return usable_connection(st) && st.bytes_sent - st.bytes_acked < st.args.window_bytes;
}

void lose_connection(peer_link* self, const char* why) {
  auto& st = self->state;
  if (!st.remote) return;
  spdlog::info("peer link to {}: {}", st.args.peer, why);
  self->demonitor(st.remote);
  st.remote = caf::actor{};
  reset_window(st);
  schedule_reconnect(self);
}

/// Is `answer` the peer node's sealed answer to the window question about `upto`?
bool acknowledges(const peer_link_state& st, const std::vector<char>& answer, std::uint64_t upto) {
  auto size = answer.size();
  if (!st.args.cluster_secret.empty()) {
    auto authentic = open_frame(answer, st.args.cluster_secret);
    if (!authentic) return false;
    size = *authentic;
  }
  auto decoded = decode_frame(answer.data(), size);
  if (!decoded.frame) return false;
  const auto* ack = std::get_if<link_ack_response>(&decoded.frame->body);
  return ack != nullptr && ack->upto == upto;
}

/// Asks the peer node to confirm it handled everything sent so far on this connection. The
/// question is a sealed frame sent as a request on the same path as every other frame, so the
/// connection's order makes the answer mean "every earlier frame has been handled"; the answer
/// is a sealed frame too (the node door takes nothing else, docs/decisions.md D15).
void ask_for_ack(peer_link* self) {
  auto& st = self->state;
  st.bytes_at_question = st.bytes_sent;
  st.frames_since_question = 0;
  const auto generation = st.generation;
  const auto upto = st.bytes_sent;
  auto question = encode_frame(st.args.self, st.args.incarnation, st.args.client_address,
                               frame_body{link_ack_request{upto}});
  if (!st.args.cluster_secret.empty()) seal_frame(question, st.args.cluster_secret);
  self->request(st.remote, ack_timeout, frame_atom::value, std::move(question))
      .then(
          [=](const std::vector<char>& answer) {
            auto& st = self->state;
            if (st.generation != generation) return;
            if (!acknowledges(st, answer, upto)) {
              lose_connection(self,
                              "the peer node's acknowledgement is not authentic; reconnecting");
              return;
            }
            st.bytes_acked = std::max(st.bytes_acked, upto);
          },
          [=](const caf::error&) {
            if (self->state.generation == generation)
              lose_connection(self, "no acknowledgement from the peer node; reconnecting");
          });
}

void deliver(peer_link* self, const frame_body& body) {
  auto& st = self->state;
  if (!usable(st)) {
    ++st.frames_dropped;
    if (usable_connection(st) && ++st.window_drops % 1000 == 1)
      spdlog::warn("peer link to {}: {} bytes sent and not yet handled by the peer; dropping "
                   "frames until it catches up ({} dropped so far)",
                   st.args.peer, st.bytes_sent - st.bytes_acked, st.window_drops);
    connect(self);
    return;
  }
  ++st.frames_sent;
  auto bytes = encode_frame(st.args.self, st.args.incarnation, st.args.client_address, body);
  if (!st.args.cluster_secret.empty()) seal_frame(bytes, st.args.cluster_secret);
  st.bytes_sent += bytes.size();
  ++st.frames_since_question;
  self->send(st.remote, frame_atom::value, std::move(bytes));
  if (st.frames_since_question >= ack_every_frames ||
      st.bytes_sent - st.bytes_at_question >= std::min(ack_every_bytes, st.args.window_bytes / 4))
    ask_for_ack(self);
}

caf::behavior peer_link_actor(peer_link* self, peer_link_args args) {
  self->state.args = std::move(args);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    if (st.remote && msg.source == st.remote.address()) lose_connection(self, "connection lost");
  });
  connect(self);
#ifdef PREZ_FAULT_INJECTION
  if (!self->state.args.fault_dir.empty()) poll_fault_switch(self);
#endif
  return {
      [=](peer_send_atom, const raft_message& m) { deliver(self, frame_body{m}); },
      [=](peer_send_atom, forward_request_batch& m) {
        if (!usable(self->state)) {
          // Never sent, so never proposed: tell the session at once that it may retry elsewhere.
          auto sender = caf::actor_cast<caf::actor>(self->current_sender());
          forward_response_batch refused;
          for (const auto& request : m.requests)
            refused.responses.push_back(
                {request.forward_id, static_cast<std::uint8_t>(forward_status::not_leader), {}});
          self->send(sender, frame_atom::value, self->state.args.peer, std::move(refused));
        }
        deliver(self, frame_body{std::move(m)});
      },
      [=](peer_send_atom, forward_response_batch& m) { deliver(self, frame_body{std::move(m)}); },
      [=](connect_atom_local) { connect(self); },
      [=](status_atom) {
        const auto& st = self->state;
        return peer_link_info{st.args.peer,    usable_connection(st),
                              st.frames_sent,  st.frames_dropped,
                              st.window_drops, st.bytes_sent - st.bytes_acked};
      },
#ifdef PREZ_FAULT_INJECTION
      [=](tick_atom) { poll_fault_switch(self); },
#endif
  };
}

} // namespace

caf::actor spawn_peer_link(caf::actor_system& system, peer_link_args args) {
  return system.spawn(peer_link_actor, std::move(args));
}

} // namespace prez
