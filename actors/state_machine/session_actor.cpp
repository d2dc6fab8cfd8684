#include "actors/state_machine/session_actor.hpp"

#include <deque>
#include <map>
#include <variant>

#include "caf/all.hpp"
#include <spdlog/spdlog.h>

#include "actors/state_machine/kv_state.hpp"
#include "config/limits.hpp"
#include "messages/caf_messages.hpp"

namespace prez {

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

/// How often pending commands are checked against their deadlines, and commands that wait for a
/// leader are retried.
constexpr auto sweep_interval = 20ms;

const std::string clusterdown_reply =
    "-CLUSTERDOWN no leader is available; the command was not applied, try again\r\n";
const std::string unknown_reply = "-UNKNOWN the write was proposed but its outcome is unknown "
                                  "(timed out); it may or may not have been applied\r\n";
const std::string read_timeout_reply =
    "-CLUSTERDOWN the read could not be confirmed by a quorum in time; try again\r\n";
const std::string refused_reply =
    "-TRYAGAIN too many uncommitted writes on the leader; the command was not applied\r\n";

/// A command that came from another node's session manager.
struct remote_origin {
  node_name peer;
  std::uint64_t forward_id = 0;
};

/// Who waits for a reply: a local gateway connection or a forwarding peer.
using origin = std::variant<caf::response_promise, remote_origin>;

struct pending_command {
  client_command command;
  origin from;
  /// When an outstanding proposal, read or forward gives up (reset on every attempt).
  clock_type::time_point deadline;
  /// When waiting for a leader gives up: fixed at acceptance, so retries cannot extend it.
  clock_type::time_point leader_deadline;
};

struct session_state {
  session_settings settings;
  caf::actor state_machine;
  std::map<node_name, caf::actor> peers;
  role_info role;
  caf::actor role_actor;
  std::uint64_t next_read_id = 0;
  std::uint64_t next_forward_id = 0;
  /// Writes proposed to the local leader, by (client_id, seq).
  std::map<std::pair<std::uint64_t, std::uint64_t>, pending_command> writes;
  /// Reads waiting for their ReadIndex round, by read id.
  std::map<std::uint64_t, pending_command> reads;
  /// Commands sent to the leader's session manager, by forward id.
  std::map<std::uint64_t, pending_command> forwarded;
  /// Commands waiting for a leader to be known.
  std::deque<pending_command> waiting;
  static inline const char* name = "session_manager";
};

using session = caf::stateful_actor<session_state>;

bool is_write(const client_command& command) {
  if (command.is_transaction()) return true;
  std::string error;
  return classify(command.argv, error) == command_kind::write;
}

std::size_t pending_count(const session_state& st) {
  return st.writes.size() + st.reads.size() + st.forwarded.size() + st.waiting.size();
}

void reply(session* self, origin& to, forward_status status, std::string text) {
  if (auto* promise = std::get_if<caf::response_promise>(&to)) {
    if (status == forward_status::not_leader)
      text = clusterdown_reply;
    else if (status == forward_status::unknown)
      text = unknown_reply;
    promise->deliver(std::move(text));
    return;
  }
  auto& remote = std::get<remote_origin>(to);
  auto i = self->state.peers.find(remote.peer);
  if (i == self->state.peers.end()) return;
  forward_response response{remote.forward_id, static_cast<std::uint8_t>(status), std::move(text)};
  self->send(i->second, peer_send_atom::value, std::move(response));
}

void route(session* self, pending_command&& pc) {
  auto& st = self->state;
  const bool leader_here = st.role.current == raft::role::leader && st.role_actor;
  if (leader_here) {
    if (is_write(pc.command)) {
      auto key = std::make_pair(pc.command.client_id, pc.command.seq);
      pc.deadline = clock_type::now() + st.settings.write_timeout;
      self->send(st.role_actor, propose_atom::value, pc.command);
      st.writes.insert_or_assign(key, std::move(pc));
    } else {
      auto id = ++st.next_read_id;
      pc.deadline = std::min(pc.leader_deadline, clock_type::now() + st.settings.write_timeout);
      self->send(st.role_actor, read_atom::value, id);
      st.reads.emplace(id, std::move(pc));
    }
    return;
  }
  if (std::holds_alternative<remote_origin>(pc.from)) {
    // Not the leader (any more): the origin retries elsewhere; nothing was proposed here.
    reply(self, pc.from, forward_status::not_leader, {});
    return;
  }
  auto peer = st.peers.find(st.role.leader);
  if (st.role.leader.empty() || peer == st.peers.end()) {
    st.waiting.push_back(std::move(pc));
    return;
  }
  if (st.settings.redirect && !st.role.leader_address.empty()) {
    reply(self, pc.from, forward_status::ok, "-MOVED 0 " + st.role.leader_address + "\r\n");
    return;
  }
  auto id = ++st.next_forward_id;
  pc.deadline = clock_type::now() + st.settings.write_timeout + 1s;
  self->send(peer->second, peer_send_atom::value, forward_request{id, pc.command});
  st.forwarded.emplace(id, std::move(pc));
}

/// A new leader is known: send it again every command whose leader went away. Writes keep their
/// (client_id, seq), so one that was applied already is answered from the state machine's
/// session table instead of being applied twice (thesis §6.3). Commands of remote origin are not
/// retried here: their origin does that.
void retry_with_new_leader(session* self) {
  auto& st = self->state;
  std::vector<pending_command> again;
  for (auto& [id, pc] : st.forwarded)
    again.push_back(std::move(pc));
  st.forwarded.clear();
  if (st.role.current != raft::role::leader) {
    for (auto i = st.writes.begin(); i != st.writes.end();) {
      if (std::holds_alternative<caf::response_promise>(i->second.from)) {
        again.push_back(std::move(i->second));
        i = st.writes.erase(i);
      } else {
        ++i;
      }
    }
  }
  for (auto& pc : again)
    route(self, std::move(pc));
}

void drain_waiting(session* self) {
  auto& st = self->state;
  if (st.role.leader.empty()) return;
  auto waiting = std::move(st.waiting);
  st.waiting.clear();
  for (auto& pc : waiting)
    route(self, std::move(pc));
}

template <class Map>
void expire(session* self, Map& pending, clock_type::time_point now, bool writes_unknown) {
  for (auto i = pending.begin(); i != pending.end();) {
    if (i->second.deadline > now) {
      ++i;
      continue;
    }
    auto& pc = i->second;
    if (writes_unknown && is_write(pc.command))
      reply(self, pc.from, forward_status::unknown, {});
    else
      reply(self, pc.from, forward_status::ok, read_timeout_reply);
    i = pending.erase(i);
  }
}

void sweep(session* self) {
  auto& st = self->state;
  auto now = clock_type::now();
  expire(self, st.writes, now, true);
  expire(self, st.reads, now, false);
  expire(self, st.forwarded, now, true);
  // Retried commands rejoin at the back, so deadlines are not ordered: scan them all.
  for (auto i = st.waiting.begin(); i != st.waiting.end();) {
    if (i->leader_deadline > now) {
      ++i;
      continue;
    }
    reply(self, i->from, forward_status::ok, clusterdown_reply);
    i = st.waiting.erase(i);
  }
  drain_waiting(self);
}

void accept(session* self, client_command&& command, origin from) {
  auto& st = self->state;
  if (pending_count(st) >= limits::pending_commands_max) {
    reply(self, from, forward_status::ok, "-BUSY too many commands pending on this node\r\n");
    return;
  }
  auto deadline = clock_type::now() + st.settings.leader_wait;
  route(self, pending_command{std::move(command), std::move(from), deadline, deadline});
}

caf::behavior session_actor(session* self, session_settings settings) {
  self->state.settings = std::move(settings);
  self->delayed_send(self, sweep_interval, tick_atom::value);
  return {
      [=](start_atom, caf::actor state_machine) {
        self->state.state_machine = std::move(state_machine);
      },
      [=](peer_send_atom, const std::map<node_name, caf::actor>& peers) {
        self->state.peers = peers;
      },
      [=](command_atom, client_command& command) {
        auto promise = self->make_response_promise();
        accept(self, std::move(command), promise);
        return caf::delegated<std::string>{};
      },
      [=](frame_atom, const node_name& from, forward_request& request) {
        accept(self, std::move(request.command), remote_origin{from, request.forward_id});
      },
      [=](frame_atom, const node_name&, forward_response& response) {
        auto& st = self->state;
        auto i = st.forwarded.find(response.forward_id);
        if (i == st.forwarded.end()) return; // already timed out
        auto pc = std::move(i->second);
        st.forwarded.erase(i);
        auto status = static_cast<forward_status>(response.status);
        if (status == forward_status::not_leader) {
          st.waiting.push_back(std::move(pc)); // not proposed: safe to retry once a leader is known
          return;
        }
        reply(self, pc.from, status, std::move(response.reply));
      },
      [=](role_atom, const role_info& info, caf::actor role_actor) {
        auto& st = self->state;
        bool was_leader = st.role.current == raft::role::leader;
        bool leader_changed = info.leader != st.role.leader;
        st.role = info;
        st.role_actor = std::move(role_actor);
        if (was_leader && info.current != raft::role::leader) {
          // Reads are idempotent: retry them with the next leader.
          for (auto& [id, pc] : st.reads)
            st.waiting.push_back(std::move(pc));
          st.reads.clear();
        }
        if (leader_changed && !info.leader.empty()) retry_with_new_leader(self);
        drain_waiting(self);
      },
      [=](applied_atom, std::vector<applied_result>& results) {
        auto& st = self->state;
        for (auto& result : results) {
          auto i = st.writes.find({result.client_id, result.seq});
          if (i == st.writes.end()) continue;
          reply(self, i->second.from, forward_status::ok, std::move(result.reply));
          st.writes.erase(i);
        }
      },
      [=](read_ok_atom, const std::vector<raft::read_ready>& ready) {
        auto& st = self->state;
        for (const auto& r : ready) {
          auto i = st.reads.find(r.read_id);
          if (i == st.reads.end()) continue;
          auto pc = std::make_shared<pending_command>(std::move(i->second));
          st.reads.erase(i);
          self->request(st.state_machine, caf::infinite, read_atom::value, r.index,
                        pc->command.argv)
              .then([=](std::string& text) {
                reply(self, pc->from, forward_status::ok, std::move(text));
              });
        }
      },
      [=](read_fail_atom, const std::vector<std::uint64_t>& ids) {
        auto& st = self->state;
        for (auto id : ids) {
          auto i = st.reads.find(id);
          if (i == st.reads.end()) continue;
          st.waiting.push_back(std::move(i->second));
          st.reads.erase(i);
        }
      },
      [=](refused_atom, std::uint64_t client_id, std::uint64_t seq) {
        auto& st = self->state;
        auto i = st.writes.find({client_id, seq});
        if (i == st.writes.end()) return;
        reply(self, i->second.from, forward_status::ok, refused_reply);
        st.writes.erase(i);
      },
      [=](tick_atom) {
        sweep(self);
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
