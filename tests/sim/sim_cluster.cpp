// Deterministic whole-cluster simulation over the shipped role logics and role executor
// (docs/architecture.md §9).
#include "tests/sim/sim_cluster.hpp"

#include <algorithm>
#include <cstdlib>
#include <ostream>
#include <set>
#include <sstream>

#include "actors/raft/membership_change.hpp"
#include "actors/raft/recovery.hpp"
#include "actors/raft/role_executor.hpp"
#include "actors/raft/rules.hpp"
#include "actors/session/session_logic.hpp"
#include "actors/state_machine/client_sessions.hpp"
#include "messages/wire_codec.hpp"

namespace prez::sim {
namespace {

using raft::candidate_logic;
using raft::follower_logic;
using raft::leader_logic;
using raft::raft_effects;

/// The node-side "log actor": a write reaches the durable part only after its fsync delay, in
/// order. A power loss loses every pending write; a process crash keeps a prefix of them.
struct pending_write {
  persist_request request;      ///< what the role's executor asked for (its seq included)
  std::uint64_t generation = 0; ///< the role that asked; a later role never hears the answer
  std::uint64_t done_at = 0;
};

/// A ReadIndex read issued by the simulated client on a leader.
struct client_read {
  std::uint64_t id = 0;
  std::string key;
  /// Entries applied anywhere (so committed) when the read started.
  std::uint64_t committed_at_start = 0;
  /// Index of the last committed write to `key` when the read started (0: none).
  std::uint64_t last_write_at_start = 0;
  std::optional<std::uint64_t> ready_index;
};

using role_variant = std::variant<std::monostate, follower_logic, candidate_logic, leader_logic>;

/// A simulated state machine's contents: key -> (value, index of the write).
using sim_kv = std::map<std::string, std::pair<std::string, std::uint64_t>>;

/// A snapshot file: the state at `ref.index`, and its bytes (a deterministic rendering of the
/// state; what InstallSnapshot carries in chunks and the receiver must reassemble exactly).
struct sim_snapshot {
  raft::snapshot_ref ref;
  sim_kv kv;
  client_sessions table;
  /// The configuration at ref.index, as the state machine held it (empty: none known, a node
  /// that joined and has applied no configuration entry yet).
  membership config;
  std::string bytes;
};

/// A result of the simulated snapshot actor, heard by the role that sent the last chunk.
struct snapshot_result {
  raft::snapshot_ref ref;
  bool ok = false;
  std::uint64_t generation = 0;
  /// The state it holds, loaded by the snapshot actor and handed to the state machine with the
  /// restore (so a file pruned meanwhile cannot be missed).
  std::shared_ptr<const sim_snapshot> loaded;
};

struct sim_node {
  node_name name;
  /// In the bootstrap configuration (nodes.conf); false: started to join a running cluster.
  bool bootstrap = true;
  bool up = true;
  std::uint64_t incarnation = 0;
  role_variant role;
  // Disk: the durable part survives a crash, the pending writes do not.
  raft::hard_state durable_hard;
  /// The durable log holds entries durable_first, durable_first + 1, ...; durable_base_term is
  /// the term of durable_first - 1 when known (0 after a reset, as log_store reports).
  std::vector<log_entry> durable_log;
  std::uint64_t durable_first = 1;
  std::uint64_t durable_base_term = 0;
  /// Snapshot files: durable ones (newest last, two kept), the one being written (lost by a
  /// crash before it is done) and the one being received from a leader.
  std::vector<sim_snapshot> snapshots;
  std::optional<sim_snapshot> writing;
  std::uint64_t writing_done_at = 0;
  std::uint64_t applied_since_snapshot = 0;
  std::uint64_t applied_term = 0;
  std::optional<install_snapshot_request> receiving; ///< data: the bytes so far
  std::deque<snapshot_result> snapshot_results;
  /// What the role actor holds from the last snap_recvd: the loaded state, for its restore.
  std::shared_ptr<const sim_snapshot> loaded;
  std::deque<pending_write> writes;
  /// Writes that became durable while the process was paused, not yet seen by it.
  std::vector<pending_write> unseen_writes;
  std::uint64_t last_done_at = 0;
  /// A paused process does nothing before this tick (0: running).
  std::uint64_t paused_until = 0;
  /// The shipped executor of the current role (actors/raft/role_executor.hpp), and which role
  /// incarnation it serves: a new one per role, as a new role actor has its own.
  raft::role_executor executor;
  std::uint64_t generation = 0;
  /// The shipped session manager's decisions (actors/session/session_logic.hpp) and the shipped
  /// exactly-once table; both die with the process.
  std::unique_ptr<session::session_logic> session;
  client_sessions table;
  /// What the session was last told (role, epoch, leader), to tell it only changes.
  std::tuple<int, std::uint64_t, node_name> reported_role{-1, 0, ""};
  // State machine: key -> (value, index of the write).
  sim_kv kv;
  /// The state machine's configuration: of the last configuration entry applied, else of the
  /// snapshot it loaded, else the bootstrap one (state_machine_actor's apply_config).
  membership config;
  std::uint64_t applied = 0;
  std::vector<client_read> reads;
};

/// A leader the adversarial profile will strike down at `at`, if it still leads in `term`.
struct leader_strike {
  std::size_t node = 0;
  std::uint64_t term = 0;
  std::uint64_t at = 0;
};

struct in_flight {
  std::uint64_t deliver_at = 0;
  std::uint64_t seq = 0;
  raft_message message;
};

/// A frame between two nodes' session managers.
struct session_flight {
  std::uint64_t deliver_at = 0;
  std::size_t from = 0;
  std::size_t to = 0;
  std::variant<forward_request, forward_response> body;
};

/// A client write given to a node's session manager, and the answer its client got.
struct client_write {
  std::uint64_t client_id = 0;
  std::uint64_t seq = 0;
  std::optional<std::string> answer; ///< RESP text; none while pending or if the node died
};

/// Splitmix64 again, for the simulator's own choices (separate from the nodes' PRNGs).
struct sim_rng {
  raft::rng inner;
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) { return inner.between(lo, hi); }
  double unit() {
    return static_cast<double>(inner.next() >> 11) / static_cast<double>(1ULL << 53);
  }
  bool chance(double p) { return p > 0 && unit() < p; }
};

const raft::raft_context* context_of(const sim_node& node) {
  return std::visit(
      [](const auto& logic) -> const raft::raft_context* {
        if constexpr (std::is_same_v<std::decay_t<decltype(logic)>, std::monostate>)
          return nullptr;
        else
          return &logic.context();
      },
      node.role);
}

/// Messages in flight at once before the run is declared a message storm.
constexpr std::size_t network_messages_max = 100000;

/// Share of seeds run with the adversarial profile (see `draw_adversarial`).
constexpr double adversarial_share = 0.5;

class simulation {
public:
  explicit simulation(const sim_options& options) : options_(options) {
    rng_.inner.state = options.seed * 0x2545f4914f6cdd1dULL + 17;
    draw_rates();
    for (std::size_t i = 0; i < options.nodes; ++i) {
      sim_node node;
      node.name = "n" + std::to_string(i + 1);
      nodes_.push_back(std::move(node));
    }
    const auto bootstrap_voters =
        options.voters == 0 ? options.nodes : std::min(options.voters, options.nodes);
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      nodes_[i].bootstrap = i < bootstrap_voters;
      if (nodes_[i].bootstrap) voters_.push_back(nodes_[i].name);
    }
    std::sort(voters_.begin(), voters_.end());
    for (const auto& name : voters_)
      initial_config_.members.push_back(member_info{name, address_of(name), true, false});
    checker_.set_initial_config(initial_config_);
    next_name_ = options.nodes;
    group_.assign(options.nodes, 0);
    config_template_.voters = voters_;
    // Timing kept realistic: a heartbeat interval near the worst round trip, an election
    // timeout several heartbeats long.
    config_template_.election_timeout_ticks = 20;
    config_template_.heartbeat_ticks = static_cast<std::uint32_t>(rng_.between(2, 6));
    config_template_.append_entries_max = rng_.between(2, 32);
    config_template_.append_bytes_max = rng_.between(16, 4096);
    config_template_.inflight_appends_max = rng_.between(1, 9);
    config_template_.uncommitted_bytes_max = rng_.between(256, 1 << 16);
    // Snapshots in most seeds, often enough that followers fall behind a compacted log.
    if (options.snapshot_catchup || rng_.chance(0.7)) {
      snapshot_every_ = rng_.between(4, 80);
      config_template_.snapshot_trailing_entries = rng_.between(0, 20);
      config_template_.snapshot_chunk_bytes = rng_.between(8, 96);
      config_template_.snapshot_chunks_inflight_max = rng_.between(1, 5);
    }
    if (!options.snapshot_catchup && rng_.chance(adversarial_share)) draw_adversarial();
    // follower-mode redirect in some seeds: its -MOVED answers must be as true as the others.
    redirect_ = rng_.chance(0.3);
    // Drawn last, and only when asked for, so the runs without membership changes stay as they
    // were seed for seed.
    if (options.membership_changes) rates_.reconfigure = 0.005 + rng_.unit() * 0.03;
  }

