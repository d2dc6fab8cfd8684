// The agent: CAF remote spawning of prez nodes (actors/agent/agent_actor.hpp).
#include "actors/agent/agent_actor.hpp"

#include <chrono>
#include <filesystem>
#include <mutex>

#include "caf/all.hpp"
#include "caf/io/all.hpp"
#include <spdlog/spdlog.h>

#include "actors/agent/hosted_node.hpp"
#include "actors/caf_messages.hpp"
#include "actors/storage/file_io.hpp"
#include "config/node_config.hpp"
#include "messages/spawn_request.hpp"

namespace prez {

namespace {

constexpr const char* record_name = "hosted.conf";
/// A spawned messenger actor waits this long for the launcher's question, then ends.
constexpr auto messenger_life = std::chrono::minutes(2);

std::uint64_t wall_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

} // namespace

class agent_host {
public:
  explicit agent_host(agent_settings settings) : settings_(std::move(settings)) {}

  /// Opens `sealed`, then hosts the node it asks for. Empty on success, else the reason.
  std::string spawn(caf::actor_system& system, const std::vector<char>& sealed) {
    auto opened = open_spawn_request(sealed, settings_.secret, wall_ms());
    if (auto* reason = std::get_if<std::string>(&opened)) return "refused: " + *reason;
    auto& request = std::get<spawn_request>(opened);
    std::lock_guard<std::mutex> lock(mutex_);
    if (hosted_) {
      if (hosted_->name == request.node) return {};
      return "refused: this agent already hosts node '" + hosted_->name + "'";
    }
    auto conf = hosted_prez_conf(request.prez_conf);
    if (auto* refused = std::get_if<hosted_conf_error>(&conf))
      return "refused: " + refused->message;
    const auto node_dir = std::filesystem::path(settings_.dir) / request.node;
    std::error_code ec;
    std::filesystem::create_directories(node_dir, ec);
    if (ec) return node_dir.string() + ": " + ec.message();
    if (auto error =
            storage::replace_file((node_dir / "prez.conf").string(), std::get<std::string>(conf)))
      return *error;
    // A node that ran here before keeps the nodes.conf it rewrote from its committed
    // configuration: newer than the launcher's.
    if (!std::filesystem::exists(node_dir / "nodes.conf"))
      if (auto error =
              storage::replace_file((node_dir / "nodes.conf").string(), request.nodes_conf))
        return *error;
    auto record = std::filesystem::path(settings_.dir) / record_name;
    if (auto error = storage::replace_file(record.string(), hosted_record(request.node)))
      return *error;
    auto reason = start_locked(system, request.node);
    if (!reason.empty()) std::filesystem::remove(record, ec);
    return reason;
  }

  /// At agent start: the node of hosted.conf, if there is one.
  std::string resume(caf::actor_system& system) {
    auto record = (std::filesystem::path(settings_.dir) / record_name).string();
    if (!std::filesystem::exists(record)) return {};
    auto text = read_config_file(record);
    if (auto* error = std::get_if<config_error>(&text)) return error->message;
    auto name = parse_hosted_record(std::get<std::string>(text));
    if (!name) return record + ": expected one line 'node <name>'";
    std::lock_guard<std::mutex> lock(mutex_);
    spdlog::info("agent: bringing back node {} from {}", *name, settings_.dir);
    return start_locked(system, *name);
  }

  std::optional<node_runtime> hosted() {
    std::lock_guard<std::mutex> lock(mutex_);
    return hosted_;
  }

