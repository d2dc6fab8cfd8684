#include "actors/gateway/resp_gateway_actor.hpp"

#include <algorithm>
#include <cctype>
#include <deque>
#include <fstream>

#include <unistd.h>

#include "caf/all.hpp"
#include "caf/io/all.hpp"
#include <spdlog/spdlog.h>

#include "actors/gateway/client_gate.hpp"
#include "actors/gateway/info_report.hpp"
#include "actors/gateway/resp_parser.hpp"
#include "actors/gateway/resp_writer.hpp"
#include "actors/gateway/server_commands.hpp"
#include "actors/state_machine/kv_state.hpp"
#include "config/limits.hpp"
#include "messages/caf_messages.hpp"

namespace prez {

namespace {

/// Small reply builders over resp_writer.hpp, for replies written in one expression.
namespace resp {
std::string simple(std::string_view text) {
  std::string out;
  append_simple_string(out, text);
  return out;
}
/// `message` starts with its code ("ERR ...", "UNKNOWN ...").
std::string error(std::string_view message) {
  auto space = message.find(' ');
  std::string out;
  append_error_code(out, message.substr(0, space),
                    space == std::string_view::npos ? "" : message.substr(space + 1));
  return out;
}
std::string bulk(std::string_view bytes) {
  std::string out;
  append_bulk(out, bytes);
  return out;
}
std::string integer(std::int64_t value) {
  std::string out;
  append_integer(out, value);
  return out;
}
std::string array_header(std::size_t count) {
  std::string out;
  append_array_header(out, count);
  return out;
}
} // namespace resp

/// One reply position in a connection's pipeline. Replies leave in command order.
struct reply_slot {
  bool ready = false;
  bool close_after = false;
  std::string text;
};

/// The versions a WATCH read returned (kv_state::key_version), for the EXEC that follows.
struct watch_result {
  bool done = false;
  bool failed = false; ///< the WATCH got an error: the EXEC that depends on it aborts
  std::vector<std::pair<std::string, std::uint64_t>> versions;
};

/// A command waiting for its turn on a connection.
struct deferred_command {
  std::uint64_t slot;
  client_command command;
  bool write;
  /// EXEC only: the WATCHes it depends on; it is sent once all are answered.
  std::vector<std::shared_ptr<watch_result>> watches;
  /// WATCH only: where its versions go.
  std::shared_ptr<watch_result> watch_target;
};

struct connection_state {
  gateway_settings settings;
  caf::io::connection_handle handle;
  resp_parser parser;
  std::uint64_t client_id = 0;
  std::uint64_t next_seq = 0;
  /// slots[0] has number first_slot. Invariant: slots.size() <= limits::pipelined_commands_max +
  /// read batch.
  std::deque<reply_slot> slots;
  std::uint64_t first_slot = 0;
  bool reading_halted = false;
  bool closing = false;
  /// Writes sent to the session manager and not yet answered.
  std::size_t writes_in_flight = 0;
  /// Commands held back to keep per-connection order (see handle_command).
  std::deque<deferred_command> deferred;
  /// MULTI: commands queued until EXEC, and whether one of them was refused while queueing.
  bool in_multi = false;
  bool multi_refused = false;
  std::vector<std::vector<std::string>> queued;
  /// WATCH results since the last EXEC/DISCARD/UNWATCH, in order; filled when their reads return.
  std::vector<std::shared_ptr<watch_result>> watches;
  std::string client_name;
  std::uint64_t connection_number = 0;
  /// True once AUTH succeeded, or from the start when no requirepass is set.
  bool authenticated = true;
  caf::actor acceptor; ///< the gateway's listening broker (client counts for INFO)
  static inline const char* name = "resp_connection";
};

using connection = caf::io::stateful_broker<connection_state>;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

void flush_ready(connection* self) {
  auto& st = self->state;
  bool wrote = false;
  bool close = false;
  auto& out = self->wr_buf(st.handle);
  while (!st.slots.empty() && st.slots.front().ready) {
    auto& slot = st.slots.front();
    out.insert(out.end(), slot.text.begin(), slot.text.end());
    close = close || slot.close_after;
    st.slots.pop_front();
    ++st.first_slot;
    wrote = true;
    if (close) break;
  }
  if (wrote) self->flush(st.handle);
  if (close || out.size() > limits::reply_buffer_bytes_max) {
    if (!close) {
      spdlog::warn("client {}: reply buffer over {} bytes; disconnecting a slow reader",
                   st.client_id, limits::reply_buffer_bytes_max);
      // Drop what it has not taken: CAF's close still writes out its buffers before the FIN.
      out.clear();
      out.shrink_to_fit();
    }
    st.closing = true;
    self->close(st.handle);
    self->quit();
    return;
  }
  if (st.reading_halted && st.slots.size() < limits::pipelined_commands_max / 2) {
    st.reading_halted = false;
    self->trigger(st.handle);
  }
}

void fill(connection* self, std::uint64_t slot, std::string text, bool close_after = false) {
  auto& st = self->state;
  if (st.closing || slot < st.first_slot || slot - st.first_slot >= st.slots.size()) return;
  auto& s = st.slots[slot - st.first_slot];
  s.ready = true;
  s.text = std::move(text);
  s.close_after = close_after;
  flush_ready(self);
}

/// The parameters CONFIG GET reports: what clients probe, answered truthfully for prez.
std::vector<std::pair<std::string, std::string>> config_parameters(const gateway_settings& g) {
  return {{"appendfsync", "always"},
          {"appendonly", "yes"},
          {"bind", g.bind},
          {"cluster-node-timeout", std::to_string(g.node_timeout_ms)},
          {"databases", "1"},
          {"maxclients", "10000"},
          {"maxmemory", "0"},
          {"port", std::to_string(g.port)},
          {"save", ""},
          {"timeout", "0"}};
}

std::uint64_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return pages_resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

/// INFO: asks the node (Raft and state machine) and the acceptor (clients), then formats.
void handle_info(connection* self, std::uint64_t slot, std::string section) {
  auto& st = self->state;
  self->request(st.settings.node, std::chrono::seconds(3), status_atom::value)
      .then(
          [=](const node_status& node) {
            self->request(self->state.acceptor, std::chrono::seconds(3), status_atom::value)
                .then(
                    [=](const gateway_status& gateway) {
                      const auto& st = self->state;
                      info_snapshot i;
                      i.node_name = st.settings.node_name;
                      i.process_id = static_cast<std::uint64_t>(::getpid());
                      i.run_id = st.settings.incarnation;
                      i.tcp_port = st.settings.port;
                      i.uptime_s = static_cast<std::uint64_t>(
                          std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::steady_clock::now() - st.settings.started)
                              .count());
                      i.connected_clients = gateway.connected;
                      i.total_connections = gateway.accepted_total;
                      i.used_memory = node.applied.bytes;
                      i.rss_bytes = rss_bytes();
                      i.role = raft::to_string(node.raft.current_role);
                      i.term = node.raft.term;
                      i.leader = node.raft.leader;
                      i.leader_address = node.leader_address;
                      i.commit_index = node.raft.commit_index;
                      i.last_applied = node.applied.last_applied;
                      i.last_log_index = node.raft.last_log_index;
                      i.persisted_index = node.raft.persisted_index;
                      i.voters = node.voters;
                      i.role_epoch = node.role_epoch;
                      i.peer_frames_refused = node.frames_refused;
                      i.keys = node.applied.keys;
                      i.expiring = node.applied.expiring;
                      fill(self, slot, resp::bulk(format_info(i, section)));
                    },
                    [=](const caf::error&) {
                      fill(self, slot, resp::error("ERR INFO unavailable"));
                    });
          },
          [=](const caf::error&) { fill(self, slot, resp::error("ERR INFO unavailable")); });
}

/// CLIENT ID, SETNAME, GETNAME, LIST, INFO (LIST and INFO show this connection only).
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
    fill(self, slot, st.client_name.empty() ? std::string{"$-1\r\n"} : resp::bulk(st.client_name));
  } else if ((sub == "list" || sub == "info") && argv.size() == 2) {
    fill(self, slot, resp::bulk(describe()));
  } else if (sub == "setinfo" && argv.size() == 4) {
    fill(self, slot, resp::simple("OK"));
  } else if (sub != "id" && sub != "setname" && sub != "getname" && sub != "list" &&
             sub != "info" && sub != "setinfo") {
    fill(self, slot,
         resp::error("ERR unknown subcommand '" + (argv.size() > 1 ? argv[1] : std::string{}) +
                     "'. Try CLIENT HELP."));
  } else {
    fill(self, slot,
         resp::error("ERR unknown subcommand or wrong number of arguments for '" +
                     (argv.size() > 1 ? argv[1] : std::string{}) + "'. Try CLIENT HELP."));
  }
}

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
  } else if (name == "quit") {
    fill(self, slot, resp::simple("OK"), true);
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
    fill(self, slot, config_reply(argv, config_parameters(st.settings)));
  } else if (name == "client") {
    handle_client(self, slot, argv);
  } else if (name == "hello") {
    if (argv.size() >= 2 && argv[1] != "2")
      return fill(self, slot, resp::error("NOPROTO sorry, this protocol version is not supported")),
             true;
    std::string out = resp::array_header(14) + resp::bulk("server") + resp::bulk("redis") +
                      resp::bulk("version") + resp::bulk("7.0.0") + resp::bulk("proto") +
                      resp::integer(2) + resp::bulk("id") +
                      resp::integer(static_cast<std::int64_t>(st.connection_number)) +
                      resp::bulk("mode") + resp::bulk("standalone") + resp::bulk("role") +
                      resp::bulk("master") + resp::bulk("modules") + resp::array_header(0);
    fill(self, slot, std::move(out));
  } else if (name == "reset") {
    st.in_multi = false;
    st.queued.clear();
    st.watches.clear();
    st.client_name.clear();
    fill(self, slot, resp::simple("RESET"));
  } else if (name == "time") {
    auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    fill(self, slot,
         resp::array_header(2) + resp::bulk(std::to_string(now / 1000000)) +
             resp::bulk(std::to_string(now % 1000000)));
  } else if (name == "info") {
    handle_info(self, slot, argv.size() > 1 ? lower(argv[1]) : "");
  } else {
    return false;
  }
  return true;
}