  sim_result run() {
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      boot(i);
    if (options_.snapshot_catchup) {
      run_snapshot_catchup();
      result_.ok = !checker_.failed();
      result_.failure = checker_.failure();
      result_.ticks = now_;
      result_.committed = checker_.committed_count();
      return result_;
    }
    for (std::uint64_t step = 0; step < options_.steps && !checker_.failed(); ++step)
      tick_once(true);
    if (!checker_.failed()) liveness_phase();
    if (!checker_.failed()) check_all_logs();
    if (!checker_.failed()) check_answers();
    result_.final_voters = checker_.committed_configs().rbegin()->second.voter_count();
    result_.ok = !checker_.failed();
    result_.failure = checker_.failure();
    result_.ticks = now_;
    result_.committed = checker_.committed_count();
    return result_;
  }

private:
  /// One follower down while the leader snapshots and compacts twice past its log; then it must
  /// come back through InstallSnapshot.
  void run_snapshot_catchup() {
    rates_ = fault_rates{};
    rates_.delay_ticks_max = 2;
    rates_.fsync_ticks_max = 1;
    rates_.propose = 0.8;
    redirect_ = false;
    const std::size_t down = nodes_.size() - 1;
    crash(down);
    std::uint64_t compactions = 0;
    std::uint64_t last_compaction = 0;
    for (std::uint64_t t = 0; t < 20000 && !checker_.failed(); ++t) {
      tick_once(false);
      client_ops();
      for (auto i : leaders()) {
        const auto& log = context_of(nodes_[i])->log;
        if (log.snapshot_index() > last_compaction) {
          last_compaction = log.snapshot_index();
          ++compactions;
        }
      }
      if (compactions >= 2 &&
          last_compaction > nodes_[down].durable_first - 1 + nodes_[down].durable_log.size())
        break;
    }
    if (compactions < 2) {
      checker_fail("snapshot catch-up: the leader compacted its log only " +
                   std::to_string(compactions) + " times");
      return;
    }
    trace(nodes_[down].name + " restarts behind the leader's compacted log");
    const auto installed_before = result_.snapshots_installed;
    liveness_phase();
    if (!checker_.failed() && result_.snapshots_installed == installed_before)
      checker_fail("snapshot catch-up: the follower caught up without InstallSnapshot");
  }

  void draw_rates() {
    rates_.drop = rng_.unit() * 0.2;
    rates_.duplicate = rng_.unit() * 0.1;
    rates_.delay_ticks_max = rng_.between(1, 4);
    rates_.fsync_ticks_max = rng_.between(0, 3);
    rates_.crash = rng_.unit() * 0.02;
    rates_.restart = 0.02 + rng_.unit() * 0.1;
    rates_.partition = rng_.unit() * 0.03;
    rates_.heal = 0.02 + rng_.unit() * 0.1;
    rates_.propose = 0.1 + rng_.unit() * 0.5;
    rates_.read = rng_.unit() * 0.2;
    rates_.power_loss = rng_.unit();
    rates_.pause = rng_.unit() * 0.01;
    rates_.pause_ticks_max = rng_.between(5, 120);
    rates_.late = rng_.unit() * 0.01;
    rates_.late_ticks_max = rng_.between(20, 400);
    rates_.one_way = rng_.unit() * 0.02;
    // Large batches, as the server runs (limits.hpp): a follower far behind is caught up in
    // appends of hundreds of entries, pipelined.
    if (rng_.chance(0.2)) {
      config_template_.append_entries_max = 512;
      config_template_.append_bytes_max = 1 << 20;
      config_template_.inflight_appends_max = 64;
    }
  }

  // The adversarial profile aims at the histories of Raft's Figure 8 (§5.4.2), which random
  // faults almost never line up: a leader's entries reach only a minority; a leader of a later
  // term appends conflicting ones and falls before they spread; the first leader returns, a
  // follower takes its old entries but not yet its new no-op, and it falls again; the second
  // leader, elected with that follower's vote, overwrites them. A leader that committed those
  // old entries by counting replicas has now lost committed entries. Two knobs make it likely:
  // - a leader is struck down (crashed, or cut off alone) a few ticks after it takes office or
  //   commits, often while a follower is only partway through catching up;
  // - one append in flight, of at most two small entries, so catching up takes round trips
  //   (with large batches the no-op rides in the same append as the old entries).
  void draw_adversarial() {
    result_.adversarial = true;
    rates_.strike_on_election = 0.3 + rng_.unit() * 0.6;
    rates_.strike_on_commit = 0.5 + rng_.unit() * 0.4;
    rates_.strike_ticks_max = rng_.between(2, 8);
    config_template_.append_entries_max = 2;
    config_template_.append_bytes_max = rng_.between(16, 64);
    config_template_.inflight_appends_max = 1;
  }

  void trace(const std::string& line) {
    if (options_.trace) *options_.trace << "t=" << now_ << " " << line << "\n";
  }

  /// The slot of the node called `name`; none for a name whose node was replaced (its process
  /// and disk are gone, so what is sent to it or by it is lost).
  std::optional<std::size_t> index_of(const node_name& name) const {
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      if (nodes_[i].name == name) return i;
    return std::nullopt;
  }

  /// Where a node is reached, as RAFT.NODE ADD names it (the sim network is by name).
  static std::string address_of(const node_name& name) { return "sim-" + name + ":7000"; }

  /// The configuration a node starts from when neither its log nor a snapshot holds one.
  membership bootstrap_config(const sim_node& node) const {
    return node.bootstrap ? initial_config_ : membership{};
  }

  // --- node lifecycle ------------------------------------------------------------------------

  void boot(std::size_t i) {
    auto& node = nodes_[i];
    node.up = true;
    ++node.incarnation;
    raft::raft_context context;
    context.config = config_template_;
    context.config.self = node.name;
    if (!node.bootstrap) context.config.voters.clear(); // joins a running cluster
    context.hard = node.durable_hard;
    node.kv.clear();
    node.config = bootstrap_config(node);
    node.applied = 0;
    node.applied_term = 0;
    node.applied_since_snapshot = 0;
    node.table = client_sessions{};
    if (node.snapshots.empty()) {
      if (node.durable_first != 1) checker_fail(node.name + ": a compacted log without a snapshot");
      context.log = raft::raft_log(node.durable_log);
    } else {
      // prez-server's start: the newest snapshot, then the log after it when the log holds the
      // snapshot's last entry (or starts right after it); otherwise the log is dropped.
      const auto& snap = node.snapshots.back();
      auto planned = raft::plan_recovery(snap.ref, node.durable_first, node.durable_log);
      if (auto* error = std::get_if<std::string>(&planned)) {
        checker_fail(node.name + " cannot start: " + *error);
        return;
      }
      auto& plan = std::get<raft::recovery_plan>(planned);
      if (plan.reset_log) {
        node.durable_log.clear();
        node.durable_first = snap.ref.index + 1;
        node.durable_base_term = 0;
      }
      context.log = std::move(plan.log);
      context.snapshot = snap.ref;
      context.commit_index = context.applied_index = snap.ref.index;
      node.kv = snap.kv;
      node.table = snap.table;
      if (!snap.config.members.empty()) node.config = snap.config;
      node.applied = snap.ref.index;
      node.applied_term = snap.ref.term;
    }
    // prez-server's start: the configuration is the newest configuration entry of the log, else
    // the snapshot's, else the bootstrap one (thesis §4.1).
    context.log.set_base_config(node.snapshots.empty() ||
                                        node.snapshots.back().config.members.empty()
                                    ? bootstrap_config(node)
                                    : node.snapshots.back().config);
    context.persisted_index = context.log.last_index();
    context.random.state = options_.seed * 1000003 + i * 7919 + node.incarnation * 104729;
    session::session_config sc;
    sc.self = node.name;
    sc.incarnation = (static_cast<std::uint64_t>(i + 1) << 48) + (node.incarnation << 32);
    sc.leader_wait_ms = 150;
    sc.write_timeout_ms = 300;
    sc.forward_slack_ms = 60;
    sc.redirect = redirect_;
    sc.pending_max = 64;
    sc.retry_backoff_min_ms = 2;
    sc.retry_backoff_max_ms = 32;
    node.session = std::make_unique<session::session_logic>(sc);
    node.reported_role = {-1, 0, ""};
    const auto restored = context.snapshot;
    node.role.emplace<follower_logic>(std::move(context));
    checker_.on_commit_index(node.name, restored.index, true);
    if (restored.index > 0) {
      checker_.on_restore(node.name, restored.index, restored.term);
      checker_.on_config_applied(node.name, restored.index, node.snapshots.back().config);
    }
    start_executor(node);
    drive(i, [](auto& logic) { return logic.start(); });
  }

