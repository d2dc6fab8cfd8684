#pragma once
// How INFO and the metrics port gather their figures: the node's status (Raft, state machine,
// peer links) and then the gateway acceptor's (clients), as one info_snapshot. Included only by
// actor code: it names CAF types. Both INFO (connection_commands_broker.cpp) and the metrics port
// (metrics_actor.cpp) use it, so the two always report the same figures.

#include <chrono>
#include <utility>

#include "caf/all.hpp"

#include "actors/caf_messages.hpp"
#include "actors/gateway/info_report.hpp"

namespace prez {

/// How long each of the two status requests may take before the gathering fails.
inline constexpr std::chrono::seconds info_gather_timeout{3};

/// The figures of `node` and `gateway` (the server section's process figures are left for the
/// caller: they are not the node's).
inline info_snapshot to_info_snapshot(const node_status& node, const gateway_status& gateway) {
  info_snapshot i;
  i.connected_clients = gateway.connected;
  i.blocked_clients = node.applied.blocked_clients;
  i.cached_scripts = node.applied.cached_scripts;
  i.total_connections = gateway.accepted_total;
  i.used_memory = node.applied.bytes;
  i.role = raft::to_string(node.raft.current_role);
  i.term = node.raft.term;
  i.leader = node.raft.leader;
  i.leader_address = node.leader_address;
  i.leader_heard_recently = node.raft.leader_heard_recently;
  i.commit_index = node.raft.commit_index;
  i.last_applied = node.applied.last_applied;
  i.last_log_index = node.raft.last_log_index;
  i.persisted_index = node.raft.persisted_index;
  const auto& snap = node.applied.snapshots;
  i.snapshot_index = snap.index;
  i.snapshot_term = snap.term;
  i.snapshot_bytes = snap.bytes;
  i.snapshot_took_ms = snap.took_ms;
  i.snapshot_time_s = snap.last_time_s;
  i.snapshot_running = snap.running;
  i.snapshot_status = snap.last_status;
  i.snapshots_taken = snap.taken;
  i.snapshots_installed = snap.installed;
  i.log_first_index = node.raft.first_log_index;
  i.log_entries = node.raft.log_entries;
  i.log_bytes = node.raft.log_bytes;
  i.voters = node.voters;
  i.learners = node.learners;
  i.membership = node.membership;
  i.role_epoch = node.role_epoch;
  i.peer_frames_refused = node.frames_refused;
  i.peer_links = node.links;
  i.keys = node.applied.keys;
  i.expiring = node.applied.expiring;
  i.commands_applied.assign(node.applied.commands_applied.begin(),
                            node.applied.commands_applied.end());
  return i;
}

/// Asks `node` (status_atom -> node_status), then `gateway` (status_atom -> gateway_status), and
/// calls `on_done(info_snapshot)`, or `on_error(const caf::error&)` when either request fails or
/// times out. `Self` is any actor or broker that can `request`.
template <class Self, class OnDone, class OnError>
void gather_info(Self* self, const caf::actor& node, const caf::actor& gateway, OnDone on_done,
                 OnError on_error) {
  self->request(node, info_gather_timeout, status_atom::value)
      .then(
          [=](const node_status& node_figures) {
            self->request(gateway, info_gather_timeout, status_atom::value)
                .then(
                    [=](const gateway_status& gateway_figures) {
                      on_done(to_info_snapshot(node_figures, gateway_figures));
                    },
                    [=](const caf::error& error) { on_error(error); });
          },
          [=](const caf::error& error) { on_error(error); });
}

} // namespace prez