void dispatch(connection* self, deferred_command&& item);

bool watches_done(const std::vector<std::shared_ptr<watch_result>>& watches) {
  return std::all_of(watches.begin(), watches.end(), [](const auto& w) { return w->done; });
}

/// May `item` be sent now? Reads wait for earlier writes of the connection (read-your-writes);
/// an EXEC waits for the WATCH reads it depends on; everything keeps its order.
bool ready(const connection_state& st, const deferred_command& item) {
  return (item.write || st.writes_in_flight == 0) && watches_done(item.watches);
}

/// Sends deferred commands, in order, while the one in front may go.
void release_deferred(connection* self) {
  auto& st = self->state;
  while (!st.deferred.empty() && ready(st, st.deferred.front())) {
    auto item = std::move(st.deferred.front());
    st.deferred.pop_front();
    dispatch(self, std::move(item));
  }
}

/// Parses a WATCH read's reply (an array of integers) into `target`.
void take_watch_reply(watch_result& target, const std::vector<std::string>& keys,
                      const std::string& reply) {
  target.done = true;
  std::size_t pos = 0;
  auto line = [&]() -> std::string {
    auto end = reply.find("\r\n", pos);
    if (end == std::string::npos) return {};
    auto text = reply.substr(pos, end - pos);
    pos = end + 2;
    return text;
  };
  auto header = line();
  if (header.empty() || header[0] != '*') {
    target.failed = true;
    return;
  }
  for (std::size_t i = 1; i < keys.size(); ++i) {
    auto item = line();
    if (item.size() < 2 || item[0] != ':') {
      target.failed = true;
      return;
    }
    target.versions.emplace_back(keys[i], std::stoull(item.substr(1)));
  }
}

