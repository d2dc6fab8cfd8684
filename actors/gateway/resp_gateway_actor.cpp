#include "actors/gateway/resp_gateway_actor.hpp"

#include <algorithm>
#include <cctype>
#include <deque>

#include "caf/all.hpp"
#include "caf/io/all.hpp"
#include <spdlog/spdlog.h>

#include "actors/gateway/resp_parser.hpp"
#include "actors/gateway/resp_writer.hpp"
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
  struct deferred_command {
    std::uint64_t slot;
    client_command command;
    bool write;
  };
  /// Commands held back to keep per-connection read-your-writes order (see handle_command).
  std::deque<deferred_command> deferred;
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
    if (!close)
      spdlog::warn("client {}: reply buffer over {} bytes; disconnecting a slow reader",
                   st.client_id, limits::reply_buffer_bytes_max);
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

std::string info_text(const connection_state& st, const std::string& raft_section,
                      const std::string& section) {
  std::string server = "# Server\r\nredis_version:7.0.0\r\nprez_version:0.1.0\r\nredis_mode:"
                       "standalone\r\nprocess_id:" +
                       std::to_string(::getpid()) +
                       "\r\ntcp_port:" + std::to_string(st.settings.port) +
                       "\r\nnode_name:" + st.settings.node_name + "\r\n";
  if (section == "raft") return raft_section;
  if (section == "server") return server;
  return server + "\r\n" + raft_section;
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
    fill(self, slot,
         argv[1] == "0" ? resp::simple("OK") : resp::error("ERR DB index is out of range"));
  } else if (name == "command") {
    auto sub = argv.size() > 1 ? lower(argv[1]) : "";
    if (sub == "count")
      fill(self, slot, resp::integer(0));
    else // COMMAND, COMMAND DOCS, COMMAND INFO: no metadata yet; redis-cli just shows no hints
      fill(self, slot, resp::array_header(0));
  } else if (name == "config") {
    if (argv.size() < 3 || lower(argv[1]) != "get")
      return fill(self, slot, resp::error("ERR CONFIG supports only GET here")), true;
    std::string out;
    std::size_t pairs = 0;
    for (std::size_t i = 2; i < argv.size(); ++i) {
      auto key = lower(argv[i]);
      if (key == "save" || key == "appendonly") {
        out += resp::bulk(key) + resp::bulk(key == "save" ? "" : "yes");
        ++pairs;
      }
    }
    fill(self, slot, resp::array_header(pairs * 2) + out);
  } else if (name == "info") {
    auto section = argv.size() > 1 ? lower(argv[1]) : "";
    self->request(st.settings.node, std::chrono::seconds(3), status_atom::value)
        .then(
            [=](const std::string& raft_section) {
              fill(self, slot, resp::bulk(info_text(self->state, raft_section, section)));
            },
            [=](const caf::error&) { fill(self, slot, resp::error("ERR INFO unavailable")); });
  } else {
    return false;
  }
  return true;
}

void dispatch(connection* self, std::uint64_t slot, client_command&& command, bool write);

/// Sends deferred commands once no write of this connection is in flight, up to the next read
/// that would have to wait again.
void release_deferred(connection* self) {
  auto& st = self->state;
  while (!st.deferred.empty()) {
    auto& next = st.deferred.front();
    if (!next.write && st.writes_in_flight > 0) return;
    auto item = std::move(next);
    st.deferred.pop_front();
    dispatch(self, item.slot, std::move(item.command), item.write);
  }
}

void dispatch(connection* self, std::uint64_t slot, client_command&& command, bool write) {
  auto& st = self->state;
  if (write) ++st.writes_in_flight;
  self->request(st.settings.session, st.settings.reply_deadline, command_atom::value,
                std::move(command))
      .then(
          [=](std::string& reply) {
            fill(self, slot, std::move(reply));
            if (write) {
              --self->state.writes_in_flight;
              release_deferred(self);
            }
          },
          [=](const caf::error&) {
            fill(self, slot,
                 resp::error("UNKNOWN no answer from the cluster in time; a write may or may not "
                             "have been applied"));
            if (write) {
              --self->state.writes_in_flight;
              release_deferred(self);
            }
          });
}

void handle_command(connection* self, std::vector<std::string>&& argv) {
  auto& st = self->state;
  auto slot = st.first_slot + st.slots.size();
  st.slots.emplace_back();
  if (handle_local(self, slot, argv)) return;
  std::string error;
  auto kind = classify(argv, error);
  if (kind == command_kind::unknown || !error.empty()) {
    fill(self, slot, error);
    return;
  }
  std::size_t command_bytes = 0;
  for (const auto& arg : argv)
    command_bytes += arg.size();
  if (command_bytes > limits::command_bytes_max) {
    fill(self, slot,
         resp::error("ERR command too large: its arguments exceed " +
                     std::to_string(limits::command_bytes_max) + " bytes"));
    return;
  }
  bool write = kind == command_kind::write;
  client_command command{st.client_id, ++st.next_seq, 0, std::move(argv)};
  // A pipelined read must see the writes sent before it on the same connection, and must not
  // see writes sent after it: it waits until earlier writes are answered, and everything behind
  // a waiting command waits too. Writes alone pipeline freely (the log keeps their order).
  if (!st.deferred.empty() || (!write && st.writes_in_flight > 0)) {
    st.deferred.push_back({slot, std::move(command), write});
    return;
  }
  dispatch(self, slot, std::move(command), write);
}

caf::behavior connection_actor(connection* self, caf::io::connection_handle handle,
                               gateway_settings settings, std::uint64_t client_id) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.handle = handle;
  st.client_id = client_id;
  self->configure_read(handle, caf::io::receive_policy::at_most(limits::read_chunk_bytes));
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
  std::uint64_t connections = 0;
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
  return {
      [=](const caf::io::new_connection_msg& msg) {
        auto& st = self->state;
        auto id = make_client_id(st.settings.incarnation, ++st.connections);
        self->fork(connection_actor, msg.handle, st.settings, id);
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
