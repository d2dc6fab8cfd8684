// Leader role actor: runs leader_logic with role_actor glue, and batches client proposals and
// ReadIndex requests: everything that reached the mailbox before the batch flush goes into one
// log append / one heartbeat round (docs/architecture.md §8: throughput comes from batching and
// pipelining).

#include <chrono>

#include "actors/gateway/resp_writer.hpp"
#include "actors/raft/leader_logic.hpp"
#include "actors/raft/membership_change.hpp"
#include "actors/raft/role_actor.hpp"
#include "config/limits.hpp"
#include "messages/wire_codec.hpp"

namespace prez::raft {

namespace {

std::uint64_t wall_clock_ms() {
  using namespace std::chrono;
  return static_cast<std::uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

void schedule_batch(role_actor<leader_logic>* self) {
  if (!self->state.batch_flush_scheduled) {
    self->state.batch_flush_scheduled = true;
    self->send(self, flush_atom::value);
  }
}

void flush_batch(role_actor<leader_logic>* self) {
  auto& st = self->state;
  st.batch_flush_scheduled = false;
  if (st.executor.retired()) return;
  auto now_ms = wall_clock_ms();
  // Reads are served at the cluster clock (docs/expiry.md): keep it fresh for them.
  if (!st.reads.empty() && now_ms >= st.last_stamp_ms + limits::read_clock_refresh_ms)
    st.proposals.push_back(make_clock_entry(now_ms));
  std::uint64_t read_floor = 0;
  if (!st.proposals.empty()) {
    // The leader's clock is stamped into each entry so every replica sees the same time at the
    // same log position (expiry is deterministic across replicas).
    std::vector<std::string> commands;
    commands.reserve(st.proposals.size());
    for (auto& command : st.proposals) {
      command.time_ms = now_ms;
      commands.push_back(encode_command(command));
    }
    raft_effects fx;
    if (!st.logic->propose(std::move(commands), fx)) {
      for (auto& command : st.proposals)
        if (!is_clock_entry(command))
          self->send(st.args.handles.session, refused_atom::value, command.client_id, command.seq);
    } else {
      st.last_stamp_ms = now_ms;
      read_floor = st.logic->context().log.last_index();
    }
    st.proposals.clear();
    execute(self, std::move(fx));
  }
  if (!st.executor.retired() && !st.reads.empty()) {
    auto reads = std::move(st.reads);
    st.reads.clear();
    execute(self, st.logic->read_index(reads, read_floor));
  }
}

/// RAFT.NODE ADD / REMOVE: a configuration entry (thesis §4), answered by the state machine when
/// it commits, or refused here at once (not applied).
void propose_membership(role_actor<leader_logic>* self, client_command&& command) {
  auto& st = self->state;
  if (st.executor.retired()) return;
  const auto& log = st.logic->context().log;
  if (command.client_id != 0 && log.has_config_from(command.client_id, command.seq)) {
    // A retry of a change already in our log: as a plain entry after it, the state machine
    // answers it from its session table with the change's own reply.
    st.proposals.push_back(std::move(command));
    flush_batch(self);
    return;
  }
  auto refuse = [&](const std::string& text) {
    self->send(st.args.handles.session, applied_atom::value,
               std::vector<applied_result>{{command.client_id, command.seq, resp::error(text)}});
  };
  auto planned = plan_membership_change(log.config(), command.argv);
  if (auto* reason = std::get_if<std::string>(&planned)) {
    refuse(*reason);
    return;
  }
  config_change change;
  change.config = std::get<membership>(std::move(planned));
  command.time_ms = wall_clock_ms();
  change.origin = command;
  raft_effects fx;
  if (auto reason = st.logic->propose_config(std::move(change), fx); !reason.empty()) {
    refuse(reason);
    return;
  }
  spdlog::info("raft: configuration change proposed: {} {} {}", command.argv[1], command.argv[2],
               command.argv.size() > 3 ? command.argv[3] : "");
  execute(self, std::move(fx));
}

caf::behavior leader_actor(role_actor<leader_logic>* self, role_args args) {
  return role_behavior(
      self, std::move(args),
      [=](propose_atom, client_command& command) {
        if (self->state.executor.retired()) return;
        if (is_membership_change(command.argv)) {
          flush_batch(self); // what came before it goes first
          propose_membership(self, std::move(command));
          return;
        }
        self->state.proposals.push_back(std::move(command));
        if (self->state.proposals.size() >= limits::proposal_batch_max)
          flush_batch(self);
        else
          schedule_batch(self);
      },
      [=](read_atom, std::uint64_t read_id) {
        if (self->state.executor.retired()) return;
        self->state.reads.push_back(read_id);
        schedule_batch(self);
      },
      [=](flush_atom) { flush_batch(self); });
}

} // namespace

caf::actor spawn_leader(caf::local_actor* parent, role_args args) {
  return parent->spawn(leader_actor, std::move(args));
}

} // namespace prez::raft
