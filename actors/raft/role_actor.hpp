#pragma once
// The glue every role actor shares: feed one input to the role's pure logic, carry its effects out
// (log actor, peer links, state machine, session manager), and hand the context to the node when
// the role ends. Included only by follower_actor.cpp, candidate_actor.cpp and leader_actor.cpp.

#include <chrono>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "caf/all.hpp"
#include <spdlog/spdlog.h>

#include "actors/caf_messages.hpp"
#include "actors/node_handles.hpp"
#include "actors/raft/raft_types.hpp"

namespace prez::raft {

/// Parameters of a role actor, fixed for its lifetime.
struct role_args {
  std::shared_ptr<raft_context> context; ///< moved into the logic at start
  node_handles handles;
  std::uint64_t epoch = 0; ///< the node drops anything a role of an older epoch says
  node_name leader;        ///< a follower's known leader at start
  std::chrono::milliseconds tick{10};
};

/// State of a role actor running `Logic`. Owned by that actor alone.
template <class Logic>
struct role_state {
  std::optional<Logic> logic;
  role_args args;
  /// Sequence number of the last persist request sent. Invariant: acked_seq <= persist_seq.
  std::uint64_t persist_seq = 0;
  std::uint64_t acked_seq = 0;
  /// Messages held until the writes before them are durable, by the persist seq that covers them.
  std::deque<std::pair<std::uint64_t, std::vector<raft_message>>> after_persist;
  /// Leader only: proposals and reads gathered until the batch flush runs.
  std::vector<client_command> proposals;
  std::vector<std::uint64_t> reads;
  bool batch_flush_scheduled = false;
  /// Leader only: the wall-clock time last stamped into a batch (0: none yet).
  std::uint64_t last_stamp_ms = 0;
  node_name reported_leader;
  bool retired = false;
};

template <class Logic>
using role_actor = caf::stateful_actor<role_state<Logic>>;

template <class Self>
void send_to_peer(Self* self, const node_handles& handles, raft_message&& m) {
  auto i = handles.peers.find(m.to);
  if (i == handles.peers.end()) {
    spdlog::warn("raft: dropping a message to unknown node '{}'", m.to);
    return;
  }
  self->send(i->second, peer_send_atom::value, std::move(m));
}

template <class Logic>
void execute(role_actor<Logic>* self, raft_effects&& fx);

/// Reports the leader a follower learned of, once per change.
template <class Logic>
void maybe_report_leader(role_actor<Logic>* self) {
  if constexpr (requires(const Logic& l) { l.leader(); }) {
    auto& st = self->state;
    const auto& leader = st.logic->leader();
    if (leader != st.reported_leader) {
      st.reported_leader = leader;
      self->send(st.args.handles.node, leader_atom::value, st.args.epoch,
                 st.logic->context().hard.term, leader);
    }
  }
}

template <class Logic>
void send_persist(role_actor<Logic>* self, persist_request&& request) {
  auto& st = self->state;
  request.seq = ++st.persist_seq;
  self->send(st.args.handles.log, persist_atom::value, std::move(request));
}

template <class Logic>
void execute(role_actor<Logic>* self, raft_effects&& fx) {
  auto& st = self->state;
  if (st.retired) return;
  const auto& handles = st.args.handles;
  if (fx.has_writes()) {
    persist_request request;
    if (fx.hard_state_changed) request.hard = st.logic->context().hard;
    request.truncate_from = fx.truncate_from;
    request.entries = std::move(fx.entries_to_persist);
    send_persist(self, std::move(request));
  }
  for (auto& m : fx.messages)
    send_to_peer(self, handles, std::move(m));
  if (!fx.messages_after_persist.empty()) {
    // With no write of its own, a barrier: answered once every earlier write is durable.
    if (!fx.has_writes()) send_persist(self, persist_request{});
    st.after_persist.emplace_back(st.persist_seq, std::move(fx.messages_after_persist));
  }
  if (!fx.committed.empty())
    self->send(handles.state_machine, apply_atom::value, std::move(fx.committed));
  if (!fx.reads.empty()) self->send(handles.session, read_ok_atom::value, std::move(fx.reads));
  if (!fx.reads_failed.empty())
    self->send(handles.session, read_fail_atom::value, std::move(fx.reads_failed));
  maybe_report_leader(self);
  if (fx.next_role) {
    st.retired = true;
    role_handoff handoff;
    handoff.epoch = st.args.epoch;
    handoff.next = *fx.next_role;
    handoff.redeliver = std::move(fx.redeliver);
    if constexpr (requires(const Logic& l) { l.leader(); }) handoff.leader = st.logic->leader();
    handoff.context = std::make_shared<raft_context>(st.logic->release());
    self->send(handles.node, role_atom::value, std::move(handoff));
    self->quit();
  }
}

template <class Logic>
void handle_persisted(role_actor<Logic>* self, const persist_reply& reply) {
  auto& st = self->state;
  if (st.retired) return;
  st.acked_seq = std::max(st.acked_seq, reply.seq);
  while (!st.after_persist.empty() && st.after_persist.front().first <= st.acked_seq) {
    auto messages = std::move(st.after_persist.front().second);
    st.after_persist.pop_front();
    for (auto& m : messages)
      send_to_peer(self, st.args.handles, std::move(m));
  }
  execute(self, st.logic->persisted(reply.last_index, reply.last_term));
}

/// Builds the behaviour shared by all roles plus the role's own handlers `extra`.
template <class Logic, class... Extra>
caf::behavior role_behavior(role_actor<Logic>* self, role_args args, Extra... extra) {
  auto& st = self->state;
  auto context = std::move(*args.context);
  args.context.reset();
  st.args = std::move(args);
  if constexpr (std::is_constructible_v<Logic, raft_context, node_name>)
    st.logic.emplace(std::move(context), st.args.leader);
  else
    st.logic.emplace(std::move(context));
  st.reported_leader = st.args.leader;
  // The first barrier tells this role how much of the log is already durable.
  send_persist(self, persist_request{});
  self->delayed_send(self, st.args.tick, tick_atom::value);
  // Start after the behaviour is installed: the start may already end the role.
  self->send(self, start_atom::value);
  return {
      [=](start_atom) { execute(self, self->state.logic->start()); },
      [=](tick_atom) {
        if (self->state.retired) return;
        execute(self, self->state.logic->tick());
        self->delayed_send(self, self->state.args.tick, tick_atom::value);
      },
      [=](raft_atom, const raft_message& m) {
        if (!self->state.retired) execute(self, self->state.logic->step(m));
      },
      [=](persisted_atom, const persist_reply& reply) { handle_persisted(self, reply); },
      [=](status_atom) -> raft_status { return self->state.logic->status(); },
      extra...,
  };
}

caf::actor spawn_follower(caf::local_actor* parent, role_args args);
caf::actor spawn_candidate(caf::local_actor* parent, role_args args);
caf::actor spawn_leader(caf::local_actor* parent, role_args args);

} // namespace prez::raft