  void crash(std::size_t i) {
    auto& node = nodes_[i];
    if (rng_.chance(rates_.power_loss)) {
      ++result_.power_losses;
      trace(node.name + " loses power");
    } else {
      // A process crash: the writes the log actor had already handed to the kernel are in the
      // page cache and survive; recovery syncs them (log_store::open) before counting them.
      const auto reached = rng_.between(0, node.writes.size() + 1);
      for (std::size_t k = 0; k < reached; ++k)
        make_durable(node, node.writes[k]);
    }
    node.paused_until = 0;
    node.up = false;
    node.session.reset(); // its connections die with it: their clients hear nothing
    node.role.emplace<std::monostate>();
    node.writes.clear();
    node.unseen_writes.clear();
    node.writing.reset(); // a snapshot not yet renamed is lost (or torn, and refused at start)
    node.receiving.reset();
    node.snapshot_results.clear();
    node.last_done_at = 0;
    node.executor = raft::role_executor{};
    ++node.generation;
    node.reads.clear();
    ++result_.crashes;
    trace(node.name + " crashes");
  }

  template <class F>
  void drive(std::size_t i, F&& input) {
    auto effects = std::visit(
        [&](auto& logic) -> raft_effects {
          if constexpr (std::is_same_v<std::decay_t<decltype(logic)>, std::monostate>)
            return {};
          else
            return input(logic);
        },
        nodes_[i].role);
    apply_effects(i, std::move(effects));
  }

  // Carries one step's effects out through the shipped executor, as a role actor does.
  void apply_effects(std::size_t i, raft_effects effects) {
    auto& node = nodes_[i];
    const auto* context = context_of(node);
    if (context == nullptr) return;
    for (const auto& e : effects.entries_to_persist)
      if (!check_entry(node, *context, e)) return;
    auto out = node.executor.run(std::move(effects), *context);
    if (out.persist) issue_write(node, std::move(*out.persist));
    for (auto& m : out.send)
      send(std::move(m));
    if (out.restore) restore_snapshot(node, *out.restore);
    std::vector<applied_result> results;
    for (const auto& e : out.committed)
      apply_entry(node, e, context->hard.term, results);
    maybe_take_snapshot(node);
    for (auto& chunk : out.snapshot_sends)
      send_snapshot_chunk(node, std::move(chunk));
    for (auto& w : out.snapshot_writes)
      store_snapshot_chunk(node, std::move(w.chunk));
    if (!out.committed.empty() && std::holds_alternative<leader_logic>(node.role))
      maybe_strike(i, context->hard.term, rates_.strike_on_commit);
    for (const auto& ready : out.reads)
      for (auto& read : node.reads)
        if (read.id == ready.read_id) {
          trace("read " + std::to_string(read.id) + " ready at index " +
                std::to_string(ready.index) + " on " + node.name);
          checker_.on_read_ready(read.id, read.committed_at_start, ready.index);
          read.ready_index = ready.index;
        }
    for (auto id : out.reads_failed)
      std::erase_if(node.reads, [id](const client_read& r) { return r.id == id; });
    checker_.on_commit_index(node.name, context->commit_index, false);
    if (context->applied_index != node.applied)
      checker_fail(node.name + ": context applied_index differs from what reached the state "
                               "machine");
    if (out.next_role) {
      change_role(i, *out.next_role, std::move(out.redeliver));
    } else {
      report_role(i);
    }
    if (!results.empty() && nodes_[i].session)
      run_session(i, nodes_[i].session->applied(results, now_));
  }

  // --- session managers -----------------------------------------------------------------------

  /// Tells node i's session manager its role, epoch and leader when they change (the node actor
  /// does this with role_info).
  void report_role(std::size_t i) {
    auto& node = nodes_[i];
    if (!node.session || !node.up) return;
    session::role_view view;
    view.epoch = node.generation;
    if (std::holds_alternative<leader_logic>(node.role)) {
      view.current = raft::role::leader;
      view.leader = node.name;
    } else if (const auto* f = std::get_if<follower_logic>(&node.role)) {
      view.current = raft::role::follower;
      view.leader = f->leader();
    } else {
      view.current = raft::role::candidate;
    }
    view.leader_address = view.leader.empty() ? "" : "addr-" + view.leader;
    std::tuple<int, std::uint64_t, node_name> now{static_cast<int>(view.current), view.epoch,
                                                  view.leader};
    if (now == node.reported_role) return;
    node.reported_role = now;
    run_session(i, node.session->set_role(view, now_));
  }

  /// Carries a session manager's effects out, as session_actor does.
  void run_session(std::size_t i, session::session_effects fx) {
    if (!nodes_[i].up || !nodes_[i].session) return;
    for (auto& command : fx.propose) {
      if (!std::holds_alternative<leader_logic>(nodes_[i].role))
        continue; // a retired role drops it
      command.time_ms = now_;
      raft_effects effects;
      const bool accepted =
          std::get<leader_logic>(nodes_[i].role).propose({encode_command(command)}, effects);
      apply_effects(i, std::move(effects));
      if (!accepted && nodes_[i].up && nodes_[i].session)
        run_session(i, nodes_[i].session->refused(command.client_id, command.seq, now_));
    }
    if (!fx.read_index.empty() || !fx.serve.empty())
      checker_fail(nodes_[i].name + ": the simulated clients send no reads through the session");
    for (auto& [peer, request] : fx.forward)
      if (const auto to = index_of(peer)) send_session(i, *to, std::move(request));
    for (auto& a : fx.answers) {
      if (const auto* local = std::get_if<session::local_origin>(&a.to)) {
        auto w = client_writes_.find(local->token);
        if (w != client_writes_.end() && !w->second.answer) w->second.answer = a.text;
      } else {
        const auto& remote = std::get<session::remote_origin>(a.to);
        if (const auto to = index_of(remote.peer))
          send_session(
              i, *to,
              forward_response{remote.forward_id, static_cast<std::uint8_t>(a.status), a.text});
      }
    }
  }

  void send_session(std::size_t from, std::size_t to,
                    std::variant<forward_request, forward_response> body) {
    if (rng_.chance(rates_.drop)) return;
    session_flight f;
    f.deliver_at = now_ + rng_.between(1, rates_.delay_ticks_max + 1);
    f.from = from;
    f.to = to;
    f.body = std::move(body);
    session_network_.push_back(std::move(f));
  }

  void deliver_session_due() {
    std::vector<session_flight> due;
    std::vector<session_flight> later;
    for (auto& f : session_network_)
      (f.deliver_at <= now_ ? due : later).push_back(std::move(f));
    session_network_ = std::move(later);
    for (auto& f : due) {
      auto& to = nodes_[f.to];
      if (!to.up || !to.session || group_[f.to] != group_[f.from] || cut_.count({f.from, f.to}))
        continue;
      if (to.paused_until > now_) {
        session_network_.push_back(std::move(f));
        continue;
      }
      const auto& from_name = nodes_[f.from].name;
      if (auto* request = std::get_if<forward_request>(&f.body))
        run_session(f.to, to.session->accept(std::move(request->command),
                                             session::remote_origin{from_name, request->forward_id},
                                             now_));
      else
        run_session(f.to, to.session->forwarded_answer(from_name,
                                                       std::get<forward_response>(f.body), now_));
    }
  }

