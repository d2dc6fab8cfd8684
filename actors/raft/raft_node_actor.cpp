#include "actors/raft/raft_node_actor.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "caf/all.hpp"
#include <spdlog/spdlog.h>

#include "actors/caf_messages.hpp"
#include "actors/fail_stop_actor.hpp"
#include "actors/net/peer_link_actor.hpp"
#include "actors/node_handles.hpp"
#include "actors/raft/role_actor.hpp"
#include "actors/raft/rules.hpp"
#include "actors/storage/file_io.hpp"
#include "config/node_config.hpp"
#include "messages/frame_auth.hpp"
#include "messages/wire_codec.hpp"

namespace prez {

namespace {

using namespace std::chrono_literals;

struct node_state {
  node_settings settings;
  node_handles handles;
  /// The live role actor. Invariant: exactly one role actor of this node is not retired.
  caf::actor role_actor;
  raft::role current_role = raft::role::follower;
  /// Increases on every role change; a role stamps its epoch on what it tells the node.
  std::uint64_t epoch = 0;
  std::uint64_t term = 0;
  node_name leader;
  /// Latest incarnation and client address seen from each peer.
  std::map<node_name, std::uint64_t> incarnations;
  std::map<node_name, std::string> client_addresses;
  /// Where each peer link connects.
  std::map<node_name, member_address> link_addresses;
  std::uint64_t frames_refused = 0;
  /// The newest snapshot the state machine reported durable; told to every new role too, so a
  /// report that reached a role just as it ended is not lost.
  raft::snapshot_ref snapshot;
  /// The state machine's latest earliest-deadline report (background expiry, D33); told to the
  /// live role when it is the leader, and to every new leader role.
  std::optional<raft::deadline_report> deadlines;
  /// The configuration in effect, as the live role last reported it.
  membership config;
  /// This node is named in the removed list of the configuration in effect.
  bool removed = false;
  /// Nodes the configuration just removed whose links stay up a while, so the leader can tell
  /// them (it keeps replicating to them until they hold their removal).
  std::set<node_name> departing;
  /// Removed nodes whose grace is over: their links are not kept again.
  std::set<node_name> departed;
  /// The newest configuration known committed (the state machine's, or the one at start).
  membership committed;
  /// A graceful stop waiting for leadership to move elsewhere.
  std::optional<caf::response_promise> handover;
  static inline const char* name = "raft_node";
};

using node_actor = caf::stateful_actor<node_state>;

std::string leader_address(const node_state& st);
std::string address_of(const node_state& st, const node_name& name);

void notify_session(node_actor* self) {
  auto& st = self->state;
  role_info info{st.current_role, st.term, st.epoch, st.leader, leader_address(st), st.removed};
  self->send(st.handles.session, role_atom::value, std::move(info), st.role_actor);
}

void spawn_role(node_actor* self, raft::role next, std::shared_ptr<raft::raft_context> context,
                node_name leader) {
  auto& st = self->state;
  raft::role_args args;
  st.term = context->hard.term;
  args.context = std::move(context);
  args.handles = st.handles;
  args.epoch = ++st.epoch;
  args.leader = leader;
  args.tick = st.settings.tick;
  st.current_role = next;
  st.leader = next == raft::role::leader ? st.settings.self : leader;
  switch (next) {
    case raft::role::follower:
      st.role_actor = raft::spawn_follower(self, std::move(args));
      break;
    case raft::role::candidate:
      st.role_actor = raft::spawn_candidate(self, std::move(args));
      break;
    case raft::role::leader:
      st.role_actor = raft::spawn_leader(self, std::move(args));
      break;
  }
  // A role actor that ends without handing off would leave the node a zombie (handle_role_down).
  self->monitor(st.role_actor);
  if (st.snapshot.index > 0) self->send(st.role_actor, snap_taken_atom::value, st.snapshot);
  if (next == raft::role::leader && st.deadlines)
    self->send(st.role_actor, deadline_atom::value, *st.deadlines);
  spdlog::info("raft: {} is now {} in term {}", st.settings.self, raft::to_string(next), st.term);
  if (st.handover && next != raft::role::leader) {
    st.handover->deliver(true);
    st.handover.reset();
  }
  notify_session(self);
}

/// A role actor ended. A retired role quits normally right after sending its handoff; both come
/// from it in order, so the node has already spawned the next role when this arrives and the
/// source is no longer `role_actor`. Anything else (the live role ended, or any role crashed)
/// leaves no role to act: the node ends with a reason naming the role, and the fail-stop watcher
/// stops the process (docs/decisions.md D18).
void handle_role_down(node_actor* self, const caf::down_msg& down) {
  auto& st = self->state;
  const bool live = down.source == st.role_actor.address();
  if (!live && !down.reason) return;
  auto reason = down.reason ? self->system().render(down.reason) : std::string("normal exit");
  auto what = live ? fmt::format("the live {} role actor (epoch {}) ended without a handoff: {}",
                                 raft::to_string(st.current_role), st.epoch, reason)
                   : fmt::format("a retired role actor crashed: {}", reason);
  self->quit(caf::make_error(caf::sec::runtime_error, std::move(what)));
}

/// One line per RPC for debug logs.
std::string describe(const raft_message& m) {
  return std::visit(
      [](const auto& p) -> std::string {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, vote_request>)
          return fmt::format("{}vote_request term {} last {}/{}", p.pre_vote ? "pre-" : "", p.term,
                             p.last_log_index, p.last_log_term);
        else if constexpr (std::is_same_v<T, vote_response>)
          return fmt::format("{}vote_response term {} granted {}", p.pre_vote ? "pre-" : "", p.term,
                             p.granted);
        else if constexpr (std::is_same_v<T, append_entries_request>)
          return fmt::format("append_entries term {} prev {}/{} entries {} commit {} hb {}", p.term,
                             p.prev_log_index, p.prev_log_term, p.entries.size(), p.leader_commit,
                             p.heartbeat_seq);
        else if constexpr (std::is_same_v<T, append_entries_response>)
          return fmt::format("append_response term {} success {} match {} conflict {}/{} hb {}",
                             p.term, p.success, p.match_index, p.conflict_index, p.conflict_term,
                             p.heartbeat_seq);
        else if constexpr (std::is_same_v<T, install_snapshot_request>)
          return fmt::format("install_snapshot term {} snapshot {}/{} offset {} bytes {} done {}",
                             p.term, p.last_index, p.last_term, p.offset, p.data.size(), p.done);
        else if constexpr (std::is_same_v<T, install_snapshot_response>)
          return fmt::format("install_snapshot_response term {} snapshot {} next {} installed {}",
                             p.term, p.last_index, p.next_offset, p.installed);
        else
          return fmt::format("timeout_now term {}", p.term);
      },
      m.payload);
}

/// A peer link's window question, asked as a request (actors/net/peer_link_actor.hpp): every
/// frame that link sent before it came through the door on the same connection, so it has been
/// handled. The answer is a frame sealed like any other, so the link can trust it.
void answer_window_question(node_actor* self, const link_ack_request& question) {
  const auto& st = self->state;
  auto rp = self->make_response_promise();
  if (rp.async()) return; // sent without asking for an answer
  auto answer = encode_frame(st.settings.self, st.settings.incarnation, st.settings.client_address,
                             frame_body{link_ack_response{question.upto}});
  if (!st.settings.cluster_secret.empty()) seal_frame(answer, st.settings.cluster_secret);
  rp.deliver(std::move(answer));
}

void handle_frame(node_actor* self, const std::vector<char>& bytes) {
  auto& st = self->state;
  auto size = bytes.size();
  if (!st.settings.cluster_secret.empty()) {
    auto authentic = open_frame(bytes, st.settings.cluster_secret);
    if (!authentic) {
      if (++st.frames_refused % 1000 == 1)
        spdlog::warn("peer frame without a valid cluster-secret MAC refused ({} so far)",
                     st.frames_refused);
      return;
    }
    size = *authentic;
  }
  auto decoded = decode_frame(bytes.data(), size);
  if (!decoded.frame) {
    if (++st.frames_refused % 1000 == 1)
      spdlog::warn("peer frame refused ({} so far): {}", st.frames_refused, decoded.error);
    return;
  }
  auto& frame = *decoded.frame;
  if (frame.from == st.settings.self || !st.handles.peers.count(frame.from) ||
      (st.committed.was_removed(frame.from) && !st.departing.count(frame.from))) {
    if (++st.frames_refused % 1000 == 1)
      spdlog::warn("peer frame from '{}', not a member of the configuration: dropped", frame.from);
    return;
  }
  auto [it, inserted] = st.incarnations.emplace(frame.from, frame.incarnation);
  if (!inserted && it->second != frame.incarnation) {
    spdlog::info("peer {} restarted (incarnation changed)", frame.from);
    it->second = frame.incarnation;
  }
  st.client_addresses[frame.from] = frame.client_address;
  if (auto* m = std::get_if<raft_message>(&frame.body)) {
    if (m->to != st.settings.self || m->from != frame.from) {
      ++st.frames_refused;
      return;
    }
    if (spdlog::should_log(spdlog::level::debug))
      spdlog::debug("raft: {} <- {}: {}", st.settings.self, m->from, describe(*m));
    self->send(st.role_actor, raft_atom::value, std::move(*m));
  } else if (auto* requests = std::get_if<forward_request_batch>(&frame.body)) {
    self->send(st.handles.session, frame_atom::value, frame.from, std::move(*requests));
  } else if (auto* responses = std::get_if<forward_response_batch>(&frame.body)) {
    self->send(st.handles.session, frame_atom::value, frame.from, std::move(*responses));
  } else if (auto* request = std::get_if<forward_request>(&frame.body)) {
    // One forward alone, as a node of an earlier version sends it.
    self->send(st.handles.session, frame_atom::value, frame.from,
               forward_request_batch{{std::move(*request)}});
  } else if (auto* response = std::get_if<forward_response>(&frame.body)) {
    self->send(st.handles.session, frame_atom::value, frame.from,
               forward_response_batch{{std::move(*response)}});
  } else if (auto* question = std::get_if<link_ack_request>(&frame.body)) {
    answer_window_question(self, *question);
  } else {
    ++st.frames_refused; // an answer to a question we never ask
  }
}

/// The client address of node `name`: ours, or the one its frames carry; empty when unknown.
std::string address_of(const node_state& st, const node_name& name) {
  if (name.empty()) return "";
  if (name == st.settings.self) return st.settings.client_address;
  auto i = st.client_addresses.find(name);
  return i == st.client_addresses.end() ? "" : i->second;
}

std::string leader_address(const node_state& st) {
  return address_of(st, st.leader);
}

/// Where node `name` listens for peers: its address in the configuration, else nodes.conf's.
std::optional<member_address> cluster_address_of(const node_state& st, const member_info* member,
                                                 const node_name& name) {
  if (member != nullptr && !member->address.empty()) {
    auto parsed = parse_address(member->address);
    if (auto* error = std::get_if<std::string>(&parsed)) {
      spdlog::error("configuration: node '{}': {}", name, *error);
      return std::nullopt;
    }
    auto& [host, port] = std::get<std::pair<std::string, std::uint16_t>>(parsed);
    return member_address{name, host, port};
  }
  for (const auto& m : st.settings.members)
    if (m.name == name) return m;
  return std::nullopt;
}

/// How long the links of a node just removed stay up (the leader's departing_rounds, and more).
constexpr auto departing_grace = std::chrono::seconds(20);

/// Makes the peer links follow `config` (in effect) and st.committed: one link per member of
/// either but self (a node only an uncommitted change removes may still lead, or be needed), and,
/// while this node is not a member (it waits to be added, or was removed), one per node of
/// nodes.conf too, so it can answer a leader that replicates to it. The link of a removed node
/// stays up for departing_grace, so the leader can tell it; other links no longer wanted are
/// stopped; the session and the live role learn the new set.
void follow_config(node_actor* self, const membership& config) {
  auto& st = self->state;
  const auto& me = st.settings.self;
  std::map<node_name, member_address> wanted;
  for (const membership* c : {&config, static_cast<const membership*>(&st.committed)})
    for (const auto& m : c->members)
      if (m.name != me && !wanted.count(m.name))
        if (auto address = cluster_address_of(st, &m, m.name)) wanted.emplace(m.name, *address);
  if (!config.is_member(me))
    for (const auto& m : st.settings.members)
      if (m.name != me && !config.was_removed(m.name) && !st.committed.was_removed(m.name))
        wanted.emplace(m.name, m);
  bool changed = false;
  for (auto i = st.handles.peers.begin(); i != st.handles.peers.end();) {
    auto w = wanted.find(i->first);
    const auto& link_address = st.link_addresses[i->first];
    const bool keep = w != wanted.end() && w->second.host == link_address.host &&
                      w->second.port == link_address.port;
    const bool removed_now = config.was_removed(i->first) || st.committed.was_removed(i->first);
    if (!keep && removed_now && !st.departed.count(i->first) &&
        st.departing.insert(i->first).second)
      self->delayed_send(self, departing_grace, stop_atom::value, i->first);
    if (keep || st.departing.count(i->first)) {
      ++i;
      continue;
    }
    self->unlink_from(i->second);
    self->send_exit(i->second, caf::exit_reason::user_shutdown);
    st.link_addresses.erase(i->first);
    i = st.handles.peers.erase(i);
    changed = true;
  }
  for (const auto& [name, address] : wanted) {
    if (st.handles.peers.count(name)) continue;
    peer_link_args args{me,
                        st.settings.incarnation,
                        name,
                        address.host,
                        address.port,
                        st.settings.client_address,
                        st.settings.cluster_secret,
                        st.settings.link_window_bytes,
                        st.settings.data_dir};
    args.tls = st.settings.tls;
    auto link = spawn_peer_link(self->system(), std::move(args));
    self->link_to(link);
    st.handles.peers.emplace(name, std::move(link));
    st.link_addresses[name] = address;
    changed = true;
  }
  const bool was_member = st.config.is_member(me);
  const bool removed = config.was_removed(me);
  if (removed && !st.removed)
    spdlog::warn("raft: {} was removed from the cluster (RAFT.NODE REMOVE): it no longer votes "
                 "or serves; start a new node under a new name to replace it",
                 me);
  else if (!was_member && config.is_member(me))
    spdlog::info("raft: {} is a member of the configuration: {}", me,
                 config.is_voter(me) ? "voter" : "learner");
  else if (was_member && config.is_member(me) && !st.config.is_voter(me) && config.is_voter(me))
    spdlog::info("raft: {} was promoted to voter", me);
  const bool removed_changed = removed != st.removed;
  st.config = config;
  st.removed = removed;
  if (changed) {
    self->send(st.handles.session, peer_send_atom::value, st.handles.peers);
    if (st.role_actor) self->send(st.role_actor, peer_send_atom::value, st.handles.peers);
  }
  if (removed_changed && st.role_actor) notify_session(self);
}

/// nodes.conf follows the committed configuration, so a restart (and an operator) sees it.
void rewrite_nodes_file(const node_state& st, const membership& config) {
  if (st.settings.nodes_file.empty()) return;
  std::vector<cluster_member> members;
  for (const auto& m : config.members) {
    auto address = cluster_address_of(st, &m, m.name);
    if (!address) continue;
    members.push_back(cluster_member{m.name, address->host, address->port, 0, !m.voter});
  }
  if (members.empty()) return;
  if (auto error =
          storage::replace_file(st.settings.nodes_file, format_nodes_file(members, config.removed)))
    spdlog::error("nodes.conf not rewritten: {}", *error);
}

/// Asks every peer link for its numbers, then delivers `out` with them (a link that does not
/// answer in time is reported disconnected).
void collect_link_status(node_actor* self, node_status out, caf::response_promise rp) {
  const auto& peers = self->state.handles.peers;
  if (peers.empty()) {
    rp.deliver(std::move(out));
    return;
  }
  auto gathered = std::make_shared<node_status>(std::move(out));
  auto waiting = std::make_shared<std::size_t>(peers.size());
  auto done = [=]() mutable {
    if (--*waiting != 0) return;
    std::sort(gathered->links.begin(), gathered->links.end(),
              [](const auto& a, const auto& b) { return a.peer < b.peer; });
    rp.deliver(std::move(*gathered));
  };
  for (const auto& [name, link] : peers)
    self->request(link, 1s, status_atom::value)
        .then(
            [=](const peer_link_info& info) mutable {
              gathered->links.push_back(info);
              done();
            },
            [=, name = name](const caf::error&) mutable {
              gathered->links.push_back(peer_link_info{name, false, 0, 0, 0, 0});
              done();
            });
}

caf::behavior raft_node(node_actor* self, node_settings settings,
                        std::shared_ptr<raft::raft_context> context, caf::actor log,
                        caf::actor state_machine, caf::actor session, caf::actor snapshots) {
  auto& st = self->state;
  st.handles.snapshots = std::move(snapshots);
  st.settings = std::move(settings);
  st.handles.node = self;
  st.handles.log = std::move(log);
  st.handles.state_machine = std::move(state_machine);
  st.handles.session = std::move(session);
  self->set_down_handler([=](caf::down_msg& down) { handle_role_down(self, down); });
  self->set_exception_handler(exception_exit_reason);
  raft::ensure_config(*context);
  st.committed = context->log.config_at(context->commit_index);
  follow_config(self, context->log.config());
  // A single voter needs nobody's vote: it campaigns at once and answers clients immediately.
  const auto& config = context->log.config();
  const bool alone = config.voter_count() == 1 && config.is_voter(st.settings.self);
  auto first = alone ? raft::role::candidate : raft::role::follower;
  spawn_role(self, first, std::move(context), {});
  return {
      // From the node door (actors/net/node_door_actor.hpp), the only way in from the network.
      [=](frame_atom, const std::vector<char>& bytes) { handle_frame(self, bytes); },
      // The door refused a message that was not a sealed frame.
      [=](refused_atom) { ++self->state.frames_refused; },
      // RAFT.SNAPSHOT from the gateway: the state machine answers once one is durable.
      [=](snapshot_atom) {
        return self->delegate(self->state.handles.state_machine, snapshot_atom::value);
      },
      // RAFT.SNAPSHOT FETCH / READ from the gateway (backups, docs/decisions.md D25).
      [=](snap_fetch_atom, std::uint64_t min_index) {
        return self->delegate(self->state.handles.state_machine, snap_fetch_atom::value, min_index);
      },
      [=](snap_read_atom, std::uint64_t index, std::uint64_t offset, std::uint64_t count) {
        return self->delegate(self->state.handles.snapshots, snap_read_atom::value, index, offset,
                              count);
      },
      // From the state machine: a snapshot of it is durable; the live role compacts the log.
      [=](snap_taken_atom, const raft::snapshot_ref& snapshot) {
        if (snapshot.index > self->state.snapshot.index) self->state.snapshot = snapshot;
        self->send(self->state.role_actor, snap_taken_atom::value, snapshot);
      },
      // From the state machine: the earliest deadline of its state. Only a leader appends clock
      // entries for it (D33); a follower or candidate never hears of it.
      [=](deadline_atom, const raft::deadline_report& report) {
        auto& st = self->state;
        st.deadlines = report;
        if (st.current_role == raft::role::leader)
          self->send(st.role_actor, deadline_atom::value, report);
      },
      [=](role_atom, role_handoff& handoff) {
        auto& st = self->state;
        if (handoff.epoch != st.epoch) return; // a retired role's late word
        auto redeliver = std::move(handoff.redeliver);
        spawn_role(self, handoff.next, std::move(handoff.context), std::move(handoff.leader));
        if (redeliver) self->send(self->state.role_actor, raft_atom::value, std::move(*redeliver));
      },
      [=](leader_atom, std::uint64_t epoch, std::uint64_t term, const node_name& leader) {
        auto& st = self->state;
        if (epoch != st.epoch) return;
        st.term = term;
        st.leader = leader;
        if (!leader.empty())
          spdlog::info("raft: {} follows leader {} in term {}", st.settings.self, leader, term);
        notify_session(self);
      },
      [=](leader_atom) -> std::string { return leader_address(self->state); },
      // From the live role: the configuration in effect (it may not be committed yet).
      [=](members_atom, std::uint64_t epoch, const membership& config) {
        if (epoch != self->state.epoch) return;
        follow_config(self, config);
      },
      // From the state machine: a committed configuration; nodes.conf now says so.
      [=](members_atom, const membership& config) {
        rewrite_nodes_file(self->state, config);
        self->state.committed = config;
        auto in_effect = self->state.config;
        follow_config(self, in_effect);
      },
      // A graceful stop (SIGTERM): a leader hands leadership over first (thesis §3.10). Answers
      // true once this node is no longer leader, false when it was not or after `wait`.
      [=](transfer_atom, caf::timespan wait) -> caf::result<bool> {
        auto& st = self->state;
        if (st.current_role != raft::role::leader || st.handover) return false;
        st.handover = self->make_response_promise();
        self->send(st.role_actor, transfer_atom::value);
        self->delayed_send(self, wait, transfer_atom::value);
        return *st.handover;
      },
      [=](transfer_atom) {
        auto& st = self->state;
        if (!st.handover) return;
        st.handover->deliver(false);
        st.handover.reset();
      },
      // A departing node's grace is over: its link goes unless it is wanted again.
      [=](stop_atom, const node_name& name) {
        auto& st = self->state;
        if (st.departing.erase(name) == 0) return;
        st.departed.insert(name);
        auto config = st.config;
        follow_config(self, config);
      },
      [=](status_atom) {
        auto rp = self->make_response_promise<node_status>();
        auto& st = self->state;
        self->request(st.role_actor, 2s, status_atom::value)
            .then(
                [=](const raft::raft_status& status) mutable {
                  self->request(self->state.handles.state_machine, 2s, status_atom::value)
                      .then(
                          [=](const apply_status& applied) mutable {
                            const auto& st = self->state;
                            node_status out;
                            out.raft = status;
                            out.applied = applied;
                            out.self = st.settings.self;
                            out.leader_address = address_of(st, status.leader);
                            out.voters = st.config.voter_count();
                            out.learners = st.config.members.size() - out.voters;
                            const auto* me = st.config.find(st.settings.self);
                            out.membership = me != nullptr ? (me->voter     ? "voter"
                                                              : me->promote ? "joining"
                                                                            : "learner")
                                             : st.removed  ? "removed"
                                                           : "none";
                            out.role_epoch = st.epoch;
                            out.frames_refused = st.frames_refused;
                            collect_link_status(self, std::move(out), rp);
                          },
                          [=](caf::error& error) mutable { rp.deliver(std::move(error)); });
                },
                [=](caf::error& error) mutable { rp.deliver(std::move(error)); });
        return rp;
      },
  };
}

} // namespace

caf::actor spawn_raft_node(caf::actor_system& system, node_settings settings,
                           std::shared_ptr<raft::raft_context> context, caf::actor log,
                           caf::actor state_machine, caf::actor session, caf::actor snapshots) {
  return system.spawn(raft_node, std::move(settings), std::move(context), std::move(log),
                      std::move(state_machine), std::move(session), std::move(snapshots));
}

} // namespace prez
