// Leader role actor: runs leader_logic with role_actor glue, and batches client proposals and
// ReadIndex requests: everything that reached the mailbox before the batch flush goes into one
// log append / one heartbeat round (docs/architecture.md §8: throughput comes from batching and
// pipelining).

#include <cctype>
#include <chrono>
#include <memory>
#include <optional>

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
  if (st.logic->transferring() && !st.proposals.empty()) {
    // Thesis §3.10: no new entries while leadership is handed over, or the target may never
    // catch up. They wait here; if this role retires, the session sends them to the new leader.
    if (!st.batch_flush_scheduled) {
      st.batch_flush_scheduled = true;
      self->delayed_send(self, st.args.tick, flush_atom::value);
    }
    if (!st.reads.empty()) {
      auto reads = std::move(st.reads);
      st.reads.clear();
      execute(self, st.logic->read_index(reads, 0));
    }
    return;
  }
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
      st.expiry.stamped(now_ms, read_floor);
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

bool is_transfer_command(const std::vector<std::string>& argv) {
  if (argv.size() != 2) return false;
  std::string name = argv[0];
  for (auto& c : name)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name == "raft.transfer";
}

void reply_to(role_actor<leader_logic>* self, std::uint64_t client_id, std::uint64_t seq,
              std::string text) {
  self->send(self->state.args.handles.session, applied_atom::value,
             std::vector<applied_result>{{client_id, seq, std::move(text)}});
}

/// The RAFT.TRANSFER command waiting for its transfer's outcome.
struct transfer_reply {
  std::uint64_t client_id = 0;
  std::uint64_t seq = 0;
  node_name target;
};

/// RAFT.TRANSFER <name>: answered +OK once TimeoutNow went out (the target's election follows at
/// once), or with an error when the target is no voter or did not catch up in time.
void start_transfer(role_actor<leader_logic>* self, client_command&& command,
                    std::shared_ptr<std::optional<transfer_reply>> pending) {
  auto& st = self->state;
  raft_effects fx;
  auto reason = st.logic->transfer_leadership(command.argv[1], fx);
  if (!reason.empty()) {
    reply_to(self, command.client_id, command.seq, resp::error(reason));
    return;
  }
  if (command.argv[1] == st.logic->context().config.self) {
    reply_to(self, command.client_id, command.seq, resp::ok());
    return;
  }
  if (*pending) // an earlier transfer's caller: this one replaces it
    reply_to(self, (*pending)->client_id, (*pending)->seq,
             resp::error("ERR superseded by another RAFT.TRANSFER"));
  *pending = transfer_reply{command.client_id, command.seq, command.argv[1]};
  spdlog::info("raft: handing leadership over to {}", command.argv[1]);
  execute(self, std::move(fx));
}

caf::behavior leader_actor(role_actor<leader_logic>* self, role_args args) {
  auto pending = std::make_shared<std::optional<transfer_reply>>();
  self->state.after_execute = [=] {
    auto& logic = *self->state.logic;
    if (!*pending) return;
    const auto& p = **pending;
    if (logic.transfer_sent()) {
      reply_to(self, p.client_id, p.seq, resp::ok());
      pending->reset();
    } else if (!logic.transferring()) {
      reply_to(self, p.client_id, p.seq,
               resp::error("ERR leadership transfer to '" + p.target +
                           "' gave up: it did not catch up within an election timeout"));
      pending->reset();
    }
  };
  // Background expiry (D33): checked on the role's tick, no timer of its own. The clock entry
  // goes through the batch like a read's, so it is stamped and appended the same way.
  self->state.after_tick = [=] {
    auto& st = self->state;
    if (st.logic->transferring() || !st.expiry.due(wall_clock_ms())) return;
    st.proposals.push_back(make_clock_entry(0));
    flush_batch(self);
  };
  return role_behavior(
      self, std::move(args),
      // The session manager's proposals, in its order (one message per batch it had).
      [=](propose_atom, std::vector<client_command>& commands) {
        for (auto& command : commands) {
          if (self->state.executor.retired()) return;
          if (is_transfer_command(command.argv)) {
            flush_batch(self);
            start_transfer(self, std::move(command), pending);
            continue;
          }
          if (is_membership_change(command.argv)) {
            flush_batch(self); // what came before it goes first
            propose_membership(self, std::move(command));
            continue;
          }
          self->state.proposals.push_back(std::move(command));
          if (self->state.proposals.size() >= limits::proposal_batch_max)
            flush_batch(self);
          else
            schedule_batch(self);
        }
      },
      [=](read_atom, const std::vector<std::uint64_t>& read_ids) {
        if (self->state.executor.retired()) return;
        auto& reads = self->state.reads;
        reads.insert(reads.end(), read_ids.begin(), read_ids.end());
        schedule_batch(self);
      },
      [=](flush_atom) { flush_batch(self); },
      // From the node: the earliest deadline its state machine knows (D33).
      [=](deadline_atom, const deadline_report& report) { self->state.expiry.report(report); },
      // A graceful stop: hand leadership to the most up-to-date voter.
      [=](transfer_atom) {
        raft_effects fx;
        auto reason = self->state.logic->transfer_leadership({}, fx);
        if (!reason.empty()) spdlog::info("raft: no leadership transfer on stop: {}", reason);
        execute(self, std::move(fx));
      });
}

} // namespace

caf::actor spawn_leader(caf::local_actor* parent, role_args args) {
  return parent->spawn(leader_actor, std::move(args));
}

} // namespace prez::raft