  /// A client of a random running node writes one key through that node's session manager.
  void client_write_op() {
    std::vector<std::size_t> running;
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      if (nodes_[i].up && nodes_[i].paused_until <= now_ && nodes_[i].session) running.push_back(i);
    if (running.empty()) return;
    const auto i = running[rng_.between(0, running.size())];
    client_command command;
    // A few connections per node incarnation, each with its own client id and seqs.
    command.client_id = (static_cast<std::uint64_t>(i + 1) << 40) + (nodes_[i].incarnation << 8) +
                        rng_.between(0, 3) + 2;
    command.seq = ++client_seqs_[command.client_id];
    command.argv = {"set", "k" + std::to_string(rng_.between(0, 5)),
                    "v" + std::to_string(++value_counter_)};
    command.through_log = true;
    const auto token = ++next_token_;
    client_writes_[token] = client_write{command.client_id, command.seq, std::nullopt};
    run_session(i,
                nodes_[i].session->accept(std::move(command), session::local_origin{token}, now_));
  }

  /// Every answer a client got must be true of what was applied: a result only for a command
  /// that was applied; "not applied" (or a redirect) only for one that never was (cases 2, 3).
  void check_answers() {
    for (const auto& [token, w] : client_writes_) {
      if (!w.answer) continue;
      const bool applied = applied_ids_.count({w.client_id, w.seq}) != 0;
      const auto& text = *w.answer;
      const bool not_applied = text.rfind("-CLUSTERDOWN", 0) == 0 ||
                               text.rfind("-TRYAGAIN", 0) == 0 || text.rfind("-BUSY", 0) == 0 ||
                               text.rfind("-MOVED", 0) == 0;
      const bool unknown = text.rfind("-UNKNOWN", 0) == 0;
      ++(not_applied ? result_.writes_not_applied
         : unknown   ? result_.writes_unknown
                     : result_.writes_ok);
      if (not_applied && applied)
        checker_fail("client " + std::to_string(w.client_id) + " seq " + std::to_string(w.seq) +
                     " was told '" + text.substr(0, text.size() - 2) + "' but it was applied");
      if (!not_applied && !unknown && !applied)
        checker_fail("client " + std::to_string(w.client_id) + " seq " + std::to_string(w.seq) +
                     " got result '" + text.substr(0, text.size() - 2) +
                     "' but it was never applied");
    }
  }

  void checker_fail(const std::string& message) { checker_.report_failure(message); }

  bool check_entry(sim_node& node, const raft::raft_context& context, const log_entry& e) {
    const auto prev = context.log.term_at(e.index - 1);
    if (!prev || e.index > context.log.last_index() || !(context.log.at(e.index) == e)) {
      checker_fail(node.name + ": entries_to_persist disagree with the in-memory log");
      return false;
    }
    // A leader's own new entries are seen by nobody until they are durable or sent; the
    // checker hears of them then (make_durable, and the receiver's append). A leader whose term
    // never became durable may reuse it after a crash with other entries, which nobody can tell.
    if (!std::holds_alternative<leader_logic>(node.role)) checker_.on_append(node.name, e, *prev);
    return true;
  }

  /// A new role's executor and its first barrier (role_behavior does the same).
  void start_executor(sim_node& node) {
    node.executor = raft::role_executor{};
    ++node.generation;
    issue_write(node, node.executor.start());
  }

  void issue_write(sim_node& node, persist_request request) {
    pending_write w;
    w.generation = node.generation;
    w.done_at = std::max(now_ + rng_.between(0, rates_.fsync_ticks_max + 1), node.last_done_at);
    node.last_done_at = w.done_at;
    w.request = std::move(request);
    node.writes.push_back(std::move(w));
  }

  void make_durable(sim_node& node, const pending_write& w) {
    const auto& r = w.request;
    if (r.reset_log_to) {
      node.durable_log.clear();
      node.durable_first = *r.reset_log_to;
      node.durable_base_term = 0;
    }
    if (r.compact_to && *r.compact_to >= node.durable_first) {
      const auto drop =
          std::min<std::uint64_t>(*r.compact_to - node.durable_first + 1, node.durable_log.size());
      if (drop > 0) {
        node.durable_base_term = node.durable_log[drop - 1].term;
        node.durable_log.erase(node.durable_log.begin(),
                               node.durable_log.begin() + static_cast<std::ptrdiff_t>(drop));
        node.durable_first += drop;
      }
    }
    if (r.truncate_from) {
      PREZ_ASSERT(*r.truncate_from >= node.durable_first);
      if (*r.truncate_from - node.durable_first < node.durable_log.size())
        node.durable_log.resize(*r.truncate_from - node.durable_first);
    }
    for (const auto& e : r.entries) {
      PREZ_ASSERT(e.index == node.durable_first + node.durable_log.size());
      // The term before it, when the disk knows it (not right after a reset to a snapshot).
      const bool prev_known =
          !node.durable_log.empty() || node.durable_first == 1 || node.durable_base_term != 0;
      const auto prev_term = node.durable_log.empty()
                                 ? (node.durable_first == 1 ? 0 : node.durable_base_term)
                                 : node.durable_log.back().term;
      if (prev_known) checker_.on_append(node.name, e, prev_term);
      node.durable_log.push_back(e);
    }
    if (r.hard) node.durable_hard = *r.hard;
  }

  /// A resumed process handles the answers of the writes that completed while it was paused.
  void resume(std::size_t i) {
    auto& node = nodes_[i];
    node.paused_until = 0;
    trace(node.name + " resumes");
    auto unseen = std::move(node.unseen_writes);
    node.unseen_writes.clear();
    for (auto& w : unseen) {
      if (!node.up || w.generation != node.generation) continue;
      for (auto& m : node.executor.persisted(w.request.seq))
        send(std::move(m));
      const auto last_index = node.durable_first + node.durable_log.size() - 1;
      const auto last_term =
          node.durable_log.empty() ? node.durable_base_term : node.durable_log.back().term;
      drive(i, [&](auto& logic) { return logic.persisted(last_index, last_term); });
    }
  }

  void complete_writes(std::size_t i) {
    auto& node = nodes_[i];
    while (node.up && !node.writes.empty() && node.writes.front().done_at <= now_) {
      auto w = std::move(node.writes.front());
      node.writes.pop_front();
      make_durable(node, w);
      // A paused process sees the answer when it resumes; the write is durable meanwhile.
      if (node.paused_until > now_) {
        node.unseen_writes.push_back(std::move(w));
        continue;
      }
      // The log actor answers the role that asked; a retired role's answer is lost with it.
      if (w.generation != node.generation) continue;
      for (auto& m : node.executor.persisted(w.request.seq))
        send(std::move(m));
      const auto last_index = node.durable_first + node.durable_log.size() - 1;
      const auto last_term =
          node.durable_log.empty() ? node.durable_base_term : node.durable_log.back().term;
      drive(i, [&](auto& logic) { return logic.persisted(last_index, last_term); });
    }
  }

  void change_role(std::size_t i, raft::role next, std::optional<raft_message> redeliver) {
    auto& node = nodes_[i];
    auto context = std::visit(
        [](auto& logic) -> raft::raft_context {
          if constexpr (std::is_same_v<std::decay_t<decltype(logic)>, std::monostate>)
            raft::assert_fail("role change on a crashed node", __FILE__, __LINE__);
          else
            return logic.release();
        },
        node.role);
    const auto term = context.hard.term;
    switch (next) {
      case raft::role::follower:
        node.role.emplace<follower_logic>(std::move(context));
        break;
      case raft::role::candidate:
        checker_.on_campaign(node.name, term + 1, context.log.config(), false,
                             committed_config_on(context), context.commit_index);
        node.role.emplace<candidate_logic>(std::move(context));
        break;
      case raft::role::leader:
        checker_.on_campaign(node.name, term, context.log.config(), true,
                             committed_config_on(context), context.commit_index);
        checker_.on_leader(term, node.name, context.log);
        ++result_.elections;
        maybe_strike(i, term, rates_.strike_on_election);
        node.role.emplace<leader_logic>(std::move(context));
        break;
    }
    trace(node.name + " becomes " + raft::to_string(next) + " in term " + std::to_string(term));
    start_executor(node);
    drive(i, [](auto& logic) { return logic.start(); });
    // The node actor tells every new role of the newest snapshot its state machine took.
    if (!node.snapshots.empty() && node.up) {
      const auto ref = node.snapshots.back().ref;
      drive(i, [&](auto& logic) { return logic.snapshot_taken(ref); });
    }
    report_role(i);
    if (redeliver && node.up) drive(i, [&](auto& logic) { return logic.step(*redeliver); });
  }

