// Starting one node inside a running actor system (actors/node_runtime.hpp): the start-up that
// prez-server's main and an agent's spawned node share.
#include "actors/node_runtime.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "caf/all.hpp"
#include "caf/io/all.hpp"
#include "caf/openssl/all.hpp"
#include <spdlog/spdlog.h>

#include "actors/caf_messages.hpp"
#include "actors/gateway/metrics_actor.hpp"
#include "actors/gateway/pubsub_hub_actor.hpp"
#include "actors/gateway/resp_gateway_actor.hpp"
#include "actors/net/node_door_actor.hpp"
#include "actors/raft/raft_node_actor.hpp"
#include "actors/raft/recovery.hpp"
#include "actors/session/session_actor.hpp"
#include "actors/state_machine/state_machine_actor.hpp"
#include "actors/state_machine/state_restore.hpp"
#include "actors/storage/audit_log_actor.hpp"
#include "actors/storage/log_actor.hpp"
#include "actors/storage/log_store.hpp"
#include "actors/storage/snapshot_actor.hpp"
#include "actors/storage/snapshot_file.hpp"
#include "actors/storage/snapshot_load.hpp"
#include "config/tls_files.hpp"

namespace prez {

namespace {

using namespace std::chrono_literals;

std::string fail_text(const std::string& message) {
  return message;
}

/// Creates the data directory and proves it writable, so a bad `dir` stops start-up at once.
std::string prepare_dir(const node_config& config) {
  std::error_code ec;
  std::filesystem::create_directories(config.dir, ec);
  if (ec) return config.source_file + ": dir '" + config.dir + "': " + ec.message();
  auto probe = std::filesystem::path(config.dir) / ".write-probe";
  {
    std::ofstream out(probe);
    out << "ok";
    if (!out.good()) return config.source_file + ": dir '" + config.dir + "' is not writable";
  }
  std::filesystem::remove(probe, ec);
  return {};
}

/// Protected mode for the cluster port: nodes reachable from other hosts must authenticate each
/// other (cluster-secret), or any process there could speak as a member.
std::string check_cluster_door(const node_config& config) {
  if (config.members.size() <= 1 || !config.cluster_secret.empty()) return {};
  for (const auto& m : config.members) {
    bool loopback = m.host.rfind("127.", 0) == 0 || m.host == "::1" || m.host == "localhost";
    if (!loopback)
      return config.cluster_config_file + ": node '" + m.name + "' listens on " + m.host +
             ", which is not loopback: set cluster-secret in " + config.source_file +
             " (the same on every node) so that nodes authenticate each other";
  }
  return {};
}

/// Ticks of 10 ms; the election timeout is cluster-node-timeout (randomised up to twice that by
/// the follower), heartbeats go out ten times per election timeout.
constexpr auto tick = 10ms;

raft::raft_config make_raft_config(const node_config& config) {
  raft::raft_config rc;
  rc.self = config.name;
  if (!config.cluster_join)
    for (const auto& m : config.members)
      (m.learner ? rc.learners : rc.voters).push_back(m.name);
  std::sort(rc.voters.begin(), rc.voters.end());
  std::sort(rc.learners.begin(), rc.learners.end());
  auto election_ticks = std::max<std::uint32_t>(5, config.cluster_node_timeout_ms / tick.count());
  rc.election_timeout_ticks = election_ticks;
  rc.heartbeat_ticks = std::max<std::uint32_t>(1, election_ticks / 10);
  rc.append_entries_max = limits::append_entries_max;
  rc.append_bytes_max = limits::append_bytes_max;
  rc.inflight_appends_max = limits::inflight_appends_max;
  rc.uncommitted_bytes_max = limits::uncommitted_bytes_max;
  rc.snapshot_trailing_entries = config.snapshot_trailing_entries;
  rc.snapshot_chunk_bytes = limits::snapshot_chunk_bytes;
  rc.snapshot_chunks_inflight_max = limits::snapshot_chunks_inflight_max;
  return rc;
}

/// The configuration a node starts from when neither its log nor a snapshot holds one: nodes.conf
/// (voters, and learners tagged so), or none at all for a node joining a running cluster.
membership bootstrap_membership(const node_config& config) {
  membership m;
  if (config.cluster_join) return m;
  for (const auto& member : config.members) {
    const bool v6 = member.host.find(':') != std::string::npos;
    auto host = v6 ? "[" + member.host + "]" : member.host;
    auto address =
        member.cluster_port == 0 ? std::string() : host + ":" + std::to_string(member.cluster_port);
    m.members.push_back(member_info{member.name, address, !member.learner, false});
  }
  return m;
}

} // namespace

std::variant<node_runtime, std::string>
start_node(caf::actor_system& system, const node_config& config, const caf::actor& watcher) {
  if (auto error = check_cluster_door(config); !error.empty()) return error;
  if (auto error = prepare_dir(config); !error.empty()) return fail_text(error);
  storage::recovered_state recovered;
  auto opened = storage::log_store::open(config.dir, recovered);
  if (auto* error = std::get_if<std::string>(&opened)) return fail_text(config.dir + ": " + *error);
  auto store = std::get<std::unique_ptr<storage::log_store>>(std::move(opened));
  if (recovered.truncated_tail_bytes > 0)
    spdlog::warn("log: dropped a torn tail of {} bytes (a write cut short by a crash)",
                 recovered.truncated_tail_bytes);
  // The newest valid snapshot (a damaged one is refused with its reason and an older one used),
  // then the log after it (actors/raft/recovery.hpp).
  std::vector<std::string> refused;
  auto newest = storage::newest_valid_snapshot(config.dir, refused);
  for (const auto& reason : refused)
    spdlog::error("snapshot refused: {}", reason);
  raft::snapshot_ref snapshot;
  std::shared_ptr<restored_state> initial;
  if (newest) {
    auto loaded = load_snapshot_state(newest->path);
    if (auto* error = std::get_if<std::string>(&loaded))
      return fail_text(*error + " (move the file away to start from an older snapshot, or from the "
                                "log alone if it was never compacted)");
    initial = std::get<std::shared_ptr<restored_state>>(std::move(loaded));
    snapshot = {newest->meta.last_index, newest->meta.last_term, newest->file_bytes};
  }
  auto planned = raft::plan_recovery(snapshot, recovered.first_index, std::move(recovered.entries));
  if (auto* error = std::get_if<std::string>(&planned))
    return fail_text(config.dir + ": " + *error +
                     (refused.empty() ? "" : " (see the refused snapshot above)"));
  auto& plan = std::get<raft::recovery_plan>(planned);
  if (plan.reset_log) {
    spdlog::warn("log: dropped, it does not continue snapshot {}/{} (an older history the "
                 "snapshot replaces)",
                 snapshot.index, snapshot.term);
    if (auto error = store->reset(snapshot.index + 1)) return fail_text(config.dir + ": " + *error);
  }

  std::random_device entropy;
  std::uint64_t incarnation = (std::uint64_t{entropy()} << 32) ^ entropy();
  auto context = std::make_shared<raft::raft_context>();
  context->config = make_raft_config(config);
  context->hard = {recovered.hard.term, recovered.hard.voted_for};
  context->log = std::move(plan.log);
  context->snapshot = snapshot;
  context->commit_index = context->applied_index = snapshot.index;
  // True, not hopeful: log_store::open synced everything it recovered before returning, and
  // the snapshot covers what precedes the log.
  context->persisted_index = context->log.last_index();
  context->random.state = incarnation;
  // The configuration: the newest configuration entry of the log, else the snapshot's, else the
  // bootstrap one (thesis §4.1).
  const bool snapshot_has_config = initial && !initial->config.members.empty();
  const auto bootstrap = bootstrap_membership(config);
  context->log.set_base_config(snapshot_has_config ? initial->config : bootstrap);
  if (config.cluster_join && !context->log.config().is_member(config.name))
    spdlog::info("{} joins a running cluster: waiting to be added (RAFT.NODE ADD {} <host:port>)",
                 config.name, config.name);
  spdlog::info("starting {}: term {}, snapshot {}/{} ({} keys), log {}..{}, {} voters", config.name,
               context->hard.term, snapshot.index, snapshot.term, initial ? initial->kv.size() : 0,
               context->log.first_index(), context->log.last_index(),
               context->log.config().voter_count());

  // Every actor of the node, so a failed start stops them all; watched only once all started.
  std::vector<std::pair<const char*, caf::actor>> started;
  auto watch = [&](const char* name, const caf::actor& whom) { started.emplace_back(name, whom); };
  std::vector<caf::actor> unwatched;
  caf::actor published_door;
  std::uint16_t published_port = 0;
  auto undo = [&](std::string reason) -> std::variant<node_runtime, std::string> {
    if (published_door) system.middleman().unpublish(published_door, published_port);
    for (auto& [name, whom] : started)
      caf::anon_send_exit(whom, caf::exit_reason::user_shutdown);
    for (auto& whom : unwatched)
      caf::anon_send_exit(whom, caf::exit_reason::user_shutdown);
    return reason;
  };
  const std::string source = config.source_file.empty() ? "prez-server" : config.source_file;

  session_settings sessions;
  sessions.self = config.name;
  sessions.incarnation = incarnation;
  sessions.leader_wait =
      std::max(3000ms, 3 * std::chrono::milliseconds{config.cluster_node_timeout_ms});
  sessions.write_timeout =
      std::max(5000ms, 5 * std::chrono::milliseconds{config.cluster_node_timeout_ms});
  sessions.redirect = config.mode == follower_mode::redirect;
  auto session = spawn_session_manager(system, sessions);
  auto snapshots = spawn_snapshot_actor(system, config.name, config.dir);
  // CONFIG's parameters (docs/decisions.md D27): one per node, shared by the gateway's actors and
  // the state machine (snapshot thresholds).
  auto runtime_parameters = std::make_shared<shared_runtime_config>(config);
  state_machine_settings machine;
  machine.runtime = runtime_parameters;
  machine.config = snapshot_has_config ? initial->config : bootstrap;
  machine.snapshot_entries = config.snapshot_entries;
  machine.snapshot_bytes = config.snapshot_bytes;
  machine.snapshots = snapshots;
  machine.initial = std::move(initial);
  machine.initial_index = snapshot.index;
  machine.initial_term = snapshot.term;
  machine.initial_bytes = snapshot.bytes;
  // The audit log is not watched: it is not part of Raft safety, and it reports its failures
  // instead of ending (docs/architecture.md §5).
  if (!config.audit_log.empty()) {
    machine.audit = spawn_audit_log_actor(system, {config.audit_log, config.audit_log_max_bytes,
                                                   static_cast<unsigned>(config.audit_log_keep)});
    unwatched.push_back(machine.audit);
  }
  // Pub/sub (docs/architecture.md §3.7): the state machine hands published messages to the hub,
  // which delivers them to this node's subscribed connections.
  auto pubsub_hub = spawn_pubsub_hub(system, config.name);
  unwatched.push_back(pubsub_hub);
  machine.pubsub = pubsub_hub;
  auto state_machine = spawn_state_machine(system, session, std::move(machine));
  caf::anon_send(session, start_atom::value, state_machine);
  auto log = spawn_log_actor(system, std::move(store));
  watch("session_manager", session);
  watch("state_machine", state_machine);
  watch("log_actor", log);
  watch("snapshot_actor", snapshots);

  node_settings links;
  links.self = config.name;
  for (const auto& m : config.members)
    links.members.push_back({m.name, m.host, m.cluster_port});
  links.nodes_file = config.cluster_config_file;
  links.client_address = config.bind + ":" + std::to_string(config.port);
  links.incarnation = incarnation;
  links.cluster_secret = config.cluster_secret;
  // TLS node links (docs/decisions.md D24): the caller loaded CAF's openssl module with the
  // certificates; links connect and the door is published through it.
  const bool tls = tls_enabled(config);
  links.tls = tls;
  links.data_dir = config.dir;
  links.link_window_bytes = config.cluster_link_window_bytes;
#ifdef PREZ_FAULT_INJECTION
  spdlog::warn("this is a test build: peer links obey fault switches in {}", config.dir);
#endif
  links.tick = tick;
  auto node = spawn_raft_node(system, links, context, log, state_machine, session, snapshots);
  caf::anon_send(state_machine, start_atom::value, node);
  watch("raft_node", node);

  if (!config.cluster_config_file.empty()) {
    auto self = std::find_if(config.members.begin(), config.members.end(),
                             [&](const auto& m) { return m.name == config.name; });
    // Only the door faces the network: it takes sealed frames and nothing else (docs/decisions.md
    // D15).
    auto door = spawn_node_door(system, node);
    watch("node_door", door);
    auto published =
        tls ? caf::openssl::publish(door, self->cluster_port, self->host.c_str(), true)
            : system.middleman().publish(door, self->cluster_port, self->host.c_str(), true);
    if (!published)
      return undo(config.source_file + ": cluster-port " + std::to_string(self->cluster_port) +
                  " on " + self->host + ": " + system.render(published.error()));
    published_door = door;
    published_port = *published;
  }

  gateway_settings gateway;
  gateway.bind = config.bind;
  gateway.port = config.port;
  gateway.incarnation = incarnation;
  gateway.session = session;
  gateway.node = node;
  gateway.node_name = config.name;
  gateway.node_timeout_ms = config.cluster_node_timeout_ms;
  gateway.requirepass = config.requirepass;
  gateway.protected_mode = config.protected_mode;
  gateway.maxclients = config.maxclients;
  gateway.runtime = runtime_parameters;
  gateway.config_file = config.source_file;
  gateway.pubsub = pubsub_hub;
  gateway.reply_deadline = session_reply_deadline(sessions);
  auto gateway_actor = spawn_resp_gateway(system, gateway);
  if (!gateway_actor)
    return undo(source + ": port " + std::to_string(config.port) + " on " + config.bind + ": " +
                system.render(gateway_actor.error()));
  watch("resp_gateway", *gateway_actor);
  if (config.metrics_port != 0) {
    metrics_settings metrics;
    metrics.bind = config.bind;
    metrics.port = config.metrics_port;
    metrics.node = node;
    metrics.gateway = *gateway_actor;
    auto metrics_actor = spawn_metrics_server(system, metrics);
    if (!metrics_actor)
      return undo(source + ": metrics-port " + std::to_string(config.metrics_port) + " on " +
                  config.bind + ": " + system.render(metrics_actor.error()));
    watch("metrics", *metrics_actor);
    spdlog::info("{} metrics: curl http://{}:{}/metrics", config.name, config.bind,
                 config.metrics_port);
  }
  spdlog::info("{} ready: redis-cli -h {} -p {}", config.name, config.bind, config.port);
  for (auto& [name, whom] : started)
    caf::anon_send(watcher, watch_atom::value, std::string(name), whom);
  return node_runtime{config.name, node, config.cluster_node_timeout_ms};
}

bool hand_over_leadership(caf::actor_system& system, const node_runtime& runtime) {
  caf::scoped_actor waiter{system};
  const auto wait =
      std::chrono::milliseconds(std::max<std::uint32_t>(1000, 2 * runtime.node_timeout_ms));
  bool handed = false;
  waiter->request(runtime.node, wait + 500ms, transfer_atom::value, caf::timespan{wait})
      .receive([&](bool done) { handed = done; }, [&](const caf::error&) {});
  return handed;
}

} // namespace prez