void dispatch(connection* self, deferred_command&& item) {
  auto& st = self->state;
  const bool write = item.write;
  if (write) ++st.writes_in_flight;
  if (!item.watches.empty()) {
    bool aborted = false;
    for (const auto& w : item.watches) {
      aborted = aborted || w->failed;
      item.command.watched.insert(item.command.watched.end(), w->versions.begin(),
                                  w->versions.end());
    }
    if (aborted) { // a WATCH that could not be confirmed: abort the transaction, as a changed key
      --st.writes_in_flight;
      fill(self, item.slot, "*-1\r\n");
      return;
    }
  }
  auto slot = item.slot;
  auto target = std::move(item.watch_target);
  auto keys = target ? item.command.argv : std::vector<std::string>{};
  auto done = [=](std::string reply) {
    if (target) {
      take_watch_reply(*target, keys, reply);
      if (!target->failed) reply = resp::simple("OK");
    }
    fill(self, slot, std::move(reply));
    if (write) --self->state.writes_in_flight;
    release_deferred(self);
  };
  self->request(st.settings.session, st.settings.reply_deadline, command_atom::value,
                std::move(item.command))
      .then([=](std::string& reply) { done(std::move(reply)); },
            [=](const caf::error&) {
              done(resp::error("UNKNOWN no answer from the cluster in time; a write may or may not "
                               "have been applied"));
            });
}