  // --- snapshots ------------------------------------------------------------------------------

  static std::string render(const sim_kv& kv, const raft::snapshot_ref& ref) {
    std::string out = std::to_string(ref.index) + "/" + std::to_string(ref.term) + "|";
    for (const auto& [key, value] : kv)
      out += key + "=" + value.first + "@" + std::to_string(value.second) + ";";
    return out;
  }

  /// The state machine actor's rule: a snapshot once enough entries were applied since the last.
  void maybe_take_snapshot(sim_node& node) {
    if (snapshot_every_ == 0 || node.writing || node.applied_since_snapshot < snapshot_every_ ||
        node.applied == 0)
      return;
    sim_snapshot snap;
    snap.ref = raft::snapshot_ref{node.applied, node.applied_term, 0};
    snap.kv = node.kv;
    snap.table = node.table;
    snap.config = node.config;
    snap.bytes = render(node.kv, snap.ref);
    snap.ref.bytes = snap.bytes.size();
    // The same (index, term) must be the same state on every node (state machine safety).
    auto [it, inserted] =
        snapshot_registry_.emplace(std::make_pair(snap.ref.index, snap.ref.term), snap.bytes);
    if (!inserted && it->second != snap.bytes)
      checker_fail(node.name + ": snapshot at " + std::to_string(snap.ref.index) +
                   " differs from another node's");
    snapshot_contents_.emplace(std::make_pair(snap.ref.index, snap.ref.term), snap);
    node.applied_since_snapshot = 0;
    node.writing = std::move(snap);
    node.writing_done_at = now_ + rng_.between(0, rates_.fsync_ticks_max + 2);
  }

  static void keep_snapshot(sim_node& node, sim_snapshot snap) {
    std::erase_if(node.snapshots,
                  [&](const sim_snapshot& s) { return s.ref.index == snap.ref.index; });
    node.snapshots.push_back(std::move(snap));
    std::sort(node.snapshots.begin(), node.snapshots.end(),
              [](const auto& a, const auto& b) { return a.ref.index < b.ref.index; });
    while (node.snapshots.size() > 2)
      node.snapshots.erase(node.snapshots.begin());
  }

  /// The snapshot being written becomes durable; the node tells its role (snap_taken_atom).
  void finish_snapshots(std::size_t i) {
    auto& node = nodes_[i];
    if (!node.up || node.paused_until > now_) return;
    if (node.writing && node.writing_done_at <= now_) {
      const auto ref = node.writing->ref;
      keep_snapshot(node, std::move(*node.writing));
      node.writing.reset();
      ++result_.snapshots_taken;
      trace(node.name + " snapshot durable at " + std::to_string(ref.index));
      drive(i, [&](auto& logic) { return logic.snapshot_taken(ref); });
    }
    while (node.up && !node.snapshot_results.empty()) {
      auto r = node.snapshot_results.front();
      node.snapshot_results.pop_front();
      if (r.generation != node.generation) continue; // the role that asked has ended
      node.loaded = r.loaded;
      // The snapshot actor reads the configuration from the file's metadata.
      const auto config = r.loaded ? r.loaded->config : membership{};
      drive(i, [&](auto& logic) { return logic.snapshot_received(r.ref, r.ok, config); });
      if (node.up) node.loaded.reset();
    }
  }

  void send_snapshot_chunk(sim_node& node, raft::snapshot_send chunk) {
    const sim_snapshot* file = nullptr;
    for (const auto& snap : node.snapshots)
      if (snap.ref.index == chunk.request.last_index) file = &snap;
    if (file == nullptr) return; // pruned meanwhile: the leader restarts the transfer
    auto& request = chunk.request;
    if (request.offset > file->bytes.size()) {
      checker_fail(node.name + ": snapshot chunk past the end of the file");
      return;
    }
    request.data = file->bytes.substr(request.offset, chunk.length);
    request.done = request.offset + request.data.size() >= file->bytes.size();
    send(raft_message{node.name, chunk.to, std::move(request)});
  }

  /// The snapshot actor's receiving side; its answer reaches the role on a later tick.
  void store_snapshot_chunk(sim_node& node, install_snapshot_request chunk) {
    if (chunk.offset == 0) {
      node.receiving = chunk;
      node.receiving->data.clear();
    }
    auto& r = node.receiving;
    const raft::snapshot_ref expected{chunk.last_index, chunk.last_term, 0};
    if (!r || r->last_index != chunk.last_index || r->last_term != chunk.last_term ||
        r->data.size() != chunk.offset) {
      if (chunk.done) node.snapshot_results.push_back({expected, false, node.generation, nullptr});
      return;
    }
    r->data += chunk.data;
    if (!chunk.done) return;
    auto bytes = std::move(r->data);
    r.reset();
    const auto known = snapshot_registry_.find({chunk.last_index, chunk.last_term});
    if (known == snapshot_registry_.end() || known->second != bytes) {
      checker_fail(node.name + ": the snapshot assembled from chunks differs from the leader's");
      return;
    }
    // Sometimes the file is damaged on the way: the checksum refuses it and the leader resends.
    if (rng_.chance(0.05)) {
      node.snapshot_results.push_back({expected, false, node.generation, nullptr});
      return;
    }
    sim_snapshot snap;
    snap.ref = raft::snapshot_ref{chunk.last_index, chunk.last_term, bytes.size()};
    snap.kv = snapshot_contents_.at({chunk.last_index, chunk.last_term}).kv;
    snap.table = snapshot_contents_.at({chunk.last_index, chunk.last_term}).table;
    snap.config = snapshot_contents_.at({chunk.last_index, chunk.last_term}).config;
    snap.bytes = std::move(bytes);
    const auto ref = snap.ref;
    auto loaded = std::make_shared<const sim_snapshot>(snap);
    keep_snapshot(node, std::move(snap));
    node.snapshot_results.push_back({ref, true, node.generation, std::move(loaded)});
  }

  /// The state machine loads an installed snapshot.
  void restore_snapshot(sim_node& node, const raft::snapshot_ref& ref) {
    const sim_snapshot* file = node.loaded.get();
    if (file == nullptr || !(file->ref == ref)) {
      checker_fail(node.name + ": told to restore snapshot " + std::to_string(ref.index) +
                   " that it did not just receive");
      return;
    }
    checker_.on_restore(node.name, ref.index, ref.term);
    checker_.on_config_applied(node.name, ref.index, file->config);
    node.kv = file->kv;
    node.table = file->table;
    if (!file->config.members.empty()) node.config = file->config;
    node.applied = ref.index;
    node.applied_term = ref.term;
    node.applied_since_snapshot = 0;
    ++result_.snapshots_installed;
    trace(node.name + " restored snapshot " + std::to_string(ref.index));
  }

  void apply_entry(sim_node& node, const log_entry& e, std::uint64_t term_now,
                   std::vector<applied_result>& results) {
    checker_.on_apply(node.name, term_now, e);
    node.applied = e.index;
    node.applied_term = e.term;
    ++node.applied_since_snapshot;
    if (e.kind() == entry_type::config) {
      apply_config(node, e);
      return;
    }
    if (e.kind() != entry_type::command) return;
    auto command = decode_command(e.data.data(), e.data.size());
    if (!command || command->argv.size() != 3) {
      checker_fail(node.name + ": entry " + std::to_string(e.index) + " is not a SET command");
      return;
    }
    // The state machine actor's rule: the shipped exactly-once table decides.
    node.table.at_index(e.index);
    std::string reply;
    const auto verdict =
        node.table.check(command->client_id, command->seq, command->time_ms, reply);
    if (verdict == client_sessions::verdict::apply) {
      const auto& key = command->argv[1];
      node.kv[key] = {command->argv[2], e.index};
      if (e.index > global_applied_) {
        global_applied_ = e.index;
        last_write_[key] = e.index;
        if (key == "marker") marker_committed_ = true;
      }
      reply = "+OK\r\n";
      node.table.record(command->client_id, command->seq, command->time_ms, reply);
      applied_ids_.insert({command->client_id, command->seq});
    } else if (verdict == client_sessions::verdict::too_old) {
      reply = "-UNKNOWN forgotten\r\n";
    }
    results.push_back({command->client_id, command->seq, reply, false});
  }

