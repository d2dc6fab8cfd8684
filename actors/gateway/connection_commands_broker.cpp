// The commands a client connection answers at the gateway: AUTH and the gate before it,
// MULTI/EXEC/DISCARD/WATCH/UNWATCH, and the connection and server commands (PING, ECHO, QUIT,
// SELECT, COMMAND, CONFIG, CLIENT, HELLO, RESET, TIME, INFO).

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <memory>
#include <optional>

#include <sys/resource.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "actors/caf_messages.hpp"
#include "actors/gateway/client_gate.hpp"
#include "actors/gateway/connection.hpp"
#include "actors/gateway/info_gather.hpp"
#include "actors/gateway/info_report.hpp"
#include "actors/gateway/pubsub.hpp"
#include "actors/gateway/server_commands.hpp"
#include "actors/state_machine/kv_state.hpp"
#include "actors/storage/file_io.hpp"
#include "config/node_config.hpp"
#include "config/runtime_config.hpp"

namespace prez::gateway {

namespace {

std::uint64_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return pages_resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

/// INFO cpu: the process's CPU time and its waited-for children's, as Redis reports them.
void take_cpu_times(info_snapshot& i) {
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  rusage self_usage{};
  rusage children_usage{};
  if (::getrusage(RUSAGE_SELF, &self_usage) == 0) {
    i.cpu_sys_s = seconds(self_usage.ru_stime);
    i.cpu_user_s = seconds(self_usage.ru_utime);
  }
  if (::getrusage(RUSAGE_CHILDREN, &children_usage) == 0) {
    i.cpu_sys_children_s = seconds(children_usage.ru_stime);
    i.cpu_user_children_s = seconds(children_usage.ru_utime);
  }
}

/// INFO: asks the node (Raft and state machine) and the acceptor (clients), then formats.
void handle_info(connection* self, std::uint64_t slot, std::vector<std::string> sections) {
  auto& st = self->state;
  gather_info(
      self, st.settings.node, st.acceptor,
      [=](info_snapshot i) {
        const auto& st = self->state;
        i.node_name = st.settings.node_name;
        i.process_id = static_cast<std::uint64_t>(::getpid());
        i.run_id = st.settings.incarnation;
        i.tcp_port = st.settings.port;
        i.uptime_s =
            static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                           std::chrono::steady_clock::now() - st.settings.started)
                                           .count());
        i.rss_bytes = rss_bytes();
        take_cpu_times(i);
        // CONFIG RESETSTAT: INFO counts from the reset on (the metrics port's counters do not).
        if (st.settings.runtime) {
          const auto baseline = st.settings.runtime->connections_baseline();
          i.total_connections -= std::min(i.total_connections, baseline);
        }
        fill(self, slot, resp::bulk(format_info(i, sections)));
      },
      [=](const caf::error&) { fill(self, slot, resp::error("ERR INFO unavailable")); });
}

/// HELLO [protover [AUTH username password] [SETNAME clientname]], checked as Redis 7 does.
struct hello_request {
  int protover = 0;        ///< 0: not given (answer in the current protocol)
  std::size_t auth_at = 0; ///< index of the AUTH option in argv, 0 if none
  std::optional<std::string> setname;
  std::string error; ///< the whole error reply text, when the command is refused
};

hello_request parse_hello(const std::vector<std::string>& argv) {
  hello_request out;
  if (argv.size() < 2) return out;
  const auto& version = argv[1];
  const bool digits = !version.empty() && version.size() <= 18 &&
                      std::all_of(version.begin(), version.end(),
                                  [](unsigned char c) { return std::isdigit(c) != 0; });
  if (!digits) {
    out.error = "ERR Protocol version is not an integer or out of range";
    return out;
  }
  const auto number = std::stoll(version);
  if (number < 2 || number > 3) {
    out.error = "NOPROTO unsupported protocol version";
    return out;
  }
  out.protover = static_cast<int>(number);
  for (std::size_t i = 2; i < argv.size(); ++i) {
    const auto option = lower(argv[i]);
    if (option == "auth" && i + 2 < argv.size()) {
      out.auth_at = i;
      i += 2;
    } else if (option == "setname" && i + 1 < argv.size()) {
      out.setname = argv[++i];
    } else {
      out.error = "ERR Syntax error in HELLO option '" + argv[i] + "'";
      return out;
    }
  }
  return out;
}