  const agent_settings& settings() const { return settings_; }
  void set_watcher(caf::actor watcher) { watcher_ = std::move(watcher); }

private:
  std::string start_locked(caf::actor_system& system, const std::string& name) {
    auto conf = (std::filesystem::path(settings_.dir) / name / "prez.conf").string();
    auto loaded = load_node_config(conf);
    if (auto* error = std::get_if<config_error>(&loaded)) return error->message;
    auto& config = std::get<node_config>(loaded);
    if (config.name != name) return conf + ": names node '" + config.name + "', not '" + name + "'";
    if (config.cluster_secret != settings_.secret)
      return conf + ": its cluster-secret differs from the agent's";
    // The agent's actor system runs without CAF's openssl module (D26): TLS node links are for
    // nodes started with prez-server prez.conf, for now.
    if (tls_enabled(config))
      return conf + ": TLS node links (tls-*-file) are not supported for nodes an agent hosts; "
                    "start this node with prez-server prez.conf";
    auto started = start_node(system, config, watcher_);
    if (auto* reason = std::get_if<std::string>(&started)) return *reason;
    hosted_ = std::get<node_runtime>(std::move(started));
    spdlog::info("agent: hosts node {} (data in {})", name, config.dir);
    return {};
  }

  agent_settings settings_;
  caf::actor watcher_;
  std::mutex mutex_;
  std::optional<node_runtime> hosted_;
};

std::shared_ptr<agent_host> make_agent_host(agent_settings settings) {
  return std::make_shared<agent_host>(std::move(settings));
}

void add_agent_actor_types(caf::actor_system_config& cfg, std::shared_ptr<agent_host> host) {
  // The spawned actor is a messenger: a detached worker does the slow part (disk recovery, the
  // blocking publish) off the scheduler's threads, and the messenger answers the launcher.
  cfg.add_actor_type(
      "prez-node", [host](caf::event_based_actor* self, std::vector<char> sealed) -> caf::behavior {
        struct outcome {
          std::optional<std::string> text;
          std::vector<caf::response_promise> waiting;
        };
        auto result = std::make_shared<outcome>();
        self->spawn<caf::detached>(
            [host, sealed](caf::event_based_actor* worker, caf::actor reply_to) {
              auto text = host->spawn(worker->system(), sealed);
              if (text.rfind("refused: ", 0) == 0)
                spdlog::warn("agent: {}", text);
              else if (!text.empty())
                spdlog::error("agent: the spawned node did not start: {}", text);
              worker->send(reply_to, spawn_done_atom::value, text);
            },
            caf::actor_cast<caf::actor>(self));
        self->delayed_send(self, messenger_life, stop_atom::value);
        return {
            [=](start_atom) -> caf::result<std::string> {
              if (result->text) return *result->text;
              result->waiting.push_back(self->make_response_promise());
              return caf::delegated<std::string>();
            },
            [=](spawn_done_atom, std::string& text) {
              result->text = text;
              for (auto& promise : result->waiting)
                promise.deliver(text);
              result->waiting.clear();
            },
            [=](stop_atom) { self->quit(); },
        };
      });
}

std::string start_agent(caf::actor_system& system, agent_host& host, const caf::actor& watcher) {
  host.set_watcher(watcher);
  if (auto reason = host.resume(system); !reason.empty()) return reason;
  // Something must be published for launchers to reach this process; the agent's own door
  // takes nothing (spawning goes through CAF's spawn server, checked by the seal).
  // It takes one unused argument: CAF 0.17 binds a reference to a null argument tuple when a
  // function actor takes none (UBSan: "reference binding to null pointer").
  auto door = system.spawn(
      [](caf::event_based_actor* self, int) -> caf::behavior {
        self->set_default_handler(caf::drop);
        return {[](refused_atom) {}};
      },
      0);
  const auto& settings = host.settings();
  auto published = system.middleman().publish(door, settings.port, settings.bind.c_str(), true);
  if (!published)
    return "agent port " + std::to_string(settings.port) + " on " + settings.bind + ": " +
           system.render(published.error());
  spdlog::info("agent ready on {}:{}: waiting for prez-ctl up (data in {})", settings.bind,
               settings.port, settings.dir);
  return {};
}

std::optional<node_runtime> hosted_node(agent_host& host) {
  return host.hosted();
}

} // namespace prez