  /// The state machine actor's apply_config: the entry's configuration becomes the one the
  /// state machine holds (and its snapshots carry).
  void apply_config(sim_node& node, const log_entry& e) {
    auto change = decode_config_change(e.data);
    if (!change) {
      checker_fail(node.name + ": entry " + std::to_string(e.index) +
                   " holds no valid configuration");
      return;
    }
    node.config = std::move(change->config);
    checker_.on_config_applied(node.name, e.index, node.config);
    if (e.index > config_committed_at_) {
      config_committed_at_ = e.index;
      ++result_.config_changes_committed;
      std::string voters;
      for (const auto& name : node.config.voters())
        voters += " " + name;
      trace("configuration " + std::to_string(e.index) + " committed: voters" + voters + ", " +
            std::to_string(node.config.members.size()) + " members");
    }
  }

  // --- network --------------------------------------------------------------------------------

  void send(raft_message m) {
    ++result_.messages;
    // A runaway (each reply breeding more than one message) is a bug, not a workload.
    if (network_.size() > network_messages_max) {
      checker_fail("message storm: more than " + std::to_string(network_messages_max) +
                   " messages in flight");
      return;
    }
    if (rng_.chance(rates_.drop)) return;
    if (rng_.chance(rates_.late)) {
      network_.push_back(
          in_flight{now_ + rng_.between(20, rates_.late_ticks_max + 21), ++message_seq_, m});
      return;
    }
    if (rng_.chance(rates_.duplicate))
      network_.push_back(
          in_flight{now_ + rng_.between(1, rates_.delay_ticks_max + 1), ++message_seq_, m});
    network_.push_back(in_flight{now_ + rng_.between(1, rates_.delay_ticks_max + 1), ++message_seq_,
                                 std::move(m)});
  }

  /// The configuration committed on a node whose configuration in effect is not (null else).
  static const membership* committed_config_on(const raft::raft_context& context) {
    if (context.log.config_index() <= context.commit_index) return nullptr;
    return &context.log.config_at(context.commit_index);
  }

  static std::string describe_message(const raft_message& m) {
    std::ostringstream out;
    out << m.from << "->" << m.to << " ";
    std::visit(
        [&](const auto& p) {
          using T = std::decay_t<decltype(p)>;
          if constexpr (std::is_same_v<T, vote_request>)
            out << (p.pre_vote ? "prevote" : "vote") << "_req t=" << p.term
                << " last=" << p.last_log_index << "/" << p.last_log_term;
          else if constexpr (std::is_same_v<T, vote_response>)
            out << (p.pre_vote ? "prevote" : "vote") << "_resp t=" << p.term
                << " granted=" << p.granted;
          else if constexpr (std::is_same_v<T, append_entries_request>)
            out << "append_req t=" << p.term << " prev=" << p.prev_log_index << "/"
                << p.prev_log_term << " n=" << p.entries.size() << " commit=" << p.leader_commit
                << " seq=" << p.heartbeat_seq;
          else if constexpr (std::is_same_v<T, append_entries_response>)
            out << "append_resp t=" << p.term << " ok=" << p.success << " match=" << p.match_index
                << " conflict=" << p.conflict_index << "/" << p.conflict_term
                << " seq=" << p.heartbeat_seq;
          else if constexpr (std::is_same_v<T, install_snapshot_request>)
            out << "snapshot_req t=" << p.term << " snap=" << p.last_index << "/" << p.last_term
                << " offset=" << p.offset << " n=" << p.data.size() << " done=" << p.done;
          else if constexpr (std::is_same_v<T, install_snapshot_response>)
            out << "snapshot_resp t=" << p.term << " snap=" << p.last_index
                << " next=" << p.next_offset << " installed=" << p.installed;
          else
            out << "timeout_now t=" << p.term;
        },
        m.payload);
    return out.str();
  }

  void deliver_due() {
    std::vector<in_flight> due;
    std::vector<in_flight> later;
    for (auto& f : network_)
      (f.deliver_at <= now_ ? due : later).push_back(std::move(f));
    network_ = std::move(later);
    // Reorder: deliver the due messages in a seeded random order.
    for (std::size_t k = due.size(); k > 1; --k)
      std::swap(due[k - 1], due[rng_.between(0, k)]);
    for (auto& f : due) {
      const auto to_slot = index_of(f.message.to);
      const auto from_slot = index_of(f.message.from);
      if (!to_slot || !from_slot) continue; // a replaced node's: its process is gone
      const auto to = *to_slot;
      const auto from = *from_slot;
      if (!nodes_[to].up || group_[to] != group_[from] || cut_.count({from, to})) continue;
      if (nodes_[to].paused_until > now_) { // a stopped process reads its socket later
        network_.push_back(std::move(f));
        continue;
      }
      if (trace_messages_) trace(describe_message(f.message));
      drive(to, [&](auto& logic) { return logic.step(f.message); });
      if (checker_.failed()) return;
    }
  }

  // --- faults and clients ---------------------------------------------------------------------

  void maybe_strike(std::size_t i, std::uint64_t term, double chance) {
    if (rng_.chance(chance))
      strikes_.push_back(
          leader_strike{i, term, now_ + rng_.between(0, rates_.strike_ticks_max + 1)});
  }

  void strike_leaders() {
    std::erase_if(strikes_, [&](const leader_strike& strike) {
      if (strike.at > now_) return false;
      const auto& node = nodes_[strike.node];
      const auto* context = context_of(node);
      if (!std::holds_alternative<leader_logic>(node.role) || context->hard.term != strike.term)
        return true;
      ++result_.strikes;
      if (rng_.chance(0.5)) {
        crash(strike.node);
      } else {
        // A group of its own: cut off from every other node until the network heals.
        group_[strike.node] = static_cast<int>(nodes_.size() + strike.node);
        trace(node.name + " cut off alone");
      }
      return true;
    });
  }

