#pragma once
// The glue every role actor shares: feed one input to the role's pure logic, give its effects to
// the role's executor (role_executor.hpp, the same code the simulator runs), send what the
// executor says to the log actor, peer links, state machine and session manager, and hand the
// context to the node when the role ends. Included only by follower_actor.cpp,
// candidate_actor.cpp and leader_actor.cpp.

#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "caf/all.hpp"
#include <spdlog/spdlog.h>

#include "actors/caf_messages.hpp"
#include "actors/fail_stop_actor.hpp"
#include "actors/node_handles.hpp"
#include "actors/raft/background_expiry.hpp"
#include "actors/raft/raft_types.hpp"
#include "actors/raft/role_executor.hpp"
#include "actors/state_machine/state_restore.hpp"

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
  /// Persist barriers and held messages of this role.
  role_executor executor;
  /// Leader only: proposals and reads gathered until the batch flush runs.
  std::vector<client_command> proposals;
  std::vector<std::uint64_t> reads;
  bool batch_flush_scheduled = false;
  /// Leader only: the wall-clock time last stamped into a batch (0: none yet).
  std::uint64_t last_stamp_ms = 0;
  /// Leader only: when to append a clock entry so that a passed deadline takes effect with no
  /// traffic (background expiry, D33).
  expiry_clock expiry;
  /// Leader only: runs after each tick of the logic (the background expiry check).
  std::function<void()> after_tick;
  /// Follower: the state the snapshot actor decoded from the snapshot it just stored, handed to
  /// the state machine with the restore the logic asks for (so no file is read twice, and a
  /// file pruned meanwhile cannot be missed).
  std::shared_ptr<restored_state> loaded;
  snapshot_ref loaded_ref;
  node_name reported_leader;
  /// raft_log::config_version() last told to the node (the role's first report always goes).
  std::optional<std::uint64_t> reported_config_version;
  /// Leader only: checks what each step changed for the actor's own bookkeeping (transfers).
  std::function<void()> after_execute;
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

/// Tells the node the configuration in effect whenever it may have changed (peer links follow it).
template <class Logic>
void maybe_report_config(role_actor<Logic>* self) {
  auto& st = self->state;
  const auto& log = st.logic->context().log;
  if (st.reported_config_version == log.config_version()) return;
  st.reported_config_version = log.config_version();
  self->send(st.args.handles.node, members_atom::value, st.args.epoch, log.config());
}

template <class Logic>
void send_persist(role_actor<Logic>* self, persist_request&& request) {
  self->send(self->state.args.handles.log, persist_atom::value, std::move(request));
}

template <class Logic>
void execute(role_actor<Logic>* self, raft_effects&& fx) {
  auto& st = self->state;
  if (st.executor.retired()) return;
  const auto& handles = st.args.handles;
  auto out = st.executor.run(std::move(fx), st.logic->context());
  if (out.persist) send_persist(self, std::move(*out.persist));
  for (auto& m : out.send)
    send_to_peer(self, handles, std::move(m));
  // The snapshot first: the committed entries that follow continue from it.
  if (out.restore) {
    auto state = st.loaded_ref == *out.restore ? std::move(st.loaded) : nullptr;
    self->send(handles.state_machine, restore_atom::value, *out.restore, std::move(state));
  }
  st.loaded.reset();
  if (!out.committed.empty())
    self->send(handles.state_machine, apply_atom::value, std::move(out.committed));
  for (auto& chunk : out.snapshot_sends) {
    auto link = handles.peers.find(chunk.to);
    if (link != handles.peers.end())
      self->send(handles.snapshots, snap_send_atom::value, std::move(chunk), link->second);
  }
  // Answered with (snap_recvd_atom, ...) to this role actor when a last chunk was stored.
  for (auto& w : out.snapshot_writes)
    self->send(handles.snapshots, snap_write_atom::value, std::move(w.chunk));
  if (!out.reads.empty()) self->send(handles.session, read_ok_atom::value, std::move(out.reads));
  if (!out.reads_failed.empty())
    self->send(handles.session, read_fail_atom::value, std::move(out.reads_failed));
  maybe_report_leader(self);
  maybe_report_config(self);
  if (st.after_execute && !out.next_role) st.after_execute();
  if (out.next_role) {
    role_handoff handoff;
    handoff.epoch = st.args.epoch;
    handoff.next = *out.next_role;
    handoff.redeliver = std::move(out.redeliver);
    if constexpr (requires(const Logic& l) { l.leader(); }) handoff.leader = st.logic->leader();
    handoff.context = std::make_shared<raft_context>(st.logic->release());
    self->send(handles.node, role_atom::value, std::move(handoff));
    self->quit();
  }
}

