#include "actors/state_machine/state_machine_actor.hpp"

#include <map>

#include "caf/all.hpp"
#include <spdlog/spdlog.h>

#include "actors/caf_messages.hpp"
#include "actors/fail_stop_actor.hpp"
#include "actors/gateway/resp_writer.hpp"
#include "actors/state_machine/client_sessions.hpp"
#include "actors/state_machine/kv_state.hpp"
#include "messages/wire_codec.hpp"

namespace prez {

namespace {

/// Serves a read: WATCH answers the keys' versions (an array of integers, for the connection to
/// keep until EXEC); everything else is a kv_state read.
std::string serve_read(const kv_state& kv, const std::vector<std::string>& argv) {
  if (argv.size() >= 2 && (argv[0] == "WATCH" || argv[0] == "watch")) {
    std::string out;
    append_array_header(out, argv.size() - 1);
    for (std::size_t i = 1; i < argv.size(); ++i)
      append_integer(out, static_cast<std::int64_t>(kv.key_version(argv[i])));
    return out;
  }
  // At the cluster clock (the largest stamp applied), never this node's wall clock: a read's time
  // then never goes back, across clock steps and leader changes (docs/expiry.md).
  return kv.read(argv);
}

/// Whether (client_id, seq) was applied: its reply is kept, or it is older than what the table
/// still remembers of that client.
bool was_applied(client_sessions& sessions, std::uint64_t client_id, std::uint64_t seq,
                 std::uint64_t time_ms) {
  std::string ignored;
  return sessions.check(client_id, seq, time_ms, ignored) != client_sessions::verdict::apply;
}

struct waiting_read {
  std::vector<std::string> argv;
  caf::response_promise promise;
};

struct state_machine_state {
  kv_state kv;
  /// Replies of recent commands per client: a command applied twice is answered, not re-run.
  client_sessions sessions;
  /// Index of the last entry applied. Invariant: entries are applied in order, each once.
  std::uint64_t last_applied = 0;
  /// Reads waiting for last_applied to reach their index.
  std::multimap<std::uint64_t, waiting_read> reads;
  caf::actor session;
  static inline const char* name = "state_machine";
};

using state_machine = caf::stateful_actor<state_machine_state>;

void apply_entries(state_machine* self, const std::vector<log_entry>& entries) {
  auto& st = self->state;
  std::vector<applied_result> results;
  for (const auto& entry : entries) {
    if (entry.index != st.last_applied + 1) {
      spdlog::critical("state machine: entry {} out of order (last applied {})", entry.index,
                       st.last_applied);
      std::abort(); // our own bug: applying out of order would diverge replicas
    }
    st.last_applied = entry.index;
    st.sessions.at_index(entry.index);
    if (entry.kind() != entry_type::command) continue;
    auto command = decode_command(entry.data.data(), entry.data.size());
    if (!command) {
      // Every replica refuses the same bytes identically, so they stay in agreement.
      spdlog::error("state machine: entry {} holds an undecodable command; skipped", entry.index);
      continue;
    }
    if (is_clock_entry(*command)) {
      st.kv.advance_clock(command->time_ms);
      continue;
    }
    std::string reply;
    switch (st.sessions.check(command->client_id, command->seq, command->time_ms, reply)) {
      case client_sessions::verdict::duplicate:
        break;
      case client_sessions::verdict::too_old:
        reply = resp::error("UNKNOWN this command was retried after its reply was forgotten; it "
                            "may or may not have been applied");
        break;
      case client_sessions::verdict::apply:
        if (command->after_seq != 0 &&
            !was_applied(st.sessions, command->client_id, command->after_seq, command->time_ms)) {
          // It overtook its connection's earlier command (that one bounced and is being retried):
          // not applied, identically on every replica; the session sends it again after it.
          results.push_back({command->client_id, command->seq, {}, true});
          continue;
        }
        reply =
            command->is_transaction()
                ? st.kv.apply_transaction(command->transaction, command->time_ms, command->watched)
                : st.kv.apply(command->argv, command->time_ms);
        st.sessions.record(command->client_id, command->seq, command->time_ms, reply);
        break;
    }
    results.push_back({command->client_id, command->seq, std::move(reply)});
  }
  if (!results.empty()) self->send(st.session, applied_atom::value, std::move(results));
  while (!st.reads.empty() && st.reads.begin()->first <= st.last_applied) {
    auto node = st.reads.extract(st.reads.begin());
    node.mapped().promise.deliver(serve_read(st.kv, node.mapped().argv));
  }
}

caf::behavior state_machine_actor(state_machine* self, caf::actor session) {
  self->set_exception_handler(exception_exit_reason);
  self->state.session = std::move(session);
  return {
      [=](apply_atom, const std::vector<log_entry>& entries) { apply_entries(self, entries); },
      [=](read_atom, std::uint64_t index,
          std::vector<std::string>& argv) -> caf::result<std::string> {
        auto& st = self->state;
        if (index <= st.last_applied) return serve_read(st.kv, argv);
        auto promise = self->make_response_promise();
        st.reads.emplace(index, waiting_read{std::move(argv), promise});
        return caf::delegated<std::string>{};
      },
      [=](status_atom) {
        const auto& st = self->state;
        return apply_status{st.last_applied, st.kv.size(), st.kv.bytes(), st.kv.keys().expiring()};
      },
  };
}

} // namespace

caf::actor spawn_state_machine(caf::actor_system& system, caf::actor session) {
  return system.spawn(state_machine_actor, std::move(session));
}

} // namespace prez
