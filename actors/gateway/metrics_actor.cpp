// The metrics port's brokers (metrics_actor.hpp): an acceptor, and one connection broker per
// HTTP client. The decisions (what a request is, the response text, the metrics text, the health
// rule) are pure code in http_request.cpp and metrics_report.cpp; this file only moves bytes.

#include "actors/gateway/metrics_actor.hpp"

#include <chrono>
#include <string>

#include <spdlog/spdlog.h>

#include "caf/all.hpp"
#include "caf/io/all.hpp"

#include "actors/caf_messages.hpp"
#include "actors/gateway/http_request.hpp"
#include "actors/gateway/info_gather.hpp"
#include "actors/gateway/metrics_report.hpp"
#include "config/limits.hpp"

namespace prez {

namespace {

struct http_connection_state {
  caf::io::connection_handle handle;
  /// The request's bytes so far. Invariant: size() <= http_request_header_bytes_max +
  /// read_chunk_bytes (parse_request_head refuses a longer head, and then nothing more is read).
  /// A read holds more than a whole head, so an oversized one is usually read to its end before
  /// the 400: closing with unread bytes would reset the connection and lose the answer.
  std::string buffer;
  bool answering = false; ///< a request was taken: later bytes are ignored
  static inline const char* name = "metrics_connection";
};

using http_connection = caf::io::stateful_broker<http_connection_state>;

/// Writes `text` and closes (CAF's close writes the buffer out before the FIN).
void answer(http_connection* self, const std::string& text) {
  auto& st = self->state;
  self->write(st.handle, text.size(), text.data());
  self->flush(st.handle);
  self->close(st.handle);
  self->quit();
}

/// GET /metrics or GET /health: gathers the INFO figures, then answers.
void serve(http_connection* self, http::route route, const metrics_settings& settings) {
  gather_info(
      self, settings.node, settings.gateway,
      [=](const info_snapshot& info) {
        if (route == http::route::metrics) {
          answer(self, http::format_response(200, metrics_content_type, format_metrics(info)));
          return;
        }
        auto verdict = judge_health(info, limits::health_apply_lag_entries_max);
        answer(self, http::format_response(verdict.healthy ? 200 : 503, "application/json",
                                           verdict.body));
      },
      [=](const caf::error& error) {
        spdlog::warn("metrics port: node status unavailable: {}", self->system().render(error));
        if (route == http::route::metrics)
          answer(self, http::format_response(500, "text/plain; charset=utf-8",
                                             "node status unavailable\n"));
        else
          answer(self, http::format_response(
                           503, "application/json",
                           "{\"health\":\"false\",\"reason\":\"node status unavailable\"}\n"));
      });
}

void handle_data(http_connection* self, const std::vector<char>& bytes,
                 const metrics_settings& settings) {
  auto& st = self->state;
  if (st.answering) return;
  st.buffer.append(bytes.begin(), bytes.end());
  auto head = http::parse_request_head(st.buffer, limits::http_request_header_bytes_max);
  if (head.state == http::head_state::incomplete) return;
  st.answering = true;
  st.buffer.clear();
  self->halt(st.handle);
  auto route = http::route_of(head);
  if (route == http::route::metrics || route == http::route::health)
    return serve(self, route, settings);
  if (route == http::route::bad_request)
    spdlog::debug("metrics port: bad request from {}: {}", self->remote_addr(st.handle),
                  head.error);
  answer(self, http::error_response(route, head.error));
}

caf::behavior http_connection_actor(http_connection* self, caf::io::connection_handle handle,
                                    metrics_settings settings) {
  self->state.handle = handle;
  self->configure_read(handle, caf::io::receive_policy::at_most(limits::read_chunk_bytes));
  // A client that never finishes its request is hung up on. Anonymous: a message a broker sends
  // itself that is still pending when it ends would keep it alive (docs/architecture.md §8).
  caf::delayed_anon_send(caf::actor_cast<caf::actor>(self),
                         std::chrono::milliseconds(limits::http_request_timeout_ms),
                         tick_atom::value);
  return {
      [=](const caf::io::new_data_msg& msg) { handle_data(self, msg.buf, settings); },
      [=](tick_atom) {
        if (self->state.answering) return;
        self->close(self->state.handle);
        self->quit();
      },
      [=](const caf::io::connection_closed_msg&) { self->quit(); },
  };
}

struct metrics_acceptor_state {
  metrics_settings settings;
  /// Connections open now. Invariant: connected <= limits::http_connections_max.
  std::uint64_t connected = 0;
  std::uint64_t refused = 0; ///< connections closed at once because too many were open
  static inline const char* name = "metrics_acceptor";
};

using metrics_acceptor = caf::io::stateful_broker<metrics_acceptor_state>;

caf::behavior metrics_acceptor_actor(metrics_acceptor* self, caf::io::doorman_ptr doorman,
                                     metrics_settings settings) {
  self->state.settings = std::move(settings);
  self->add_doorman(std::move(doorman));
  self->set_down_handler([=](caf::down_msg&) { --self->state.connected; });
  return {
      [=](const caf::io::new_connection_msg& msg) {
        auto& st = self->state;
        if (st.connected >= limits::http_connections_max) {
          if (++st.refused % 1000 == 1)
            spdlog::warn("metrics port: {} connections open; closing a new one ({} so far)",
                         st.connected, st.refused);
          self->close(msg.handle);
          return;
        }
        auto worker = self->fork(http_connection_actor, msg.handle, st.settings);
        self->monitor(worker);
        ++st.connected;
      },
      [=](const caf::io::connection_closed_msg&) {},
  };
}

} // namespace

caf::expected<caf::actor> spawn_metrics_server(caf::actor_system& system,
                                               const metrics_settings& settings) {
  auto& mm = system.middleman();
  auto doorman = mm.backend().new_tcp_doorman(settings.port, settings.bind.c_str(), true);
  if (!doorman) return doorman.error();
  return mm.spawn_broker(metrics_acceptor_actor, std::move(*doorman), settings);
}

} // namespace prez
