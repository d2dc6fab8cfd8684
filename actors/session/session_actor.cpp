#include "actors/session/session_actor.hpp"

#include <iterator>
#include <map>
#include <memory>
#include <unordered_map>
#include <variant>

#include "caf/all.hpp"
#include <spdlog/spdlog.h>

#include "actors/caf_messages.hpp"
#include "actors/fail_stop_actor.hpp"
#include "actors/session/session_logic.hpp"
#include "config/limits.hpp"

namespace prez {

namespace {

using namespace std::chrono_literals;

/// How often pending commands are checked against their deadlines, and bounced ones retried.
constexpr auto sweep_interval = 20ms;

/// Milliseconds of the monotonic clock: the only time session_logic sees.
std::uint64_t now_ms() {
  using namespace std::chrono;
  return static_cast<std::uint64_t>(
      duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count());
}

struct session_state {
  std::unique_ptr<session::session_logic> logic;
  caf::actor state_machine;
  std::map<node_name, caf::actor> peers;
  caf::actor role_actor;
  /// Local connections' commands waiting for an answer, by the token session_logic knows them
  /// by: the connection and the command's seq.
  std::map<std::uint64_t, std::pair<caf::actor, std::uint64_t>> waiting;
  std::uint64_t next_token = 0;
  /// Answers gathered while one message is handled, per connection (by actor id): each
  /// connection gets them in one message (flush_replies).
  std::unordered_map<caf::actor_id, std::pair<caf::actor, std::vector<connection_reply>>> replies;
  /// Forwards and answers for each peer, gathered until this manager's mailbox is drained (the
  /// flush message): one frame each way per peer, not one per command.
  struct peer_out {
    forward_request_batch requests;
    std::size_t request_bytes = 0;
    forward_response_batch responses;
    std::size_t response_bytes = 0;
  };
  std::map<node_name, peer_out> to_peers;
  bool peer_flush_scheduled = false;
  /// Reads the state machine did not serve within limits::state_machine_read_wait (logged
  /// sampled: the first and every 1000th).
  std::uint64_t reads_unserved = 0;
  static inline const char* name = "session_manager";
};

using session_self = caf::stateful_actor<session_state>;

/// Sends the gathered answers: one message per connection, in the order they were given.
void flush_replies(session_self* self) {
  auto& st = self->state;
  for (auto& [id, to] : st.replies)
    self->send(to.first, reply_atom::value, std::move(to.second));
  st.replies.clear();
}

std::size_t argument_bytes(const client_command& command) {
  std::size_t bytes = 0;
  for (const auto& arg : command.argv)
    bytes += arg.size();
  for (const auto& queued : command.transaction)
    for (const auto& arg : queued)
      bytes += arg.size();
  return bytes;
}

/// Sends what is gathered for `peer`'s link.
void send_to_peer(session_self* self, const caf::actor& link, session_state::peer_out& out) {
  if (!out.requests.requests.empty())
    self->send(link, peer_send_atom::value, std::move(out.requests));
  if (!out.responses.responses.empty())
    self->send(link, peer_send_atom::value, std::move(out.responses));
  out = {};
}

void flush_peers(session_self* self) {
  auto& st = self->state;
  st.peer_flush_scheduled = false;
  for (auto& [peer, out] : st.to_peers)
    if (auto i = st.peers.find(peer); i != st.peers.end()) send_to_peer(self, i->second, out);
  st.to_peers.clear();
}

/// The gathered batches for `peer`, sent first if `bytes` more would pass a batch's bounds.
session_state::peer_out& peer_batch(session_self* self, const node_name& peer,
                                    const caf::actor& link, bool request, std::size_t bytes) {
  auto& st = self->state;
  auto& out = st.to_peers[peer];
  const auto count = request ? out.requests.requests.size() : out.responses.responses.size();
  const auto held = request ? out.request_bytes : out.response_bytes;
  if (count > 0 &&
      (count >= limits::forward_batch_count_max || held + bytes > limits::forward_batch_bytes_max))
    send_to_peer(self, link, out);
  if (!st.peer_flush_scheduled) {
    st.peer_flush_scheduled = true;
    self->send(self, flush_atom::value);
  }
  return out;
}

/// Gives one answer: gathered for the waiting connection (flush_replies sends it), or for the
/// forwarding node's link (flush_peers sends it).
void deliver(session_self* self, const session::answer& a) {
  auto& st = self->state;
  if (const auto* local = std::get_if<session::local_origin>(&a.to)) {
    auto i = st.waiting.find(local->token);
    if (i == st.waiting.end()) return;
    auto& [connection, seq] = i->second;
    auto& out = st.replies[connection.id()];
    if (!out.first) out.first = connection;
    out.second.push_back({seq, a.text});
    st.waiting.erase(i);
    return;
  }
  const auto& remote = std::get<session::remote_origin>(a.to);
  auto i = st.peers.find(remote.peer);
  if (i == st.peers.end()) return;
  auto& out = peer_batch(self, remote.peer, i->second, false, a.text.size());
  out.responses.responses.push_back(
      {remote.forward_id, static_cast<std::uint8_t>(a.status), a.text});
  out.response_bytes += a.text.size();
}

/// Carries the logic's effects out, in the order session_effects documents: the proposals and
/// the read rounds each in one message to the role actor, the reads to serve in one request
/// per index to the state machine, the answers in one message per connection.
void execute(session_self* self, session::session_effects&& fx) {
  auto& st = self->state;
  if (!fx.propose.empty()) self->send(st.role_actor, propose_atom::value, std::move(fx.propose));
  if (!fx.read_index.empty()) self->send(st.role_actor, read_atom::value, std::move(fx.read_index));
  for (auto& [peer, request] : fx.forward) {
    auto i = st.peers.find(peer);
    if (i != st.peers.end()) {
      const auto bytes = argument_bytes(request.command);
      auto& out = peer_batch(self, peer, i->second, true, bytes);
      out.requests.requests.push_back(std::move(request));
      out.request_bytes += bytes;
    } else {
      // No link to that name (not a member): the attempt never left; the logic retries it.
      forward_response bounced{
          request.forward_id, static_cast<std::uint8_t>(forward_status::not_leader), {}};
      self->send(self, frame_atom::value, peer, forward_response_batch{{std::move(bounced)}});
    }
  }
  // Reads confirmed at the same index wait for the same applied index: one request serves them.
  std::map<std::uint64_t,
           std::pair<std::vector<session::origin>, std::vector<std::vector<std::string>>>>
      by_index;
  for (auto& serve : fx.serve) {
    auto& group = by_index[serve.index];
    group.first.push_back(std::move(serve.to));
    group.second.push_back(std::move(serve.argv));
  }
  for (auto& [index, group] : by_index) {
    auto to = std::make_shared<std::vector<session::origin>>(std::move(group.first));
    const auto at = index;
    // The state machine answers once it has applied `index`; a read is never left unanswered:
    // past the wait (or if the request fails otherwise) the client gets a retryable error.
    self->request(st.state_machine, limits::state_machine_read_wait, read_atom::value, index,
                  std::move(group.second))
        .then(
            [=](std::vector<std::string>& texts) {
              for (std::size_t i = 0; i < to->size(); ++i)
                deliver(self,
                        {(*to)[i], forward_status::ok,
                         i < texts.size() ? std::move(texts[i]) : session::replies::apply_timeout});
              flush_replies(self);
            },
            [=](const caf::error& error) {
              self->state.reads_unserved += to->size();
              if (self->state.reads_unserved % 1000 < to->size())
                spdlog::warn("reads at index {} were not served by the state machine: {} ({} so "
                             "far)",
                             at, self->system().render(error), self->state.reads_unserved);
              for (const auto& origin : *to)
                deliver(self, {origin, forward_status::ok, session::replies::apply_timeout});
              flush_replies(self);
            });
  }
  for (const auto& a : fx.answers)
    deliver(self, a);
  flush_replies(self);
}

/// Appends `more`'s effects to `into`'s, keeping each list's order.
void append(session::session_effects& into, session::session_effects&& more) {
  auto move_all = [](auto& to, auto& from) {
    to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
  };
  move_all(into.propose, more.propose);
  move_all(into.read_index, more.read_index);
  move_all(into.forward, more.forward);
  move_all(into.serve, more.serve);
  move_all(into.answers, more.answers);
}

caf::behavior session_actor(session_self* self, session_settings settings) {
  session::session_config config;
  config.self = settings.self;
  config.incarnation = settings.incarnation;
  config.leader_wait_ms = static_cast<std::uint64_t>(settings.leader_wait.count());
  config.write_timeout_ms = static_cast<std::uint64_t>(settings.write_timeout.count());
  config.redirect = settings.redirect;
  config.pending_max = limits::pending_commands_max;
  self->state.logic = std::make_unique<session::session_logic>(std::move(config));
  self->set_exception_handler(exception_exit_reason); // the fail-stop line names what was thrown
  self->delayed_send(self, sweep_interval, tick_atom::value);
  auto* logic = self->state.logic.get();
  return {
      [=](start_atom, caf::actor state_machine) {
        self->state.state_machine = std::move(state_machine);
      },
      [=](peer_send_atom, const std::map<node_name, caf::actor>& peers) {
        self->state.peers = peers;
      },
      // A connection's commands, in its order; each is answered with (reply_atom, replies).
      [=](command_atom, std::vector<client_command>& batch) {
        auto& st = self->state;
        auto connection = caf::actor_cast<caf::actor>(self->current_sender());
        if (!connection) return;
        const auto now = now_ms();
        session::session_effects fx;
        for (auto& command : batch) {
          auto token = ++st.next_token;
          st.waiting.emplace(token, std::make_pair(connection, command.seq));
          append(fx, logic->accept(std::move(command), session::local_origin{token}, now));
        }
        execute(self, std::move(fx));
      },
      [=](frame_atom, const node_name& from, forward_request_batch& batch) {
        const auto now = now_ms();
        session::session_effects fx;
        for (auto& request : batch.requests)
          append(fx, logic->accept(std::move(request.command),
                                   session::remote_origin{from, request.forward_id}, now));
        execute(self, std::move(fx));
      },
      [=](frame_atom, const node_name& from, const forward_response_batch& batch) {
        const auto now = now_ms();
        session::session_effects fx;
        for (const auto& response : batch.responses)
          append(fx, logic->forwarded_answer(from, response, now));
        execute(self, std::move(fx));
      },
      [=](flush_atom) { flush_peers(self); },
      [=](role_atom, const role_info& info, caf::actor role_actor) {
        self->state.role_actor = std::move(role_actor);
        session::role_view role{info.current, info.epoch, info.leader, info.leader_address,
                                info.removed};
        execute(self, logic->set_role(role, now_ms()));
      },
      [=](applied_atom, const std::vector<applied_result>& results) {
        execute(self, logic->applied(results, now_ms()));
      },
      [=](read_ok_atom, const std::vector<raft::read_ready>& ready) {
        execute(self, logic->read_ok(ready));
      },
      [=](read_fail_atom, const std::vector<std::uint64_t>& ids) {
        execute(self, logic->read_failed(ids, now_ms()));
      },
      [=](refused_atom, std::uint64_t client_id, std::uint64_t seq) {
        execute(self, logic->refused(client_id, seq, now_ms()));
      },
      [=](tick_atom) {
        execute(self, logic->tick(now_ms()));
        self->delayed_send(self, sweep_interval, tick_atom::value);
      },
  };
}

} // namespace

caf::actor spawn_session_manager(caf::actor_system& system, session_settings settings) {
  return system.spawn(session_actor, std::move(settings));
}

std::chrono::milliseconds session_reply_deadline(const session_settings& settings) {
  return settings.leader_wait + settings.write_timeout + 3s;
}

} // namespace prez