template <class Logic>
void handle_persisted(role_actor<Logic>* self, const persist_reply& reply) {
  auto& st = self->state;
  if (st.executor.retired()) return;
  for (auto& m : st.executor.persisted(reply.seq))
    send_to_peer(self, st.args.handles, std::move(m));
  execute(self, st.logic->persisted(reply.last_index, reply.last_term));
}

/// Builds the behaviour shared by all roles plus the role's own handlers `extra`.
template <class Logic, class... Extra>
caf::behavior role_behavior(role_actor<Logic>* self, role_args args, Extra... extra) {
  auto& st = self->state;
  self->set_exception_handler(exception_exit_reason); // the node's fail-stop line names it
  auto context = std::move(*args.context);
  args.context.reset();
  st.args = std::move(args);
  if constexpr (std::is_constructible_v<Logic, raft_context, node_name>)
    st.logic.emplace(std::move(context), st.args.leader);
  else
    st.logic.emplace(std::move(context));
  st.reported_leader = st.args.leader;
  // The first barrier tells this role how much of the log is already durable.
  send_persist(self, st.executor.start());
  self->delayed_send(self, st.args.tick, tick_atom::value);
  // Start after the behaviour is installed: the start may already end the role.
  self->send(self, start_atom::value);
  return {
      [=](start_atom) { execute(self, self->state.logic->start()); },
      [=](tick_atom) {
        if (self->state.executor.retired()) return;
        execute(self, self->state.logic->tick());
        if (self->state.after_tick && !self->state.executor.retired()) self->state.after_tick();
        self->delayed_send(self, self->state.args.tick, tick_atom::value);
      },
      [=](raft_atom, const raft_message& m) {
        if (!self->state.executor.retired()) execute(self, self->state.logic->step(m));
      },
      [=](persisted_atom, const persist_reply& reply) { handle_persisted(self, reply); },
      // From the node: this node's state machine has a durable snapshot.
      [=](snap_taken_atom, const snapshot_ref& snapshot) {
        if (!self->state.executor.retired())
          execute(self, self->state.logic->snapshot_taken(snapshot));
      },
      // From the snapshot actor: a received snapshot was stored (ok) or refused.
      [=](snap_recvd_atom, const snapshot_ref& snapshot, bool ok,
          std::shared_ptr<restored_state>& loaded) {
        auto& st = self->state;
        if (st.executor.retired()) return;
        st.loaded = std::move(loaded);
        st.loaded_ref = snapshot;
        const auto config = st.loaded ? st.loaded->config : membership{};
        execute(self, st.logic->snapshot_received(snapshot, ok, config));
      },
      [=](status_atom) -> raft_status { return self->state.logic->status(); },
      // From the node: the peer links changed with the configuration.
      [=](peer_send_atom, const std::map<node_name, caf::actor>& peers) {
        self->state.args.handles.peers = peers;
      },
      extra...,
  };
}

caf::actor spawn_follower(caf::local_actor* parent, role_args args);
caf::actor spawn_candidate(caf::local_actor* parent, role_args args);
caf::actor spawn_leader(caf::local_actor* parent, role_args args);

} // namespace prez::raft