/// Queues `item` behind anything waiting, or sends it at once.
void submit(connection* self, deferred_command&& item) {
  auto& st = self->state;
  if (!st.deferred.empty() || !ready(st, item)) {
    st.deferred.push_back(std::move(item));
    return;
  }
  dispatch(self, std::move(item));
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
    if (st.queued.empty() && watches.empty()) return fill(self, slot, resp::array_header(0)), true;
    client_command command{st.client_id, ++st.next_seq, 0, {"EXEC"}, std::move(st.queued), {}};
    st.queued.clear();
    if (command.transaction.empty()) // only WATCH: nothing to apply, but a watched change aborts
      command.transaction.push_back({"EXISTS", "__prez_exec_noop__"});
    submit(self, {slot, std::move(command), true, std::move(watches), nullptr});
  } else if (name == "watch") {
    if (!arity(argv.size() >= 2)) return true;
    if (st.in_multi)
      return fill(self, slot, resp::error("ERR WATCH inside MULTI is not allowed")), true;
    auto target = std::make_shared<watch_result>();
    st.watches.push_back(target);
    argv[0] = "WATCH";
    client_command command{st.client_id, ++st.next_seq, 0, std::move(argv), {}, {}};
    submit(self, {slot, std::move(command), false, {}, std::move(target)});
  } else if (name == "unwatch") {
    if (!arity(argv.size() == 1)) return true;
    st.watches.clear();
    fill(self, slot, resp::simple("OK"));
  } else {
    return false;
  }
  return true;
}

/// Checks a password (and user: only "default" exists) and marks the connection authenticated.
/// Returns the error reply, empty on success.
std::string authenticate(connection* self, const std::string* user, const std::string& password) {
  auto& st = self->state;
  if (st.settings.requirepass.empty())
    return resp::error("ERR AUTH <password> called without any password configured for the "
                       "default user. Are you sure your configuration is correct?");
  bool user_ok = user == nullptr || *user == "default";
  if (!equal_constant_time(password, st.settings.requirepass) || !user_ok)
    return resp::error("WRONGPASS invalid username-password pair or user is disabled.");
  st.authenticated = true;
  st.parser.set_authenticated(true);
  return {};
}

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
  if (name == "hello" && argv.size() >= 5 && lower(argv[2]) == "auth") {
    auto error = authenticate(self, &argv[3], argv[4]);
    if (!error.empty()) return fill(self, slot, error), true;
    argv.resize(2); // HELLO <proto> answered by handle_local
    return false;
  }
  if (st.authenticated || name == "quit") return false;
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

void handle_command(connection* self, std::vector<std::string>&& argv) {
  auto& st = self->state;
  auto slot = st.first_slot + st.slots.size();
  st.slots.emplace_back();
  auto name = lower(argv[0]);
  if (handle_auth(self, slot, name, argv)) return;
  if (handle_transaction(self, slot, name, argv)) return;
  if (!st.in_multi && handle_local(self, slot, argv)) return;
  std::string error;
  auto kind = classify(argv, error);
  std::size_t command_bytes = 0;
  for (const auto& arg : argv)
    command_bytes += arg.size();
  if (error.empty() && command_bytes > limits::command_bytes_max)
    error = resp::error("ERR command too large: its arguments exceed " +
                        std::to_string(limits::command_bytes_max) + " bytes");
  if (st.in_multi) {
    // Inside MULTI only commands of the data set are queued; a refused one dooms the EXEC.
    if (error.empty() && kind == command_kind::local)
      error = resp::error("ERR '" + name + "' is not allowed inside MULTI in prez");
    if (!error.empty()) {
      st.multi_refused = true;
      return fill(self, slot, error);
    }
    st.queued.push_back(std::move(argv));
    return fill(self, slot, resp::simple("QUEUED"));
  }
  if (kind == command_kind::unknown || kind == command_kind::local || !error.empty()) {
    fill(self, slot, error.empty() ? resp::error("ERR unknown command '" + name + "'") : error);
    return;
  }
  bool write = kind == command_kind::write;
  client_command command{st.client_id, ++st.next_seq, 0, std::move(argv), {}, {}};
  submit(self, {slot, std::move(command), write, {}, nullptr});
}

