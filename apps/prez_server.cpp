// prez-server: one node of a prez cluster.
//   prez-server                   a single-node cluster, data in ./prez-data, RESP on
//   127.0.0.1:9000 prez-server path/to/prez.conf one node of the cluster nodes.conf describes

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include <sys/resource.h>

#include "caf/all.hpp"
#include "caf/io/all.hpp"
#include "caf/openssl/all.hpp"
#include <spdlog/spdlog.h>

#include "actors/caf_messages.hpp"
#include "actors/fail_stop_actor.hpp"
#include "actors/gateway/metrics_actor.hpp"
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
#include "config/node_config.hpp"
#include "config/tls_files.hpp"

namespace {

using namespace std::chrono_literals;

int fail(const std::string& message) {
  std::fprintf(stderr, "prez-server: %s\n", message.c_str());
  return 1;
}

/// Fails once the actor system runs: its destructor would wait for actors that never end.
[[noreturn]] void fail_now(const std::string& message) {
  std::fprintf(stderr, "prez-server: %s\n", message.c_str());
  std::fflush(stderr);
  spdlog::shutdown();
  std::_Exit(1);
}

/// Creates the data directory and proves it writable, so a bad `dir` stops start-up at once.
std::string prepare_dir(const prez::node_config& config) {
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
std::string check_cluster_door(const prez::node_config& config) {
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

/// Raises the open-file limit to what the system allows (up to 1M): every client and peer
/// connection is a descriptor, and the usual soft limit of 1024 is far below what a server needs.
void raise_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  auto wanted = std::min<rlim_t>(limit.rlim_max, 1 << 20);
  if (limit.rlim_cur < wanted) {
    limit.rlim_cur = wanted;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

/// Ticks of 10 ms; the election timeout is cluster-node-timeout (randomised up to twice that by
/// the follower), heartbeats go out ten times per election timeout.
constexpr auto tick = 10ms;

prez::raft::raft_config make_raft_config(const prez::node_config& config) {
  prez::raft::raft_config rc;
  rc.self = config.name;
  if (!config.cluster_join)
    for (const auto& m : config.members)
      (m.learner ? rc.learners : rc.voters).push_back(m.name);
  std::sort(rc.voters.begin(), rc.voters.end());
  std::sort(rc.learners.begin(), rc.learners.end());
  auto election_ticks = std::max<std::uint32_t>(5, config.cluster_node_timeout_ms / tick.count());
  rc.election_timeout_ticks = election_ticks;
  rc.heartbeat_ticks = std::max<std::uint32_t>(1, election_ticks / 10);
  rc.append_entries_max = prez::limits::append_entries_max;
  rc.append_bytes_max = prez::limits::append_bytes_max;
  rc.inflight_appends_max = prez::limits::inflight_appends_max;
  rc.uncommitted_bytes_max = prez::limits::uncommitted_bytes_max;
  rc.snapshot_trailing_entries = config.snapshot_trailing_entries;
  rc.snapshot_chunk_bytes = prez::limits::snapshot_chunk_bytes;
  rc.snapshot_chunks_inflight_max = prez::limits::snapshot_chunks_inflight_max;
  return rc;
}

/// The configuration a node starts from when neither its log nor a snapshot holds one: nodes.conf
/// (voters, and learners tagged so), or none at all for a node joining a running cluster.
prez::membership bootstrap_membership(const prez::node_config& config) {
  prez::membership m;
  if (config.cluster_join) return m;
  for (const auto& member : config.members) {
    const bool v6 = member.host.find(':') != std::string::npos;
    auto host = v6 ? "[" + member.host + "]" : member.host;
    auto address =
        member.cluster_port == 0 ? std::string() : host + ":" + std::to_string(member.cluster_port);
    m.members.push_back(prez::member_info{member.name, address, !member.learner, false});
  }
  return m;
}

} // namespace

int main(int argc, char** argv) {
  if (argc > 2 ||
      (argc == 2 && (std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help"))) {
    std::printf("usage: prez-server [path/to/prez.conf]\n"
                "  with no file: a single-node cluster, data in ./prez-data, port 9000\n");
    return argc > 2 ? 1 : 0;
  }
  prez::node_config config;
  if (argc == 2) {
    auto loaded = prez::load_node_config(argv[1]);
    if (auto* error = std::get_if<prez::config_error>(&loaded)) return fail(error->message);
    config = std::get<prez::node_config>(std::move(loaded));
  } else {
    config = prez::default_single_node_config();
  }
  raise_file_limit();
  if (auto error = check_cluster_door(config); !error.empty()) return fail(error);
  if (auto error = prez::check_tls_files(config); !error.empty()) return fail(error);
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e " + config.name + " %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(std::string(prez::spdlog_level_name(config.loglevel))));

  if (auto error = prepare_dir(config); !error.empty()) return fail(error);
  prez::storage::recovered_state recovered;
  auto opened = prez::storage::log_store::open(config.dir, recovered);
  if (auto* error = std::get_if<std::string>(&opened)) return fail(config.dir + ": " + *error);
  auto store = std::get<std::unique_ptr<prez::storage::log_store>>(std::move(opened));
  if (recovered.truncated_tail_bytes > 0)
    spdlog::warn("log: dropped a torn tail of {} bytes (a write cut short by a crash)",
                 recovered.truncated_tail_bytes);
  // The newest valid snapshot (a damaged one is refused with its reason and an older one used),
  // then the log after it (actors/raft/recovery.hpp).
  std::vector<std::string> refused;
  auto newest = prez::storage::newest_valid_snapshot(config.dir, refused);
  for (const auto& reason : refused)
    spdlog::error("snapshot refused: {}", reason);
  prez::raft::snapshot_ref snapshot;
  std::shared_ptr<prez::restored_state> initial;
  if (newest) {
    auto loaded = prez::load_snapshot_state(newest->path);
    if (auto* error = std::get_if<std::string>(&loaded))
      return fail(*error + " (move the file away to start from an older snapshot, or from the "
                           "log alone if it was never compacted)");
    initial = std::get<std::shared_ptr<prez::restored_state>>(std::move(loaded));
    snapshot = {newest->meta.last_index, newest->meta.last_term, newest->file_bytes};
  }
  auto planned =
      prez::raft::plan_recovery(snapshot, recovered.first_index, std::move(recovered.entries));
  if (auto* error = std::get_if<std::string>(&planned))
    return fail(config.dir + ": " + *error +
                (refused.empty() ? "" : " (see the refused snapshot above)"));
  auto& plan = std::get<prez::raft::recovery_plan>(planned);
  if (plan.reset_log) {
    spdlog::warn("log: dropped, it does not continue snapshot {}/{} (an older history the "
                 "snapshot replaces)",
                 snapshot.index, snapshot.term);
    if (auto error = store->reset(snapshot.index + 1)) return fail(config.dir + ": " + *error);
  }

  std::random_device entropy;
  std::uint64_t incarnation = (std::uint64_t{entropy()} << 32) ^ entropy();
  auto context = std::make_shared<prez::raft::raft_context>();
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

  // Block SIGINT/SIGTERM in every thread (the actor system's threads inherit the mask); main
  // waits for them below and stops the node.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  // Failure detection is off by default in CAF 0.17: without these a paused peer is never
  // declared down (docs/architecture.md §8).
  cfg.set("middleman.heartbeat-interval", caf::timespan{200ms});
  cfg.set("middleman.connection-timeout", caf::timespan{2s});
  cfg.set("logger.verbosity", caf::atom("quiet"));
  const bool tls = prez::tls_enabled(config);
  if (tls) {
    // Node links over TLS with certificates on both sides (docs/decisions.md D24). CAF reads
    // these for every connection; check_tls_files above proved they load.
    cfg.load<caf::openssl::manager>();
    cfg.openssl_certificate = config.tls_cert_file;
    cfg.openssl_key = config.tls_key_file;
    cfg.openssl_cafile = config.tls_ca_cert_file;
  }
  caf::actor_system system{cfg};
  // Without certificates CAF's openssl connects with no authentication at all: never run so.
  if (tls && !system.openssl_manager().authentication_enabled())
    fail_now("TLS is configured but CAF's openssl module has no certificates");
  // Fail-stop (docs/decisions.md D18): if one of the node's actors ends, the process ends too,
  // with exit code 70, instead of serving clients as a zombie.
  auto watcher = prez::spawn_fail_stop(system, prez::stop_process);
  auto watch = [&](const char* name, const caf::actor& whom) {
    caf::anon_send(watcher, prez::watch_atom::value, std::string(name), whom);
  };

  prez::session_settings session_settings;
  session_settings.self = config.name;
  session_settings.incarnation = incarnation;
  session_settings.leader_wait =
      std::max(3000ms, 3 * std::chrono::milliseconds{config.cluster_node_timeout_ms});
  session_settings.write_timeout =
      std::max(5000ms, 5 * std::chrono::milliseconds{config.cluster_node_timeout_ms});
  session_settings.redirect = config.mode == prez::follower_mode::redirect;
  auto session = prez::spawn_session_manager(system, session_settings);
  auto snapshots = prez::spawn_snapshot_actor(system, config.name, config.dir);
  prez::state_machine_settings machine;
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
  if (!config.audit_log.empty())
    machine.audit =
        prez::spawn_audit_log_actor(system, {config.audit_log, config.audit_log_max_bytes,
                                             static_cast<unsigned>(config.audit_log_keep)});
  auto state_machine = prez::spawn_state_machine(system, session, std::move(machine));
  caf::anon_send(session, prez::start_atom::value, state_machine);
  auto log = prez::spawn_log_actor(system, std::move(store));
  watch("session_manager", session);
  watch("state_machine", state_machine);
  watch("log_actor", log);
  watch("snapshot_actor", snapshots);

  prez::node_settings node_settings;
  node_settings.self = config.name;
  for (const auto& m : config.members)
    node_settings.members.push_back({m.name, m.host, m.cluster_port});
  node_settings.nodes_file = config.cluster_config_file;
  node_settings.client_address = config.bind + ":" + std::to_string(config.port);
  node_settings.incarnation = incarnation;
  node_settings.cluster_secret = config.cluster_secret;
  node_settings.tls = tls;
  node_settings.data_dir = config.dir;
  node_settings.link_window_bytes = config.cluster_link_window_bytes;
#ifdef PREZ_FAULT_INJECTION
  spdlog::warn("this is a test build: peer links obey fault switches in {}", config.dir);
#endif
  node_settings.tick = tick;
  auto node =
      prez::spawn_raft_node(system, node_settings, context, log, state_machine, session, snapshots);
  caf::anon_send(state_machine, prez::start_atom::value, node);
  watch("raft_node", node);

  if (!config.cluster_config_file.empty()) {
    auto self = std::find_if(config.members.begin(), config.members.end(),
                             [&](const auto& m) { return m.name == config.name; });
    // Only the door faces the network: it takes sealed frames and nothing else (docs/decisions.md
    // D15).
    auto door = prez::spawn_node_door(system, node);
    watch("node_door", door);
    auto published =
        tls ? caf::openssl::publish(door, self->cluster_port, self->host.c_str(), true)
            : system.middleman().publish(door, self->cluster_port, self->host.c_str(), true);
    if (!published) {
      fail_now(config.source_file + ": cluster-port " + std::to_string(self->cluster_port) +
               " on " + self->host + ": " + system.render(published.error()));
    }
  }

  prez::gateway_settings gateway;
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
  gateway.reply_deadline = prez::session_reply_deadline(session_settings);
  auto gateway_actor = prez::spawn_resp_gateway(system, gateway);
  if (!gateway_actor) {
    fail_now((config.source_file.empty() ? std::string("prez-server") : config.source_file) +
             ": port " + std::to_string(config.port) + " on " + config.bind + ": " +
             system.render(gateway_actor.error()));
  }
  watch("resp_gateway", *gateway_actor);
  if (config.metrics_port != 0) {
    prez::metrics_settings metrics;
    metrics.bind = config.bind;
    metrics.port = config.metrics_port;
    metrics.node = node;
    metrics.gateway = *gateway_actor;
    auto metrics_actor = prez::spawn_metrics_server(system, metrics);
    if (!metrics_actor) {
      fail_now((config.source_file.empty() ? std::string("prez-server") : config.source_file) +
               ": metrics-port " + std::to_string(config.metrics_port) + " on " + config.bind +
               ": " + system.render(metrics_actor.error()));
    }
    watch("metrics", *metrics_actor);
    spdlog::info("{} metrics: curl http://{}:{}/metrics", config.name, config.bind,
                 config.metrics_port);
  }
  spdlog::info("{} ready: redis-cli -h {} -p {}", config.name, config.bind, config.port);

  // Block until SIGINT or SIGTERM, then stop. Every acknowledged write is already durable.
  int received = 0;
  sigwait(&signals, &received);
  spdlog::info("{}: stopping on signal {}", config.name, received);
  if (received == SIGTERM) {
    // A leader hands leadership over first, so writes go on without waiting for an election
    // timeout (thesis §3.10). Bounded: a stop never hangs on it.
    caf::scoped_actor waiter{system};
    const auto wait = std::chrono::milliseconds(
        std::max<std::uint32_t>(1000, 2 * config.cluster_node_timeout_ms));
    waiter->request(node, wait + 500ms, prez::transfer_atom::value, caf::timespan{wait})
        .receive(
            [&](bool handed) {
              if (handed) spdlog::info("{}: leadership handed over before stopping", config.name);
            },
            [&](const caf::error&) {});
  }
  caf::anon_send(watcher, prez::stop_atom::value);
  spdlog::shutdown();
  std::fflush(stdout);
  // The actor system's shutdown can wait on remote connections; the log is durable, so leave now.
  std::_Exit(0);
}