  void inject_faults() {
    strike_leaders();
    if (rng_.chance(rates_.crash)) {
      const auto i = rng_.between(0, nodes_.size());
      if (nodes_[i].up) crash(i);
    }
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      if (!nodes_[i].up && rng_.chance(rates_.restart)) {
        trace(nodes_[i].name + " restarts");
        boot(i);
      }
    if (rng_.chance(rates_.partition)) {
      std::string line = "partition:";
      const auto current = leaders();
      const bool isolate_leader = !current.empty() && rng_.chance(0.5);
      for (std::size_t i = 0; i < nodes_.size(); ++i) {
        // Either random groups, or the leader alone (with at most a minority) to force a new
        // election while it still holds uncommitted entries (the Figure 8 shapes).
        group_[i] = static_cast<int>(rng_.between(0, 3));
        if (isolate_leader)
          group_[i] = i == current.front() || (group_[i] == 0 && rng_.chance(0.3)) ? 1 : 0;
      }
      for (std::size_t i = 0; i < nodes_.size(); ++i)
        line += " " + nodes_[i].name + "=" + std::to_string(group_[i]);
      trace(line);
    } else if (rng_.chance(rates_.heal)) {
      if (std::any_of(group_.begin(), group_.end(), [](int g) { return g != 0; }) || !cut_.empty())
        trace("network healed");
      std::fill(group_.begin(), group_.end(), 0);
      cut_.clear();
    }
    if (rng_.chance(rates_.one_way)) {
      // Often the leader's outgoing direction: it keeps hearing acks but its appends are lost.
      const auto current = leaders();
      const auto from =
          !current.empty() && rng_.chance(0.5) ? current.front() : rng_.between(0, nodes_.size());
      const auto to = (from + 1 + rng_.between(0, nodes_.size() - 1)) % nodes_.size();
      cut_.insert({from, to});
      trace("one-way cut " + nodes_[from].name + " -> " + nodes_[to].name);
    }
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      auto& node = nodes_[i];
      if (node.paused_until != 0 && node.paused_until <= now_) resume(i);
      if (node.up && node.paused_until == 0 && rng_.chance(rates_.pause)) {
        node.paused_until = now_ + rng_.between(1, rates_.pause_ticks_max + 1);
        ++result_.pauses;
        trace(node.name + " paused until t=" + std::to_string(node.paused_until));
      }
    }
  }

  std::vector<std::size_t> leaders() const {
    std::vector<std::size_t> result;
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      if (nodes_[i].up && std::holds_alternative<leader_logic>(nodes_[i].role)) result.push_back(i);
    return result;
  }

  /// Proposes on leader `i`; false when the leader refused (uncommitted bytes over its limit).
  /// Proposes the liveness marker directly on leader `i` (client 1, outside the session managers);
  /// false when the leader refused it (uncommitted bytes over its limit).
  bool propose_marker(std::size_t i) {
    client_command command;
    command.client_id = 1;
    command.seq = ++marker_seq_;
    command.time_ms = now_;
    command.argv = {"set", "marker", std::to_string(options_.seed)};
    command.through_log = true;
    raft_effects effects;
    const bool accepted =
        std::get<leader_logic>(nodes_[i].role).propose({encode_command(command)}, effects);
    apply_effects(i, std::move(effects));
    return accepted;
  }

  void client_ops() {
    if (rng_.chance(rates_.propose)) client_write_op();
    auto current = leaders();
    std::erase_if(current, [&](std::size_t i) { return nodes_[i].paused_until > now_; });
    if (current.empty()) return;
    if (rng_.chance(rates_.read)) {
      const auto i = current[rng_.between(0, current.size())];
      client_read read;
      read.id = ++read_counter_;
      read.key = "k" + std::to_string(rng_.between(0, 5));
      read.committed_at_start = global_applied_;
      const auto it = last_write_.find(read.key);
      read.last_write_at_start = it == last_write_.end() ? 0 : it->second;
      trace("read " + std::to_string(read.id) + " on " + nodes_[i].name + " (commit index " +
            std::to_string(context_of(nodes_[i])->commit_index) + ", committed anywhere " +
            std::to_string(read.committed_at_start) + ")");
      nodes_[i].reads.push_back(read);
      auto effects = std::get<leader_logic>(nodes_[i].role).read_index({read.id});
      apply_effects(i, std::move(effects));
    }
  }

  // --- membership changes (thesis §4) -------------------------------------------------------

  /// An operator at work: asks the leader of the highest term (when one runs) to add a joining
  /// node, remove a member or hand leadership over, as RAFT.NODE and RAFT.TRANSFER do through
  /// leader_actor; a refusal is only traced (the operator retries later). Replaces a node whose
  /// removal is committed by a fresh one under a new name when nobody is left to add.
  void membership_ops() {
    if (!rng_.chance(rates_.reconfigure)) return;
    std::optional<std::size_t> chosen;
    for (auto i : leaders())
      if (nodes_[i].paused_until <= now_ &&
          (!chosen || context_of(nodes_[i])->hard.term > context_of(nodes_[*chosen])->hard.term))
        chosen = i;
    if (!chosen) return;
    const auto i = *chosen;
    const auto config = context_of(nodes_[i])->log.config();
    const auto roll = rng_.unit();
    if (roll < 0.12) {
      transfer(i, config);
      return;
    }
    std::vector<std::size_t> joining;
    for (std::size_t k = 0; k < nodes_.size(); ++k)
      if (!config.is_member(nodes_[k].name) && !config.was_removed(nodes_[k].name))
        joining.push_back(k);
    if (joining.empty() && roll < 0.4) {
      replace_removed_node();
      return;
    }
    // Mostly between 3 and 5 voters; down to min_voters now and then, and back up.
    const auto voters = config.voter_count();
    const double add_chance = voters < 3 ? 0.85 : voters >= 5 ? 0.15 : 0.5;
    std::vector<std::string> argv;
    if (!joining.empty() && rng_.chance(add_chance)) {
      const auto& name = nodes_[joining[rng_.between(0, joining.size())]].name;
      argv = {"RAFT.NODE", "ADD", name, address_of(name)};
      if (rng_.chance(0.2)) argv.push_back("LEARNER");
    } else {
      // Voters only while more than min_voters remain, below 4 only now and then.
      const bool voter_removable = voters > options_.min_voters && (voters > 3 || rng_.chance(0.3));
      std::vector<node_name> removable;
      for (const auto& m : config.members)
        if (!m.voter || voter_removable) removable.push_back(m.name);
      if (removable.empty()) return;
      // The leader itself now and then (it leads until the change commits, then steps down).
      const auto& self = nodes_[i].name;
      argv = {"RAFT.NODE", "REMOVE",
              config.is_voter(self) && voter_removable && rng_.chance(0.25)
                  ? self
                  : removable[rng_.between(0, removable.size())]};
    }
    propose_change(i, config, std::move(argv));
  }

  void propose_change(std::size_t i, const membership& config, std::vector<std::string> argv) {
    std::string line;
    for (const auto& word : argv)
      line += " " + word;
    auto planned = raft::plan_membership_change(config, argv);
    if (auto* reason = std::get_if<std::string>(&planned)) {
      trace(nodes_[i].name + " refuses" + line + ": " + *reason);
      ++result_.config_changes_refused;
      return;
    }
    config_change change;
    change.config = std::get<membership>(std::move(planned));
    change.origin.argv = std::move(argv);
    change.origin.time_ms = now_;
    raft_effects effects;
    const auto reason =
        std::get<leader_logic>(nodes_[i].role).propose_config(std::move(change), effects);
    trace(nodes_[i].name + (reason.empty() ? " appends" : " refuses") + line +
          (reason.empty() ? "" : ": " + reason));
    ++(reason.empty() ? result_.config_changes_proposed : result_.config_changes_refused);
    apply_effects(i, std::move(effects));
  }

  /// RAFT.TRANSFER to a random other voter.
  void transfer(std::size_t i, const membership& config) {
    std::vector<node_name> targets;
    for (const auto& name : config.voters())
      if (name != nodes_[i].name) targets.push_back(name);
    if (targets.empty()) return;
    const auto target = targets[rng_.between(0, targets.size())];
    raft_effects effects;
    const auto reason = std::get<leader_logic>(nodes_[i].role).transfer_leadership(target, effects);
    trace(nodes_[i].name + " transfers leadership to " + target +
          (reason.empty() ? "" : " refused: " + reason));
    if (reason.empty()) ++result_.transfers;
    apply_effects(i, std::move(effects));
  }

  /// A node whose removal is committed is wiped and started again under a new name, as a node
  /// joining the cluster (names are never reused). What is in flight to or from it is lost.
  void replace_removed_node() {
    const auto& committed = checker_.committed_configs().rbegin()->second;
    std::vector<std::size_t> removed;
    for (std::size_t k = 0; k < nodes_.size(); ++k)
      if (committed.was_removed(nodes_[k].name)) removed.push_back(k);
    if (removed.empty() || next_name_ >= 40) return;
    const auto k = removed[rng_.between(0, removed.size())];
    auto& node = nodes_[k];
    if (node.up) crash(k);
    const auto old_name = node.name;
    node.name = "n" + std::to_string(++next_name_);
    node.bootstrap = false;
    node.durable_hard = {};
    node.durable_log.clear();
    node.durable_first = 1;
    node.durable_base_term = 0;
    node.snapshots.clear();
    std::erase_if(session_network_,
                  [k](const session_flight& f) { return f.from == k || f.to == k; });
    std::erase_if(strikes_, [k](const leader_strike& strike) { return strike.node == k; });
    ++result_.replacements;
    trace(old_name + " is replaced by a fresh node " + node.name);
    boot(k);
  }

  void serve_reads(sim_node& node) {
    std::erase_if(node.reads, [&](const client_read& read) {
      if (!read.ready_index || node.applied < *read.ready_index) return false;
      const auto it = node.kv.find(read.key);
      const std::uint64_t seen = it == node.kv.end() ? 0 : it->second.second;
      if (seen < read.last_write_at_start)
        checker_fail("stale read of " + read.key + " on " + node.name + ": saw the write at " +
                     std::to_string(seen) + ", " + std::to_string(read.last_write_at_start) +
                     " was committed before the read started");
      ++result_.reads_served;
      return true;
    });
  }

  void tick_once(bool faulty) {
    ++now_;
    if (faulty) {
      inject_faults();
      client_ops();
      if (options_.membership_changes) membership_ops();
    }
    for (std::size_t i = 0; i < nodes_.size() && !checker_.failed(); ++i) {
      complete_writes(i);
      finish_snapshots(i);
    }
    deliver_due();
    deliver_session_due();
    for (std::size_t i = 0; i < nodes_.size() && !checker_.failed(); ++i)
      if (nodes_[i].up && nodes_[i].paused_until <= now_) {
        drive(i, [](auto& logic) { return logic.tick(); });
        if (nodes_[i].session) run_session(i, nodes_[i].session->tick(now_));
      }
    for (auto& node : nodes_)
      serve_reads(node);
    if (now_ % 64 == 0) check_all_logs();
  }

  void check_all_logs() {
    std::vector<std::pair<node_name, const raft::raft_log*>> logs;
    for (const auto& node : nodes_)
      if (const auto* context = context_of(node)) logs.emplace_back(node.name, &context->log);
    checker_.check_logs(logs);
    // A log holding no configuration entry starts from the configuration at its snapshot
    // index (a snapshot's, or kept through compaction); empty means unknown (a joining node
    // that got the log from index 1 and compacted before its first configuration entry).
    for (const auto& node : nodes_)
      if (const auto* context = context_of(node); context != nullptr &&
                                                  context->log.config_index() == 0 &&
                                                  context->log.snapshot_index() > 0)
        checker_.on_config_applied(node.name, context->log.snapshot_index(), context->log.config());
  }

  void dump_state() {
    if (!options_.trace) return;
    auto& out = *options_.trace;
    for (const auto& node : nodes_) {
      const auto* c = context_of(node);
      out << node.name << (node.up ? " up" : " down");
      if (c != nullptr)
        out << " role="
            << raft::to_string(std::visit(
                   [](const auto& l) {
                     using T = std::decay_t<decltype(l)>;
                     if constexpr (std::is_same_v<T, leader_logic>)
                       return raft::role::leader;
                     else if constexpr (std::is_same_v<T, candidate_logic>)
                       return raft::role::candidate;
                     else
                       return raft::role::follower;
                   },
                   node.role))
            << " term=" << c->hard.term << " vote=" << c->hard.voted_for
            << " last=" << c->log.last_index() << "/" << c->log.last_term()
            << " commit=" << c->commit_index << " persisted=" << c->persisted_index
            << " applied=" << node.applied << " writes=" << node.writes.size()
            << " held=" << node.executor.held();
      out << "\n";
      if (const auto* leader = std::get_if<leader_logic>(&node.role))
        for (const auto& [peer, p] : leader->progress())
          out << "  " << peer << " next=" << p.next_index << " match=" << p.match_index
              << " inflight=" << p.inflight << " replicating=" << p.replicating
              << " acked_seq=" << p.acked_heartbeat_seq << "\n";
    }
  }

  // --- liveness -------------------------------------------------------------------------------

  bool converged() const {
    const auto current = leaders();
    if (current.size() != 1 || !marker_committed_) return false;
    const auto& leader = *context_of(nodes_[current.front()]);
    if (leader.commit_index != leader.log.last_index()) return false;
    // The leader is a voter of its configuration, which is committed and has no learner left
    // waiting for its promotion; every member of it (nodes removed or never added aside)
    // applied the leader's whole log.
    const auto& config = leader.log.config();
    if (!config.is_voter(nodes_[current.front()].name)) return false;
    for (const auto& m : config.members)
      if (m.promote) return false;
    for (const auto& node : nodes_) {
      if (!config.is_member(node.name)) continue;
      const auto* context = context_of(node);
      if (!node.up || context == nullptr || node.applied != leader.commit_index ||
          context->log.last_index() != leader.log.last_index())
        return false;
    }
    return true;
  }

  void liveness_phase() {
    trace("liveness phase: healing everything, no more faults");
    std::fill(group_.begin(), group_.end(), 0);
    cut_.clear();
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      if (nodes_[i].paused_until != 0) resume(i);
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      if (!nodes_[i].up) boot(i);
    rates_ = fault_rates{};
    strikes_.clear();
    rates_.delay_ticks_max = 2;
    rates_.fsync_ticks_max = 1;
    // Enough for several elections plus catching the slowest node up, one batch per round trip.
    std::uint64_t longest_log = 0;
    for (const auto& node : nodes_)
      longest_log = std::max<std::uint64_t>(longest_log, node.durable_log.size());
    std::uint64_t largest_snapshot = 0;
    for (const auto& [key, bytes] : snapshot_registry_)
      largest_snapshot = std::max<std::uint64_t>(largest_snapshot, bytes.size());
    const std::uint64_t bound = 50 * config_template_.election_timeout_ticks + 4 * longest_log +
                                8 * (largest_snapshot / config_template_.snapshot_chunk_bytes + 1);
    trace_messages_ = options_.trace != nullptr;
    std::uint64_t marker_term = 0;
    for (std::uint64_t t = 0; t < bound && !checker_.failed(); ++t) {
      tick_once(false);
      const auto current = leaders();
      if (!marker_committed_ && current.size() == 1) {
        const auto term = context_of(nodes_[current.front()])->hard.term;
        // Once per leader term, retried while the leader refuses it for back-pressure.
        if (term != marker_term && propose_marker(current.front())) marker_term = term;
      }
      if (converged()) {
        result_.liveness_ticks = t + 1;
        return;
      }
    }
    dump_state();
    if (!checker_.failed())
      checker_fail("liveness: no convergence within " + std::to_string(bound) +
                   " ticks after healing (leaders=" + std::to_string(leaders().size()) +
                   ", marker committed=" + (marker_committed_ ? "yes" : "no") + ")");
  }

  sim_options options_;
  sim_rng rng_;
  fault_rates rates_;
  raft::raft_config config_template_;
  std::vector<node_name> voters_;
  /// The bootstrap configuration: voters_, with their addresses.
  membership initial_config_;
  /// Names given so far (n1..n<next_name_>); a replacement gets the next one.
  std::size_t next_name_ = 0;
  /// Index of the newest configuration entry applied anywhere.
  std::uint64_t config_committed_at_ = 0;
  std::vector<sim_node> nodes_;
  std::vector<int> group_;
  /// Directed links cut one way: (from, to) messages are lost.
  std::set<std::pair<std::size_t, std::size_t>> cut_;
  std::vector<leader_strike> strikes_;
  std::vector<in_flight> network_;
  std::uint64_t message_seq_ = 0;
  std::uint64_t now_ = 0;
  invariant_checker checker_;
  sim_result result_;
  std::uint64_t value_counter_ = 0;
  std::uint64_t read_counter_ = 0;
  std::uint64_t global_applied_ = 0;
  std::map<std::string, std::uint64_t> last_write_;
  // Clients through the session managers.
  bool redirect_ = false;
  std::vector<session_flight> session_network_;
  std::map<std::uint64_t, client_write> client_writes_; ///< by token
  std::uint64_t next_token_ = 0;
  std::map<std::uint64_t, std::uint64_t> client_seqs_;
  std::uint64_t marker_seq_ = 0;
  /// (client_id, seq) of every command a state machine applied (verdict apply), on any node.
  std::set<std::pair<std::uint64_t, std::uint64_t>> applied_ids_;
  bool marker_committed_ = false;
  /// Entries applied between snapshots (0: this seed takes none).
  std::uint64_t snapshot_every_ = 0;
  /// Bytes of every snapshot ever taken, by (index, term), and their contents.
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::string> snapshot_registry_;
  std::map<std::pair<std::uint64_t, std::uint64_t>, sim_snapshot> snapshot_contents_;
  bool trace_messages_ = std::getenv("PREZ_SIM_TRACE_MESSAGES") != nullptr;
};

} // namespace