/// Parses a decimal u64 argument (digits only, no sign, no overflow).
std::optional<std::uint64_t> parse_u64_argument(const std::string& text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::uint64_t value = 0;
  for (unsigned char c : text) {
    if (!std::isdigit(c)) return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

/// CLIENT ID, SETNAME, GETNAME, LIST, INFO (LIST and INFO show this connection only), UNBLOCK
/// (a connection of this node, by its CLIENT ID).
void handle_client(connection* self, std::uint64_t slot, const std::vector<std::string>& argv) {
  auto& st = self->state;
  auto sub = argv.size() > 1 ? lower(argv[1]) : "";
  auto describe = [&] {
    return "id=" + std::to_string(st.connection_number) + " name=" + st.client_name +
           " db=0 multi=" + (st.in_multi ? std::to_string(st.queued.size()) : "-1") + "\n";
  };
  if (sub == "id" && argv.size() == 2) {
    fill(self, slot, resp::integer(static_cast<std::int64_t>(st.connection_number)));
  } else if (sub == "setname" && argv.size() == 3) {
    if (argv[2].find_first_of(" \n\r") != std::string::npos)
      return fill(self, slot,
                  resp::error("ERR Client names cannot contain spaces, newlines or special "
                              "characters."));
    st.client_name = argv[2];
    fill(self, slot, resp::simple("OK"));
  } else if (sub == "getname" && argv.size() == 2) {
    fill(self, slot, st.client_name.empty() ? resp::null_bulk() : resp::bulk(st.client_name));
  } else if ((sub == "list" || sub == "info") && argv.size() == 2) {
    fill(self, slot, resp::bulk(describe()));
  } else if (sub == "unblock" && (argv.size() == 3 || argv.size() == 4)) {
    const auto number = parse_u64_argument(argv[2]);
    const std::string mode = argv.size() == 4 ? lower(argv[3]) : "timeout";
    if (!number)
      return fill(self, slot, resp::error("ERR value is not an integer or out of range"));
    if (mode != "timeout" && mode != "error")
      return fill(self, slot, resp::error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"));
    self->request(st.acceptor, std::chrono::seconds(10), unblock_atom::value, *number,
                  mode == "error")
        .then([=](bool unblocked) { fill(self, slot, resp::integer(unblocked ? 1 : 0)); },
              [=](const caf::error&) { fill(self, slot, resp::integer(0)); });
  } else if (sub == "reply" && argv.size() == 3) {
    const auto mode = lower(argv[2]);
    if (slot >= exec_part_slot_base)
      return fill(self, slot, resp::error("ERR CLIENT REPLY cannot run inside MULTI in prez"));
    if (mode == "on") {
      st.replies = connection_state::reply_mode::on;
      slot_at(self, slot).silent = false;
      fill(self, slot, resp::simple("OK"));
    } else if (mode == "off" || mode == "skip") {
      st.replies =
          mode == "off" ? connection_state::reply_mode::off : connection_state::reply_mode::skip;
      slot_at(self, slot).silent = true;
      fill(self, slot, resp::simple("OK"));
    } else {
      fill(self, slot, resp::error("ERR syntax error"));
    }
  } else if (sub == "setinfo" && argv.size() == 4) {
    fill(self, slot, resp::simple("OK"));
  } else if (sub != "id" && sub != "setname" && sub != "getname" && sub != "list" &&
             sub != "info" && sub != "setinfo" && sub != "unblock" && sub != "reply") {
    fill(self, slot,
         resp::error("ERR unknown subcommand '" + (argv.size() > 1 ? argv[1] : std::string{}) +
                     "'. Try CLIENT HELP."));
  } else {
    fill(self, slot,
         resp::error("ERR unknown subcommand or wrong number of arguments for '" +
                     (argv.size() > 1 ? argv[1] : std::string{}) + "'. Try CLIENT HELP."));
  }
}

/// An error's own text when it carries one (the snapshot actor's reasons), else CAF's rendering.
std::string error_text(connection* self, const caf::error& error) {
  const auto& context = error.context();
  if (context.match_elements<std::string>()) return context.get_as<std::string>(0);
  return self->system().render(error);
}

/// RAFT.SNAPSHOT FETCH (docs/decisions.md D25): first a linearizable read through the session
/// manager (ReadIndex on the leader, forwarded there from a follower) answers an index applied
/// after every write acknowledged before this command arrived; then this node's state machine
/// waits until it has applied that far and answers a durable snapshot at or after it, which the
/// snapshot actor holds open for RAFT.SNAPSHOT READ. Reply: [index, term, bytes] as integers.
void fetch_snapshot(connection* self, std::uint64_t slot) {
  auto& st = self->state;
  client_command command{st.client_id, ++st.next_seq, 0, {"RAFT.SNAPSHOT", "FETCH"}, {}, {}};
  command.through_log = false;
  to_session(
      self, std::move(command), st.settings.reply_deadline,
      [=](const std::optional<std::string>& answer) {
        if (!answer)
          return fill(self, slot,
                      resp::error("CLUSTERDOWN snapshot fetch: no linearizable read from the "
                                  "cluster in time"));
        const auto& reply = *answer;
        if (reply.empty() || reply[0] == '-') return fill(self, slot, reply);
        const auto end = reply.find('\r');
        const auto index = reply[0] == ':' && end != std::string::npos
                               ? parse_u64_argument(reply.substr(1, end - 1))
                               : std::nullopt;
        if (!index)
          return fill(self, slot,
                      resp::error("ERR snapshot fetch: the leader answered no index (is every "
                                  "node of this version?)"));
        self->request(self->state.settings.node, std::chrono::minutes(2), snap_fetch_atom::value,
                      *index)
            .then(
                [=](const raft::snapshot_ref& ref) {
                  fill(self, slot,
                       resp::array_header(3) + resp::integer(static_cast<std::int64_t>(ref.index)) +
                           resp::integer(static_cast<std::int64_t>(ref.term)) +
                           resp::integer(static_cast<std::int64_t>(ref.bytes)));
                },
                [=](const caf::error& error) {
                  fill(self, slot,
                       resp::error("ERR snapshot fetch failed: " + error_text(self, error)));
                });
      });
}

/// RAFT.SNAPSHOT [FETCH | READ <index> <offset> <count>].
void handle_raft_snapshot(connection* self, std::uint64_t slot,
                          const std::vector<std::string>& argv) {
  auto& st = self->state;
  const auto sub = argv.size() > 1 ? lower(argv[1]) : std::string();
  if (argv.size() == 1) {
    // Node-local, like Redis's SAVE: this node's state machine writes a snapshot now.
    self->request(st.settings.node, std::chrono::minutes(10), snapshot_atom::value)
        .then([=](const std::string& reply) { fill(self, slot, reply); },
              [=](const caf::error& error) {
                fill(self, slot,
                     resp::error("ERR snapshot not taken: " + self->system().render(error)));
              });
  } else if (sub == "fetch" && argv.size() == 2) {
    fetch_snapshot(self, slot);
  } else if (sub == "read" && argv.size() == 5) {
    const auto index = parse_u64_argument(argv[2]);
    const auto offset = parse_u64_argument(argv[3]);
    const auto count = parse_u64_argument(argv[4]);
    if (!index || !offset || !count)
      return fill(self, slot, resp::error("ERR value is not an integer or out of range"));
    self->request(st.settings.node, std::chrono::seconds(30), snap_read_atom::value, *index,
                  *offset, *count)
        .then([=](const std::string& bytes) { fill(self, slot, resp::bulk(bytes)); },
              [=](const caf::error& error) {
                fill(self, slot, resp::error("ERR snapshot read: " + error_text(self, error)));
              });
  } else {
    fill(self, slot,
         resp::error("ERR unknown subcommand or wrong number of arguments for 'raft.snapshot': "
                     "RAFT.SNAPSHOT, RAFT.SNAPSHOT FETCH or RAFT.SNAPSHOT READ <index> <offset> "
                     "<count>"));
  }
}

/// The password AUTH checks now: CONFIG SET's when the node has a runtime configuration.
std::string current_requirepass(const connection_state& st) {
  if (!st.settings.runtime) return st.settings.requirepass;
  return st.settings.runtime->read([](const runtime_config& c) { return c.requirepass(); });
}

/// CONFIG REWRITE's file work: reads prez.conf, rewrites it with the current values, and replaces
/// it atomically (temporary file, fsync, rename, directory fsync). Returns the RESP reply.
std::string rewrite_config_file(shared_runtime_config& runtime, const std::string& path) {
  auto file_lock = runtime.lock_file();
  auto text = read_config_file(path);
  if (auto* error = std::get_if<config_error>(&text))
    return resp::error("ERR Rewriting config file: " + error->message);
  auto rewritten = runtime.snapshot().rewrite(std::get<std::string>(text), path);
  if (auto* error = std::get_if<config_error>(&rewritten))
    return resp::error("ERR Rewriting config file: " + error->message);
  if (auto error = storage::replace_file(path, std::get<std::string>(rewritten)))
    return resp::error("ERR Rewriting config file: " + *error);
  spdlog::info("CONFIG REWRITE: {} rewritten", path);
  return resp::simple("OK");
}

/// A one-shot worker on CAF's scheduler: CONFIG REWRITE's fsyncs stay off the I/O thread that
/// serves every client.
caf::behavior config_rewrite_actor(caf::event_based_actor* self,
                                   std::shared_ptr<shared_runtime_config> runtime,
                                   std::string path) {
  return {
      [=](start_atom) -> std::string {
        self->quit();
        return rewrite_config_file(*runtime, path);
      },
  };
}

/// Applies what a successful CONFIG SET changed that is not read on demand: spdlog's level (one
/// per process: with several nodes in a process the last CONFIG SET wins, as with prez.conf).
void apply_config_effects(const runtime_config& config) {
  spdlog::set_level(spdlog::level::from_str(std::string(spdlog_level_name(config.loglevel()))));
}

/// CONFIG GET / SET / RESETSTAT / REWRITE / HELP, node-local (docs/decisions.md D27).
void handle_config(connection* self, std::uint64_t slot, const std::vector<std::string>& argv) {
  auto& st = self->state;
  std::string sub;
  if (auto error = config_shape_error(argv, sub); !error.empty()) return fill(self, slot, error);
  if (sub == "help") return fill(self, slot, config_help_reply());
  if (!st.settings.runtime)
    return fill(self, slot, resp::error("ERR CONFIG is not available on this node"));
  auto runtime = st.settings.runtime;
  if (sub == "get") {
    // The reply is built under the lock and written after it.
    fill(self, slot,
         runtime->read([&](const runtime_config& c) { return config_get_reply(c, argv); }));
  } else if (sub == "set") {
    const std::vector<std::string> pairs(argv.begin() + 2, argv.end());
    auto error = runtime->set(pairs, apply_config_effects);
    if (!error.empty()) return fill(self, slot, resp::error(error));
    std::string names;
    for (std::size_t i = 0; i < pairs.size(); i += 2)
      names += (names.empty() ? "" : " ") + lower(pairs[i]);
    spdlog::info("CONFIG SET {} by client {}", names, st.connection_number);
    fill(self, slot, resp::simple("OK"));
  } else if (sub == "resetstat") {
    self->request(st.acceptor, std::chrono::seconds(3), status_atom::value)
        .then(
            [=](const gateway_status& status) {
              runtime->reset_stats(status.accepted_total);
              fill(self, slot, resp::simple("OK"));
            },
            [=](const caf::error&) {
              fill(self, slot, resp::error("ERR CONFIG RESETSTAT failed"));
            });
  } else if (st.settings.config_file.empty()) {
    fill(self, slot, resp::error("ERR The server is running without a config file"));
  } else {
    auto worker = self->system().spawn(config_rewrite_actor, runtime, st.settings.config_file);
    self->request(worker, caf::infinite, start_atom::value)
        .then([=](const std::string& reply) { fill(self, slot, reply); },
              [=](const caf::error& error) {
                fill(self, slot,
                     resp::error("ERR Rewriting config file: " + self->system().render(error)));
              });
  }
}

} // namespace

/// Commands a connection answers without the cluster. Returns false when `argv` is not one.
bool handle_local(connection* self, std::uint64_t slot, const std::vector<std::string>& argv) {
  auto& st = self->state;
  auto name = lower(argv[0]);
  auto arity_error = [&] {
    fill(self, slot, resp::error("ERR wrong number of arguments for '" + name + "' command"));
  };
  if (name == "ping") {
    if (argv.size() == 1)
      fill(self, slot, resp::simple("PONG"));
    else if (argv.size() == 2)
      fill(self, slot, resp::bulk(argv[1]));
    else
      arity_error();
  } else if (name == "echo") {
    if (argv.size() != 2) return arity_error(), true;
    fill(self, slot, resp::bulk(argv[1]));
  } else if (name == "select") {
    if (argv.size() != 2) return arity_error(), true;
    bool numeric = !argv[1].empty() && argv[1].size() < 19 &&
                   std::all_of(argv[1].begin() + (argv[1][0] == '-' ? 1 : 0), argv[1].end(),
                               [](unsigned char c) { return std::isdigit(c); }) &&
                   argv[1] != "-";
    fill(self, slot,
         argv[1] == "0" ? resp::simple("OK")
         : !numeric     ? resp::error("ERR value is not an integer or out of range")
                        : resp::error("ERR DB index is out of range"));
  } else if (name == "command") {
    fill(self, slot, command_reply(argv));
  } else if (name == "config") {
    handle_config(self, slot, argv);
  } else if (name == "client") {
    handle_client(self, slot, argv);
  } else if (name == "hello") {
    // AUTH was taken out by handle_auth; what is left is checked in handle_auth too.
    auto hello = parse_hello(argv);
    if (!hello.error.empty()) return fill(self, slot, resp::error(hello.error)), true;
    if (hello.setname) {
      if (hello.setname->find_first_of(" \n\r") != std::string::npos)
        return fill(self, slot,
                    resp::error("ERR Client names cannot contain spaces, newlines or special "
                                "characters.")),
               true;
      st.client_name = *hello.setname;
    }
    if (hello.protover != 0) st.protocol = hello.protover;
    slot_at(self, slot).protocol = st.protocol; // HELLO answers in the protocol it selects
    std::string out = resp::array_header(14) + resp::bulk("server") + resp::bulk("redis") +
                      resp::bulk("version") + resp::bulk("7.0.0") + resp::bulk("proto") +
                      resp::integer(st.protocol) + resp::bulk("id") +
                      resp::integer(static_cast<std::int64_t>(st.connection_number)) +
                      resp::bulk("mode") + resp::bulk("standalone") + resp::bulk("role") +
                      resp::bulk("master") + resp::bulk("modules") + resp::array_header(0);
    fill(self, slot, std::move(out));
  } else if (name == "reset") {
    // As Redis: back to RESP2, and with a requirepass, back to unauthenticated.
    st.protocol = 2;
    if (!current_requirepass(st).empty()) {
      st.authenticated = false;
      st.parser.set_authenticated(false);
    }
    st.in_multi = false;
    st.queued.clear();
    st.watches.clear();
    st.client_name.clear();
    unsubscribe_all(self);
    fill(self, slot, resp::simple("RESET"));
  } else if (name == "time") {
    auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    fill(self, slot,
         resp::array_header(2) + resp::bulk(std::to_string(now / 1000000)) +
             resp::bulk(std::to_string(now % 1000000)));
  } else if (name == "info") {
    handle_info(self, slot, std::vector<std::string>(argv.begin() + 1, argv.end()));
  } else if (name == "raft.snapshot") {
    handle_raft_snapshot(self, slot, argv);
  } else {
    return false;
  }
  return true;
}

void run_queued_local(connection* self, std::uint64_t slot, const std::vector<std::string>& argv) {
  auto name = lower(argv[0]);
  // EXEC forgets the WATCHed keys anyway; a queued UNWATCH only answers.
  if (name == "unwatch") return fill(self, slot, resp::simple("OK"));
  auto args = argv; // handle_auth takes HELLO's AUTH option out
  if (handle_auth(self, slot, name, args)) return;
  if (name == "pubsub" && handle_pubsub(self, slot, name, args)) return;
  if (handle_local(self, slot, args)) return;
  fill(self, slot, resp::error("ERR '" + name + "' cannot run inside MULTI in prez"));
}

/// MULTI, EXEC, DISCARD, WATCH, UNWATCH. Returns false when `name` is none of them.
bool handle_transaction(connection* self, std::uint64_t slot, const std::string& name,
                        std::vector<std::string>& argv) {
  auto& st = self->state;
  auto arity = [&](bool ok) {
    if (!ok)
      fill(self, slot, resp::error("ERR wrong number of arguments for '" + name + "' command"));
    return ok;
  };
  if (name == "multi") {
    if (!arity(argv.size() == 1)) return true;
    if (st.in_multi)
      return fill(self, slot, resp::error("ERR MULTI calls can not be nested")), true;
    st.in_multi = true;
    st.multi_refused = false;
    st.queued.clear();
    fill(self, slot, resp::simple("OK"));
  } else if (name == "discard") {
    if (!arity(argv.size() == 1)) return true;
    if (!st.in_multi) return fill(self, slot, resp::error("ERR DISCARD without MULTI")), true;
    st.in_multi = false;
    st.queued.clear();
    st.watches.clear();
    fill(self, slot, resp::simple("OK"));
  } else if (name == "exec") {
    if (!arity(argv.size() == 1)) return true;
    if (!st.in_multi) return fill(self, slot, resp::error("ERR EXEC without MULTI")), true;
    st.in_multi = false;
    auto watches = std::move(st.watches);
    st.watches.clear();
    if (st.multi_refused) {
      st.queued.clear();
      return fill(self, slot,
                  resp::error("EXECABORT Transaction discarded because of previous errors.")),
             true;
    }
    // The data commands go through the log as one transaction; the connection commands run
    // here once its reply is back, their replies spliced in at their places (D30).
    auto plan = std::make_shared<exec_plan>(plan_exec(std::move(st.queued)));
    st.queued.clear();
    if (plan->data.empty() && watches.empty()) { // nothing for the log
      run_exec_locals(self, slot, plan, {});
      return true;
    }
    // A PUBLISH inside answers its node's count, asked of the hub once the reply is back; the
    // connection holds what follows until then, as for local commands.
    const bool publishes =
        std::any_of(plan->data.begin(), plan->data.end(), [](const auto& queued) {
          return queued.size() == 3 && lower(queued[0]) == "publish";
        });
    const bool spliced = !plan->local.empty() || plan->data.empty() || publishes;
    client_command command{st.client_id, ++st.next_seq, 0, {"EXEC"}, {}, {}};
    if (spliced)
      command.transaction = plan->data;
    else
      command.transaction = std::move(plan->data);
    if (command.transaction.empty()) // only WATCH: nothing to apply, but a watched change aborts
      command.transaction.push_back({"EXISTS", "__prez_exec_noop__"});
    if (!plan->local.empty() || publishes) st.holding_exec = slot;
    submit(self, {slot, std::move(command), true, std::move(watches), nullptr,
                  spliced ? std::move(plan) : nullptr});
  } else if (name == "watch") {
    if (!arity(argv.size() >= 2)) return true;
    if (st.in_multi)
      return fill(self, slot, resp::error("ERR WATCH inside MULTI is not allowed")), true;
    auto target = std::make_shared<watch_result>();
    st.watches.push_back(target);
    argv[0] = "WATCH";
    client_command command{st.client_id, ++st.next_seq, 0, std::move(argv), {}, {}};
    submit(self, {slot, std::move(command), false, {}, std::move(target), nullptr});
  } else if (name == "unwatch" && !st.in_multi) { // inside MULTI it is queued (Redis too)
    if (!arity(argv.size() == 1)) return true;
    st.watches.clear();
    fill(self, slot, resp::simple("OK"));
  } else {
    return false;
  }
  return true;
}

namespace {

/// Checks a password (and user: only "default" exists) and marks the connection authenticated.
/// Returns the error reply, empty on success.
std::string authenticate(connection* self, const std::string* user, const std::string& password) {
  auto& st = self->state;
  const auto requirepass = current_requirepass(st);
  if (requirepass.empty())
    return resp::error("ERR AUTH <password> called without any password configured for the "
                       "default user. Are you sure your configuration is correct?");
  bool user_ok = user == nullptr || *user == "default";
  if (!equal_constant_time(password, requirepass) || !user_ok)
    return resp::error("WRONGPASS invalid username-password pair or user is disabled.");
  st.authenticated = true;
  st.parser.set_authenticated(true);
  return {};
}

} // namespace

/// AUTH, and the gate in front of everything else until a client has authenticated.
/// Returns true when the command was answered here.
bool handle_auth(connection* self, std::uint64_t slot, const std::string& name,
                 std::vector<std::string>& argv) {
  auto& st = self->state;
  if (name == "auth") {
    if (argv.size() < 2 || argv.size() > 3)
      return fill(self, slot, resp::error("ERR wrong number of arguments for 'auth' command")),
             true;
    auto error = authenticate(self, argv.size() == 3 ? &argv[1] : nullptr, argv.back());
    fill(self, slot, error.empty() ? resp::simple("OK") : error);
    return true;
  }
  if (name == "hello") {
    auto hello = parse_hello(argv);
    if (!hello.error.empty()) return fill(self, slot, resp::error(hello.error)), true;
    if (hello.auth_at != 0) {
      auto error = authenticate(self, &argv[hello.auth_at + 1], argv[hello.auth_at + 2]);
      if (!error.empty()) return fill(self, slot, error), true;
      // The rest (protocol version, SETNAME) is answered by handle_local.
      argv.erase(argv.begin() + static_cast<long>(hello.auth_at),
                 argv.begin() + static_cast<long>(hello.auth_at) + 3);
      return false;
    }
  }
  if (st.authenticated) return false;
  if (name == "hello")
    return fill(self, slot,
                resp::error("NOAUTH HELLO must be called with the client already authenticated, "
                            "otherwise the HELLO <proto> AUTH <user> <pass> option can be used to "
                            "authenticate the client and select the RESP protocol version at the "
                            "same time")),
           true;
  fill(self, slot, resp::error("NOAUTH Authentication required."));
  return true;
}

void refresh_door_settings(gateway_settings& settings) {
  if (!settings.runtime) return;
  settings.runtime->read([&](const runtime_config& c) {
    settings.maxclients = c.maxclients();
    settings.requirepass = c.requirepass();
    settings.protected_mode = c.protected_mode();
    return true;
  });
}

// --- pub/sub (docs/architecture.md §3.7) -------------------------------------------------------

namespace {

/// (P)SUBSCRIBE: adds the names, registers them with the hub, and answers one confirmation per
/// name once the hub has them (so a message published after the answer reaches this client).
void subscribe(connection* self, std::uint64_t slot, bool pattern,
               const std::vector<std::string>& argv) {
  auto& st = self->state;
  auto& names = pattern ? st.patterns : st.channels;
  const std::vector<std::string> asked(argv.begin() + 1, argv.end());
  std::string text;
  for (const auto& name : asked) {
    names.insert(name);
    text += pubsub::confirmation(pattern ? "psubscribe" : "subscribe", name,
                                 st.channels.size() + st.patterns.size(), st.protocol);
  }
  self->request(st.settings.pubsub, std::chrono::seconds(5), subscribe_atom::value,
                static_cast<pubsub::subscriber>(st.connection_number), pattern, asked,
                caf::actor_cast<caf::actor>(self))
      .then([=](bool) { fill_raw(self, slot, text); },
            [=](const caf::error&) {
              fill(self, slot, resp::error("ERR the node's pub/sub hub did not answer"));
            });
}

/// (P)UNSUBSCRIBE: drops the names given (all when none), one confirmation each; with nothing
/// to drop, one confirmation with a null name.
void unsubscribe(connection* self, std::uint64_t slot, bool pattern,
                 const std::vector<std::string>& argv) {
  auto& st = self->state;
  auto& names = pattern ? st.patterns : st.channels;
  std::vector<std::string> dropped(argv.begin() + 1, argv.end());
  if (dropped.empty()) dropped.assign(names.begin(), names.end());
  const std::string_view kind = pattern ? "punsubscribe" : "unsubscribe";
  std::string text;
  for (const auto& name : dropped) {
    names.erase(name);
    text += pubsub::confirmation(kind, name, st.channels.size() + st.patterns.size(), st.protocol);
  }
  if (dropped.empty())
    text = pubsub::confirmation(kind, std::nullopt, st.channels.size() + st.patterns.size(),
                                st.protocol);
  self->request(st.settings.pubsub, std::chrono::seconds(5), unsubscribe_atom::value,
                static_cast<pubsub::subscriber>(st.connection_number), pattern, dropped)
      .then([=](bool) { fill_raw(self, slot, text); },
            [=](const caf::error&) {
              fill(self, slot, resp::error("ERR the node's pub/sub hub did not answer"));
            });
}

} // namespace

bool handle_pubsub(connection* self, std::uint64_t slot, const std::string& name,
                   const std::vector<std::string>& argv) {
  auto& st = self->state;
  const bool subscribed = !st.channels.empty() || !st.patterns.empty();
  if (subscribed && st.protocol == 2 && !pubsub::allowed_while_subscribed(name)) {
    fill(self, slot, pubsub::not_allowed_while_subscribed(name));
    return true;
  }
  if (subscribed && st.protocol == 2 && name == "ping" && argv.size() <= 2) {
    fill(self, slot, pubsub::subscribed_pong(argv));
    return true;
  }
  const bool sub = name == "subscribe" || name == "psubscribe";
  const bool unsub = name == "unsubscribe" || name == "punsubscribe";
  if (!sub && !unsub && name != "pubsub") return false;
  std::string error;
  if (classify(argv, error) == command_kind::unknown) {
    fill(self, slot, error); // arity
    return true;
  }
  if (!st.settings.pubsub) {
    fill(self, slot, resp::error("ERR pub/sub is not available on this node"));
    return true;
  }
  if (name == "pubsub") {
    self->request(st.settings.pubsub, std::chrono::seconds(5), pubsub_atom::value, argv)
        .then([=](std::string& reply) { fill(self, slot, std::move(reply)); },
              [=](const caf::error&) {
                fill(self, slot, resp::error("ERR the node's pub/sub hub did not answer"));
              });
    return true;
  }
  const bool pattern = name[0] == 'p';
  if (sub)
    subscribe(self, slot, pattern, argv);
  else
    unsubscribe(self, slot, pattern, argv);
  return true;
}

void unsubscribe_all(connection* self) {
  auto& st = self->state;
  if (st.settings.pubsub) {
    for (const bool pattern : {false, true}) {
      auto& names = pattern ? st.patterns : st.channels;
      if (names.empty()) continue;
      // A request, so the hub's answer is expected (an unexpected one is answered with an
      // error, and an actor quits on an error it does not handle).
      self->request(st.settings.pubsub, std::chrono::seconds(5), unsubscribe_atom::value,
                    static_cast<pubsub::subscriber>(st.connection_number), pattern,
                    std::vector<std::string>(names.begin(), names.end()))
          .then([](bool) {}, [](const caf::error&) {});
    }
  }
  st.channels.clear();
  st.patterns.clear();
}

} // namespace prez::gateway