caf::behavior connection_actor(connection* self, caf::io::connection_handle handle,
                               gateway_settings settings, std::uint64_t client_id,
                               std::uint64_t connection_number, caf::actor acceptor) {
  auto& st = self->state;
  st.connection_number = connection_number;
  st.acceptor = std::move(acceptor);
  st.settings = std::move(settings);
  st.handle = handle;
  st.client_id = client_id;
  st.authenticated = st.settings.requirepass.empty();
  st.parser.set_authenticated(st.authenticated);
  self->configure_read(handle, caf::io::receive_policy::at_most(limits::read_chunk_bytes));
  if (refused_by_protected_mode(st.settings.protected_mode, !st.settings.requirepass.empty(),
                                self->remote_addr(handle))) {
    // Redis's protected mode: no password set and not on loopback: explain, then hang up.
    auto slot = st.first_slot + st.slots.size();
    st.slots.emplace_back();
    fill(self, slot,
         resp::error("DENIED prez is running in protected mode because protected mode is enabled "
                     "and no password is set. Connect from the loopback interface, set "
                     "requirepass in prez.conf, or set protected-mode no."),
         true);
  }
  return {
      [=](const caf::io::new_data_msg& msg) {
        auto& st = self->state;
        if (st.closing) return;
        std::vector<std::vector<std::string>> commands;
        bool ok = st.parser.feed(msg.buf.data(), msg.buf.size(), commands);
        for (auto& argv : commands)
          if (!argv.empty()) handle_command(self, std::move(argv));
        if (!ok) {
          auto slot = st.first_slot + st.slots.size();
          st.slots.emplace_back();
          spdlog::debug("client {}: {}", st.client_id, st.parser.error());
          fill(self, slot, resp::error("ERR " + st.parser.error()), true);
          return;
        }
        if (!st.reading_halted && st.slots.size() >= limits::pipelined_commands_max) {
          st.reading_halted = true;
          self->halt(st.handle);
        }
      },
      [=](const caf::io::connection_closed_msg&) { self->quit(); },
  };
}

struct acceptor_state {
  gateway_settings settings;
  std::uint64_t connections = 0; ///< accepted since start
  std::uint64_t connected = 0;   ///< open now
  static inline const char* name = "resp_gateway";
};

using acceptor = caf::io::stateful_broker<acceptor_state>;

/// Cluster-unique client ids: a mix of this start's random incarnation and a counter.
std::uint64_t make_client_id(std::uint64_t incarnation, std::uint64_t counter) {
  std::uint64_t z = incarnation + counter * 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

caf::behavior acceptor_actor(acceptor* self, caf::io::doorman_ptr doorman,
                             gateway_settings settings) {
  self->state.settings = std::move(settings);
  self->add_doorman(std::move(doorman));
  self->set_down_handler([=](caf::down_msg&) { --self->state.connected; });
  return {
      [=](const caf::io::new_connection_msg& msg) {
        auto& st = self->state;
        auto id = make_client_id(st.settings.incarnation, ++st.connections);
        auto worker = self->fork(connection_actor, msg.handle, st.settings, id, st.connections,
                                 caf::actor_cast<caf::actor>(self));
        self->monitor(worker);
        ++st.connected;
      },
      [=](status_atom) {
        return gateway_status{self->state.connected, self->state.connections};
      },
  };
}

} // namespace

caf::expected<caf::actor> spawn_resp_gateway(caf::actor_system& system,
                                             const gateway_settings& settings) {
  auto& mm = system.middleman();
  auto doorman = mm.backend().new_tcp_doorman(settings.port, settings.bind.c_str(), true);
  if (!doorman) return doorman.error();
  return mm.spawn_broker(acceptor_actor, std::move(*doorman), settings);
}

} // namespace prez