sim_result run_simulation(const sim_options& options) {
  simulation sim(options);
  return sim.run();
}

std::string describe(std::uint64_t seed, const sim_result& result) {
  std::ostringstream out;
  out << "seed=" << seed << (result.adversarial ? " adversarial" : "");
  if (result.ok)
    out << " ok";
  else
    out << " FAILED: " << result.failure;
  out << " (ticks=" << result.ticks << " committed=" << result.committed
      << " elections=" << result.elections << " crashes=" << result.crashes
      << " power_losses=" << result.power_losses << " pauses=" << result.pauses
      << " strikes=" << result.strikes << " messages=" << result.messages
      << " reads=" << result.reads_served << " writes ok/unknown/not-applied=" << result.writes_ok
      << "/" << result.writes_unknown << "/" << result.writes_not_applied
      << " liveness_ticks=" << result.liveness_ticks
      << " snapshots taken/installed=" << result.snapshots_taken << "/"
      << result.snapshots_installed;
  if (result.config_changes_proposed + result.config_changes_refused + result.transfers > 0)
    out << " config changes proposed/refused/committed=" << result.config_changes_proposed << "/"
        << result.config_changes_refused << "/" << result.config_changes_committed
        << " transfers=" << result.transfers << " replacements=" << result.replacements
        << " final_voters=" << result.final_voters;
  out << ")";
  return out.str();
}

} // namespace prez::sim
