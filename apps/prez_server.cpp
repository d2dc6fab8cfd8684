// prez-server: one node of a prez cluster, or an agent that hosts the node a launcher spawns there.
//   prez-server                   a single-node cluster, data in ./prez-data, RESP on
//   127.0.0.1:9000 prez-server path/to/prez.conf one node of the cluster nodes.conf describes
//   prez-server --restore F [prez.conf]  seeds a new one-node cluster from a backup, then exits
//   prez-server --agent --cluster-port P --dir D [--bind ADDR]
//                                 an agent: hosts the node `prez-ctl up` spawns there (secret from
//                                 PREZ_CLUSTER_SECRET or --cluster-secret-file F)

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include <sys/resource.h>

#include "caf/all.hpp"
#include "caf/io/all.hpp"
#include "caf/openssl/all.hpp"
#include <spdlog/spdlog.h>

#include "actors/agent/agent_actor.hpp"
#include "actors/agent/agent_args.hpp"
#include "actors/caf_messages.hpp"
#include "actors/fail_stop_actor.hpp"
#include "actors/node_runtime.hpp"
#include "apps/server_restore.hpp"
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

/// CAF options from the environment, for measuring scheduler settings without a rebuild
/// (bench/compare.py): PREZ_CAF_OPTIONS="--scheduler.policy=sharing --middleman.workers=0",
/// CAF's own command-line syntax. Applied after prez's defaults, so they win; a bad option stops
/// start-up.
void apply_caf_options_from_env(caf::actor_system_config& cfg) {
  const char* text = std::getenv("PREZ_CAF_OPTIONS");
  if (text == nullptr) return;
  caf::actor_system_config::string_list args;
  std::istringstream words{text};
  for (std::string word; words >> word;)
    args.push_back(word);
  std::istringstream no_ini;
  if (auto error = cfg.parse(args, no_ini))
    std::exit(fail("PREZ_CAF_OPTIONS: " + cfg.render(error)));
  if (!cfg.remainder.empty())
    std::exit(fail("PREZ_CAF_OPTIONS: not a CAF option: " + cfg.remainder.front()));
}

/// The actor system's settings every prez process shares.
void configure_system(caf::actor_system_config& cfg) {
  cfg.load<caf::io::middleman>();
  // Failure detection is off by default in CAF 0.17: without these a paused peer is never
  // declared down (docs/architecture.md §8).
  cfg.set("middleman.heartbeat-interval", caf::timespan{200ms});
  cfg.set("middleman.connection-timeout", caf::timespan{2s});
  cfg.set("logger.verbosity", caf::atom("quiet"));
  // The scheduler (docs/decisions.md D37): one worker per core instead of CAF's floor of four, an
  // idle worker sleeps on its condition variable (woken by the next enqueue) instead of polling
  // every 50 us, and peer frames are decoded on the multiplexer thread instead of one more hop.
  const std::size_t cores = std::max(1U, std::thread::hardware_concurrency());
  cfg.set("scheduler.max-threads", cores);
  cfg.set("work-stealing.moderate-poll-attempts", std::size_t{0});
  cfg.set("middleman.workers", std::size_t{0});
  apply_caf_options_from_env(cfg);
  spdlog::info(
      "caf: scheduler.policy={} scheduler.max-threads={} work-stealing.moderate-poll-attempts={} "
      "middleman.workers={}",
      caf::to_string(caf::get_or(cfg, "scheduler.policy", caf::defaults::scheduler::policy)),
      caf::get_or(cfg, "scheduler.max-threads", caf::defaults::scheduler::max_threads),
      caf::get_or(cfg, "work-stealing.moderate-poll-attempts",
                  caf::defaults::work_stealing::moderate_poll_attempts),
      caf::get_or(cfg, "middleman.workers", caf::defaults::middleman::workers));
}

/// Blocks SIGINT/SIGTERM in every thread (the actor system's threads inherit the mask); main
/// waits for them and stops the node.
sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

/// Waits for SIGINT or SIGTERM, hands leadership over on SIGTERM (thesis §3.10; bounded, a stop
/// never hangs on it) and leaves. Every acknowledged write is already durable.
[[noreturn]] void
serve_until_stopped(caf::actor_system& system, sigset_t signals, const caf::actor& watcher,
                    const std::function<std::optional<prez::node_runtime>()>& node,
                    const std::string& who) {
  int received = 0;
  sigwait(&signals, &received);
  spdlog::info("{}: stopping on signal {}", who, received);
  if (received == SIGTERM)
    if (auto running = node())
      if (prez::hand_over_leadership(system, *running))
        spdlog::info("{}: leadership handed over before stopping", running->name);
  caf::anon_send(watcher, prez::stop_atom::value);
  spdlog::shutdown();
  std::fflush(stdout);
  // The actor system's shutdown can wait on remote connections; the log is durable, so leave now.
  std::_Exit(0);
}

int run_agent(const prez::agent_args& args) {
  raise_file_limit();
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e agent:" + std::to_string(args.settings.port) +
                      " %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(std::string(prez::spdlog_level_name(args.loglevel))));
  auto host = prez::make_agent_host(args.settings);
  auto signals = block_stop_signals();
  caf::actor_system_config cfg;
  configure_system(cfg);
  prez::add_agent_actor_types(cfg, host);
  caf::actor_system system{cfg};
  auto watcher = prez::spawn_fail_stop(system, prez::stop_process);
  if (auto reason = prez::start_agent(system, *host, watcher); !reason.empty()) fail_now(reason);
  serve_until_stopped(
      system, signals, watcher, [&] { return prez::hosted_node(*host); }, "agent");
}

} // namespace

int main(int argc, char** argv) {
  // Backup restore (docs/decisions.md D25): writes a new data dir from a backup, then exits.
  if (prez::is_restore_command(argc, argv)) return prez::run_restore_command(argc, argv);
  std::vector<std::string> words(argv + 1, argv + argc);
  if (!words.empty() && words[0] == "--agent") {
    auto parsed = prez::parse_agent_args(words, std::getenv("PREZ_CLUSTER_SECRET"));
    if (auto* error = std::get_if<std::string>(&parsed)) return fail(*error);
    return run_agent(std::get<prez::agent_args>(parsed));
  }
  if (argc > 2 ||
      (argc == 2 && (std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help"))) {
    std::printf("usage: prez-server [path/to/prez.conf]\n"
                "  with no file: a single-node cluster, data in ./prez-data, port 9000\n"
                "       prez-server --restore <backup file> [path/to/prez.conf]\n"
                "       prez-server --agent --cluster-port P --dir D [--bind ADDR]\n"
                "                   [--cluster-secret-file F] [--loglevel L]\n"
                "  an agent: hosts the node prez-ctl up spawns there (the cluster secret from\n"
                "  --cluster-secret-file or PREZ_CLUSTER_SECRET)\n");
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
  if (auto error = prez::check_tls_files(config); !error.empty()) return fail(error);
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e " + config.name + " %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(std::string(prez::spdlog_level_name(config.loglevel))));

  auto signals = block_stop_signals();
  caf::actor_system_config cfg;
  configure_system(cfg);
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
  auto started = prez::start_node(system, config, watcher);
  if (auto* reason = std::get_if<std::string>(&started)) fail_now(*reason);
  auto runtime = std::get<prez::node_runtime>(std::move(started));
  serve_until_stopped(
      system, signals, watcher, [&] { return std::optional<prez::node_runtime>(runtime); },
      config.name);
}
