#include "actors/state_machine/state_machine_actor.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <map>
#include <random>

#include "caf/all.hpp"
#include <spdlog/spdlog.h>

#include "actors/caf_messages.hpp"
#include "actors/fail_stop_actor.hpp"
#include "actors/gateway/resp_writer.hpp"
#include "actors/state_machine/client_sessions.hpp"
#include "actors/state_machine/kv_state.hpp"
#include "actors/state_machine/state_restore.hpp"
#include "actors/storage/audit_log.hpp"
#include "config/limits.hpp"
#include "config/runtime_config.hpp"
#include "messages/wire_codec.hpp"

namespace prez {

namespace {

/// RAFT.NODE LIST: one [name, address, role] triple per member of the applied configuration,
/// role being voter, learner, or joining (a learner promoted once it has caught up).
std::string list_members(const membership& config) {
  std::string out;
  append_array_header(out, config.members.size());
  for (const auto& m : config.members) {
    append_array_header(out, 3);
    append_bulk(out, m.name);
    append_bulk(out, m.address);
    append_bulk(out, m.voter ? "voter" : m.promote ? "joining" : "learner");
  }
  return out;
}

bool is_member_list(const std::vector<std::string>& argv) {
  auto lower = [](std::string s) {
    for (auto& c : s)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  return argv.size() == 2 && lower(argv[0]) == "raft.node" && lower(argv[1]) == "list";
}

bool is_snapshot_fetch(const std::vector<std::string>& argv) {
  auto lower = [](std::string s) {
    for (auto& c : s)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  return argv.size() == 2 && lower(argv[0]) == "raft.snapshot" && lower(argv[1]) == "fetch";
}

/// Serves a read: WATCH answers the keys' versions (an array of integers, for the connection to
/// keep until EXEC); RAFT.NODE LIST the configuration applied; everything else is a kv_state
/// read.
std::string serve_read(const kv_state& kv, const membership& config, std::uint64_t last_applied,
                       const std::vector<std::string>& argv, std::uint64_t entropy) {
  if (is_member_list(argv)) return list_members(config);
  // RAFT.SNAPSHOT FETCH's linearizable point (D25): served after ReadIndex, so the index applied
  // here covers every write acknowledged before the read began.
  if (is_snapshot_fetch(argv)) return ":" + std::to_string(last_applied) + "\r\n";
  if (argv.size() >= 2 && (argv[0] == "WATCH" || argv[0] == "watch")) {
    std::string out;
    append_array_header(out, argv.size() - 1);
    for (std::size_t i = 1; i < argv.size(); ++i)
      append_integer(out, static_cast<std::int64_t>(kv.key_version(argv[i])));
    return out;
  }
  // At the cluster clock (the largest stamp applied), never this node's wall clock: a read's time
  // then never goes back, across clock steps and leader changes (docs/expiry.md). A random read
  // answers only its client, so it draws fresh randomness (Redis's SRANDMEMBER differs per call).
  return kv.read_random(argv, kv.keys().clock_ms(), entropy);
}

/// Whether (client_id, seq) was applied: its reply is kept, or it is older than what the table
/// still remembers of that client.
bool was_applied(client_sessions& sessions, std::uint64_t client_id, std::uint64_t seq,
                 std::uint64_t time_ms) {
  std::string ignored;
  return sessions.check(client_id, seq, time_ms, ignored) != client_sessions::verdict::apply;
}

/// Reads confirmed at one index, answered together once it is applied.
struct waiting_read {
  std::vector<std::vector<std::string>> argvs;
  caf::response_promise promise;
};

/// A RAFT.SNAPSHOT FETCH waiting for a durable snapshot that covers min_index (D25).
struct waiting_fetch {
  std::uint64_t min_index = 0;
  caf::response_promise promise;
};

struct state_machine_state {
  kv_state kv;
  /// Randomness for ReadIndex reads (SRANDMEMBER & co, kv_state::read_random): never for what
  /// is applied from the log.
  std::mt19937_64 read_random{std::random_device{}()};
  /// Replies of recent commands per client: a command applied twice is answered, not re-run.
  client_sessions sessions;
  /// Index of the last entry applied. Invariant: entries are applied in order, each once.
  std::uint64_t last_applied = 0;
  std::uint64_t last_applied_term = 0;
  state_machine_settings settings;
  caf::actor node;
  /// The earliest deadline last reported to the node (background expiry, D33).
  std::optional<raft::deadline_report> deadline_reported;
  /// Applied since the last snapshot began (the triggers).
  std::uint64_t entries_since_snapshot = 0;
  std::uint64_t bytes_since_snapshot = 0;
  /// The snapshot being written: its index and term, and when it began.
  std::uint64_t snapshot_index = 0;
  std::uint64_t snapshot_term = 0;
  std::chrono::steady_clock::time_point snapshot_started;
  /// RAFT.SNAPSHOT callers waiting for the running snapshot.
  std::vector<caf::response_promise> snapshot_waiters;
  snapshot_stats stats;
  /// Commands applied from the log (a transaction counts as one "exec").
  command_counts commands_applied;
  /// Reads waiting for last_applied to reach their index.
  std::multimap<std::uint64_t, waiting_read> reads;
  /// Backups waiting for a snapshot at or after their index (at most
  /// limits::snapshot_fetches_max).
  std::vector<waiting_fetch> fetches;
  caf::actor session;
  /// The configuration of the last configuration entry applied (or of the snapshot): what a
  /// snapshot records and RAFT.NODE LIST shows.
  membership config;
  /// Audit log (settings.audit): lines of the batch being applied; bytes sent and not yet
  /// answered by the audit log actor; entries dropped while those exceeded the limit
  /// (first > last: none).
  std::vector<audit::audit_line> audit_lines;
  std::uint64_t audit_pending_bytes = 0;
  std::uint64_t audit_dropped_first = 1;
  std::uint64_t audit_dropped_last = 0;
  static inline const char* name = "state_machine";
};

using state_machine = caf::stateful_actor<state_machine_state>;

void serve_waiting_reads(state_machine* self);

/// The answer to a command retried after the session table forgot its reply.
std::string forgotten_reply() {
  return resp::error("UNKNOWN this command was retried after its reply was forgotten; it may or "
                     "may not have been applied");
}

void add_audit_line(state_machine_state& st, audit::audit_line line);

/// A committed configuration entry: it is the configuration now, and the RAFT.NODE command
/// that asked for it (if any) is answered exactly once, through the client session table.
void apply_config(state_machine_state& st, const log_entry& entry,
                  std::vector<applied_result>& results) {
  auto change = decode_config_change(entry.data);
  if (!change) {
    // The Raft roles refuse such entries, so this is our bug or a damaged disk past its checks.
    spdlog::error("state machine: entry {} holds an unreadable configuration; skipped",
                  entry.index);
    return;
  }
  st.config = std::move(change->config);
  spdlog::info("configuration at index {} committed: {} voters, {} members", entry.index,
               st.config.voter_count(), st.config.members.size());
  const auto& origin = change->origin;
  // The audit log lists configuration changes too (RAFT.NODE ADD/REMOVE, and PROMOTE by the
  // leader), as the commands that made them.
  if (!origin.argv.empty()) add_audit_line(st, audit::entry_lines(entry.index, entry.term, origin));
  if (origin.client_id == 0) return; // made by the leader (a promotion)
  std::string reply;
  switch (st.sessions.check(origin.client_id, origin.seq, origin.time_ms, reply)) {
    case client_sessions::verdict::duplicate:
      break;
    case client_sessions::verdict::too_old:
      reply = forgotten_reply();
      break;
    case client_sessions::verdict::apply:
      reply = resp::simple("OK");
      st.sessions.record(origin.client_id, origin.seq, origin.time_ms, reply);
      break;
  }
  results.push_back({origin.client_id, origin.seq, std::move(reply)});
}

// --- audit log hook (docs/architecture.md §5): the lines of applied commands, one message per
// applied batch to the audit log actor, which writes them; the state machine never waits. -------

/// Adds a line for the audit log, if there is one.
void add_audit_line(state_machine_state& st, audit::audit_line line) {
  if (st.settings.audit) st.audit_lines.push_back(std::move(line));
}

/// Sends the lines collected so far. While the audit log actor is more than
/// limits::audit_log_pending_bytes_max behind (a disk much slower than the commands), lines are
/// dropped instead, and a comment naming the entries they belonged to goes with the next batch.
void send_audit_lines(state_machine* self) {
  auto& st = self->state;
  if (st.audit_lines.empty()) return;
  std::uint64_t bytes = 0;
  for (const auto& line : st.audit_lines)
    bytes += line.text.size();
  if (st.audit_pending_bytes > 0 &&
      st.audit_pending_bytes + bytes > limits::audit_log_pending_bytes_max) {
    if (st.audit_dropped_first > st.audit_dropped_last)
      st.audit_dropped_first = st.audit_lines.front().index;
    st.audit_dropped_last = st.audit_lines.back().index;
    st.audit_lines.clear();
    return;
  }
  if (st.audit_dropped_first <= st.audit_dropped_last) {
    auto comment = audit::lost_comment(st.audit_dropped_first, st.audit_dropped_last,
                                       "the audit log fell behind the state machine");
    bytes += comment.text.size();
    st.audit_lines.insert(st.audit_lines.begin(), std::move(comment));
    st.audit_dropped_first = 1;
    st.audit_dropped_last = 0;
  }
  st.audit_pending_bytes += bytes;
  self->send(st.settings.audit, audit_atom::value, std::move(st.audit_lines));
  st.audit_lines.clear();
}

/// Records the replies of the clients the last entry served or timed out (blocking commands,
/// kv_state::take_served) as their commands' outcomes, and sends them with the results.
void take_served(state_machine_state& st, std::uint64_t time_ms,
                 std::vector<applied_result>& results) {
  for (auto& served : st.kv.take_served()) {
    st.sessions.record(served.client_id, served.seq, time_ms, served.reply);
    results.push_back({served.client_id, served.seq, std::move(served.reply)});
  }
}

/// Background expiry (docs/decisions.md D33): tells the node the state's earliest deadline when
/// it changed or is still due, so its leader role can append a clock entry once it passes.
void report_deadline(state_machine* self) {
  auto& st = self->state;
  if (!st.node) return;
  const raft::deadline_report now{st.last_applied, st.kv.keys().clock_ms(),
                                  st.kv.next_deadline_ms()};
  if (!raft::worth_reporting(st.deadline_reported, now)) return;
  st.deadline_reported = now;
  self->send(st.node, deadline_atom::value, now);
}

void apply_entries(state_machine* self, const std::vector<log_entry>& entries) {
  auto& st = self->state;
  std::vector<applied_result> results;
  bool config_changed = false;
  // Keyspace notifications are node-local (D32): this node's notify-keyspace-events decides
  // what the batch publishes; a CONFIG SET takes effect at the next batch.
  if (st.settings.runtime)
    st.kv.set_notify_flags(st.settings.runtime->read(
        [](const runtime_config& c) { return c.notify_keyspace_events(); }));
  for (const auto& entry : entries) {
    if (entry.index != st.last_applied + 1) {
      spdlog::critical("state machine: entry {} out of order (last applied {})", entry.index,
                       st.last_applied);
      std::abort(); // our own bug: applying out of order would diverge replicas
    }
    st.last_applied = entry.index;
    st.last_applied_term = entry.term;
    ++st.entries_since_snapshot;
    st.bytes_since_snapshot += entry.data.size();
    st.sessions.at_index(entry.index);
    if (entry.kind() == entry_type::config) {
      apply_config(st, entry, results);
      config_changed = true;
      continue;
    }
    if (entry.kind() != entry_type::command) continue;
    auto command = decode_command(entry.data.data(), entry.data.size());
    if (!command) {
      // Every replica refuses the same bytes identically, so they stay in agreement.
      spdlog::error("state machine: entry {} holds an undecodable command; skipped", entry.index);
      continue;
    }
    if (is_clock_entry(*command)) {
      st.kv.advance_clock(command->time_ms);
      take_served(st, command->time_ms, results);
      continue;
    }
    std::string reply;
    switch (st.sessions.check(command->client_id, command->seq, command->time_ms, reply)) {
      case client_sessions::verdict::duplicate:
        break;
      case client_sessions::verdict::too_old:
        reply = forgotten_reply();
        break;
      case client_sessions::verdict::apply: {
        if (command->after_seq != 0 &&
            !was_applied(st.sessions, command->client_id, command->after_seq, command->time_ms) &&
            !st.kv.is_blocked(command->client_id, command->after_seq)) {
          // It overtook its connection's earlier command (that one bounced and is being retried):
          // not applied, identically on every replica; the session sends it again after it.
          results.push_back({command->client_id, command->seq, {}, true});
          continue;
        }
        std::optional<std::string> outcome;
        if (command->is_transaction())
          outcome =
              st.kv.apply_transaction(command->transaction, command->time_ms, command->watched);
        else if (is_member_list(command->argv))
          outcome = list_members(st.config);
        else
          outcome =
              st.kv.apply_client(command->client_id, command->seq, command->argv, command->time_ms);
        st.commands_applied.count(command->is_transaction() ? std::string_view("exec")
                                  : command->argv.empty()   ? std::string_view()
                                                            : std::string_view(command->argv[0]));
        add_audit_line(st, audit::entry_lines(entry.index, entry.term, *command));
        // Clients an entry served or timed out get their replies before the entry's own client
        // (PREZ.UNBLOCK's reply comes after the reply of the command it unblocked).
        take_served(st, command->time_ms, results);
        if (!outcome) continue; // blocked: its reply comes from a later entry (take_served)
        reply = std::move(*outcome);
        st.sessions.record(command->client_id, command->seq, command->time_ms, reply);
        break;
      }
    }
    results.push_back({command->client_id, command->seq, std::move(reply)});
  }
  if (!results.empty()) self->send(st.session, applied_atom::value, std::move(results));
  if (auto published = st.kv.take_published(); !published.empty() && st.settings.pubsub)
    self->send(st.settings.pubsub, publish_atom::value, std::move(published));
  // The node rewrites nodes.conf from each committed configuration.
  if (config_changed && st.node) self->send(st.node, members_atom::value, st.config);
  send_audit_lines(self);
  report_deadline(self);
  serve_waiting_reads(self);
}

/// Serves `argvs` in order against the state as it is now.
std::vector<std::string> serve_reads(state_machine_state& st,
                                     const std::vector<std::vector<std::string>>& argvs) {
  std::vector<std::string> texts;
  texts.reserve(argvs.size());
  for (const auto& argv : argvs)
    texts.push_back(serve_read(st.kv, st.config, st.last_applied, argv, st.read_random()));
  return texts;
}

void serve_waiting_reads(state_machine* self) {
  auto& st = self->state;
  while (!st.reads.empty() && st.reads.begin()->first <= st.last_applied) {
    auto node = st.reads.extract(st.reads.begin());
    node.mapped().promise.deliver(serve_reads(st, node.mapped().argvs));
  }
}

void answer_snapshot_waiters(state_machine* self, const std::string& reply) {
  auto waiters = std::move(self->state.snapshot_waiters);
  self->state.snapshot_waiters.clear();
  for (auto& w : waiters)
    w.deliver(reply);
}

void snapshot_step(state_machine* self);
void begin_snapshot(state_machine* self);

// --- backups (docs/decisions.md D25): RAFT.SNAPSHOT FETCH gets a durable snapshot covering an
// index, the newest one if it does, else one taken once this replica has applied that far. ------

/// Has the snapshot actor serve the durable snapshot (index, term) and answers `promise` with it.
void export_snapshot(state_machine* self, std::uint64_t index, std::uint64_t term,
                     caf::response_promise promise) {
  self->request(self->state.settings.snapshots, std::chrono::seconds(30), snap_export_atom::value,
                index)
      .then(
          [=](std::uint64_t file_bytes) mutable {
            promise.deliver(raft::snapshot_ref{index, term, file_bytes});
          },
          [=](caf::error& error) mutable { promise.deliver(std::move(error)); });
}

/// Answers every fetch the newest durable snapshot covers; begins a snapshot for those this
/// replica has applied past and no snapshot covers yet. The rest wait for more entries.
void serve_fetches(state_machine* self) {
  auto& st = self->state;
  bool needs_snapshot = false;
  for (auto it = st.fetches.begin(); it != st.fetches.end();) {
    if (st.last_applied >= it->min_index && st.stats.index >= it->min_index) {
      export_snapshot(self, st.stats.index, st.stats.term, std::move(it->promise));
      it = st.fetches.erase(it);
      continue;
    }
    needs_snapshot = needs_snapshot || st.last_applied >= it->min_index;
    ++it;
  }
  // stats.running, not kv.snapshot_running(): the state is all serialised before the file is
  // durable, and a snapshot begun in between would only be a second one for the same fetch.
  if (needs_snapshot && !st.stats.running) begin_snapshot(self);
}

/// The snapshot fetches were waiting for failed: they get its error (prez-ctl retries).
void fail_fetches(state_machine* self, const caf::error& error) {
  auto& st = self->state;
  for (auto it = st.fetches.begin(); it != st.fetches.end();) {
    if (st.last_applied < it->min_index) {
      ++it;
      continue;
    }
    it->promise.deliver(error);
    it = st.fetches.erase(it);
  }
}

/// RAFT.SNAPSHOT FETCH at `min_index` (a ReadIndex the gateway obtained): answered with a durable
/// snapshot covering it, once there is one.
caf::result<raft::snapshot_ref> fetch_snapshot(state_machine* self, std::uint64_t min_index) {
  auto& st = self->state;
  if (st.fetches.size() >= limits::snapshot_fetches_max)
    return caf::make_error(caf::sec::runtime_error,
                           "too many backups waiting for a snapshot here; try again later");
  // Index 0 is no snapshot at all: a fetch needs at least one applied entry.
  st.fetches.push_back({std::max<std::uint64_t>(min_index, 1), self->make_response_promise()});
  serve_fetches(self);
  return caf::delegated<raft::snapshot_ref>{};
}

/// Begins a snapshot of the state as it is now (after entry last_applied).
void begin_snapshot(state_machine* self) {
  auto& st = self->state;
  storage::snapshot_meta meta;
  meta.last_index = st.last_applied;
  meta.last_term = st.last_applied_term;
  meta.config = st.config;
  for (const auto& m : st.config.members)
    (m.voter ? meta.voters : meta.learners).push_back(m.name);
  meta.created_ms =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  st.snapshot_index = meta.last_index;
  st.snapshot_term = meta.last_term;
  st.snapshot_started = std::chrono::steady_clock::now();
  st.entries_since_snapshot = 0;
  st.bytes_since_snapshot = 0;
  st.stats.running = true;
  self->send(st.settings.snapshots, snap_begin_atom::value, std::move(meta));
  st.kv.begin_snapshot(st.sessions);
  spdlog::info("snapshot at index {} begun", st.snapshot_index);
  self->send(self, snap_piece_atom::value);
}

void maybe_begin_snapshot(state_machine* self) {
  auto& st = self->state;
  if (st.kv.snapshot_running() || st.last_applied == 0 || st.last_applied <= st.stats.index) return;
  const auto& s = st.settings;
  const auto [entries, bytes] = s.runtime ? s.runtime->read([](const runtime_config& c) {
    return std::pair{c.snapshot_entries(), c.snapshot_bytes()};
  })
                                          : std::pair{s.snapshot_entries, s.snapshot_bytes};
  const bool due = (entries > 0 && st.entries_since_snapshot >= entries) ||
                   (bytes > 0 && st.bytes_since_snapshot >= bytes);
  // Not before the log since the last snapshot is worth a good part of rewriting the state.
  const bool worth_it =
      st.bytes_since_snapshot >= st.stats.bytes / limits::snapshot_state_per_log_bytes;
  if (due && worth_it) begin_snapshot(self);
}

/// The snapshot actor made the snapshot durable (or failed, which stops the process there).
void snapshot_done(state_machine* self, const raft::snapshot_ref& ref) {
  auto& st = self->state;
  const auto took = std::chrono::steady_clock::now() - st.snapshot_started;
  st.stats.running = false;
  if (ref.index > st.stats.index) {
    st.stats.index = ref.index;
    st.stats.term = ref.term;
    st.stats.bytes = ref.bytes;
  }
  st.stats.took_ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(took).count());
  st.stats.last_time_s = static_cast<std::int64_t>(std::time(nullptr));
  st.stats.last_status = "ok";
  ++st.stats.taken;
  spdlog::info("snapshot at index {} durable: {} bytes in {} ms", ref.index, ref.bytes,
               st.stats.took_ms);
  if (st.node) self->send(st.node, snap_taken_atom::value, ref);
  answer_snapshot_waiters(self, "+OK\r\n");
  serve_fetches(self);
  maybe_begin_snapshot(self); // the log may have grown past a trigger meanwhile
}

/// One step: about limits::snapshot_step_bytes of the snapshot to the snapshot actor, then the
/// next step once it has taken them (so at most one piece waits in memory), applied entries
/// running in between.
void snapshot_step(state_machine* self) {
  auto& st = self->state;
  if (!st.kv.snapshot_running()) return;
  std::string piece;
  const bool done = st.kv.snapshot_next(piece, limits::snapshot_step_bytes);
  const auto snapshots = st.settings.snapshots;
  const auto index = st.snapshot_index;
  if (!done) {
    self->request(snapshots, caf::infinite, snap_piece_atom::value, std::move(piece))
        .then([=]() { snapshot_step(self); },
              [=](const caf::error& error) {
                spdlog::error("snapshot at {}: {}", index, self->system().render(error));
              });
    return;
  }
  if (!piece.empty()) self->send(snapshots, snap_piece_atom::value, std::move(piece));
  self->request(snapshots, caf::infinite, snap_end_atom::value)
      .then([=](const raft::snapshot_ref& ref) { snapshot_done(self, ref); },
            [=](const caf::error& error) {
              auto& st = self->state;
              st.stats.running = false;
              st.stats.last_status = "err";
              spdlog::error("snapshot at {} failed: {}", index, self->system().render(error));
              answer_snapshot_waiters(
                  self, resp::error("ERR snapshot failed: " + self->system().render(error)));
              fail_fetches(self, error);
            });
}

/// A snapshot installed from the leader replaces the state (Raft §7).
void restore(state_machine* self, const raft::snapshot_ref& ref,
             const std::shared_ptr<restored_state>& state) {
  auto& st = self->state;
  if (ref.index <= st.last_applied) return; // already past it
  if (!state) {
    // The role's loaded state went missing: a bug in the glue, never a peer's doing.
    throw std::runtime_error("restore of snapshot " + std::to_string(ref.index) +
                             " without its loaded state");
  }
  if (st.kv.snapshot_running()) {
    st.kv.abort_snapshot();
    st.stats.running = false;
    self->send(st.settings.snapshots, snap_abort_atom::value);
  }
  st.kv = std::move(state->kv);
  st.sessions = std::move(state->sessions);
  if (!state->config.members.empty()) {
    st.config = state->config;
    if (st.node) self->send(st.node, members_atom::value, st.config);
  }
  st.last_applied = ref.index;
  st.last_applied_term = ref.term;
  st.entries_since_snapshot = 0;
  st.bytes_since_snapshot = 0;
  st.stats.index = ref.index;
  st.stats.term = ref.term;
  st.stats.bytes = ref.bytes;
  st.stats.last_time_s = static_cast<std::int64_t>(std::time(nullptr));
  ++st.stats.installed;
  spdlog::info("state machine continues from snapshot {}/{} installed from the leader ({} keys)",
               ref.index, ref.term, st.kv.size());
  add_audit_line(st, audit::snapshot_comment(ref.index, ref.term, true));
  send_audit_lines(self);
  answer_snapshot_waiters(self, "+OK\r\n");
  report_deadline(self);
  serve_waiting_reads(self);
  serve_fetches(self);
}

caf::behavior state_machine_actor(state_machine* self, caf::actor session,
                                  state_machine_settings settings) {
  self->set_exception_handler(exception_exit_reason);
  auto& st = self->state;
  st.session = std::move(session);
  st.settings = std::move(settings);
  st.config = st.settings.config;
  if (st.settings.initial) {
    st.kv = std::move(st.settings.initial->kv);
    st.sessions = std::move(st.settings.initial->sessions);
    st.settings.initial.reset();
    st.last_applied = st.settings.initial_index;
    st.last_applied_term = st.settings.initial_term;
    st.stats.index = st.settings.initial_index;
    st.stats.term = st.settings.initial_term;
    st.stats.bytes = st.settings.initial_bytes;
    // Written only if the audit log does not list entries up to here already.
    add_audit_line(st, audit::snapshot_comment(st.last_applied, st.last_applied_term, false));
    send_audit_lines(self);
  }
  return {
      [=](start_atom, const caf::actor& node) {
        self->state.node = node;
        report_deadline(self); // the state loaded from a snapshot may hold deadlines
      },
      [=](apply_atom, const std::vector<log_entry>& entries) {
        apply_entries(self, entries);
        if (!self->state.fetches.empty()) serve_fetches(self);
        maybe_begin_snapshot(self);
      },
      [=](restore_atom, const raft::snapshot_ref& ref,
          const std::shared_ptr<restored_state>& state) { restore(self, ref, state); },
      [=](snap_piece_atom) { snapshot_step(self); },
      [=](snapshot_atom) -> caf::result<std::string> {
        auto& st = self->state;
        if (!st.kv.snapshot_running() && st.last_applied <= st.stats.index)
          return std::string("+OK\r\n"); // the newest snapshot already holds everything
        auto promise = self->make_response_promise();
        st.snapshot_waiters.push_back(promise);
        if (!st.kv.snapshot_running()) begin_snapshot(self);
        return caf::delegated<std::string>{};
      },
      [=](snap_fetch_atom, std::uint64_t min_index) { return fetch_snapshot(self, min_index); },
      // Reads confirmed at `index` (ReadIndex), answered in order once it is applied.
      [=](read_atom, std::uint64_t index,
          std::vector<std::vector<std::string>>& argvs) -> caf::result<std::vector<std::string>> {
        auto& st = self->state;
        if (index <= st.last_applied) return serve_reads(st, argvs);
        auto promise = self->make_response_promise();
        st.reads.emplace(index, waiting_read{std::move(argvs), promise});
        return caf::delegated<std::vector<std::string>>{};
      },
      [=](status_atom) {
        const auto& st = self->state;
        return apply_status{st.last_applied,
                            st.kv.size(),
                            st.kv.bytes(),
                            st.kv.keys().expiring(),
                            st.stats,
                            st.commands_applied.counts(),
                            st.kv.blocked_count(),
                            st.kv.keys().scripts().size()};
      },
      [=](audited_atom, std::uint64_t bytes) {
        auto& pending = self->state.audit_pending_bytes;
        pending -= std::min(pending, bytes);
      },
  };
}

} // namespace

caf::actor spawn_state_machine(caf::actor_system& system, caf::actor session,
                               state_machine_settings settings) {
  return system.spawn(state_machine_actor, std::move(session), std::move(settings));
}

} // namespace prez
