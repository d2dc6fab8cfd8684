// Redis commands over kv_state. Each command is one row of a table (name, arity, kind, syntax
// check, handler), so adding the next hundred commands is adding rows and handlers. Replies are
// RESP2 exactly as Redis 7 sends them; the few RESP encoders needed live here, so this file
// depends on nothing but the standard library.

#include "actors/state_machine/kv_state.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

namespace prez {

namespace {

using argv_type = std::vector<std::string>;

// --- RESP2 encoding -----------------------------------------------------------------------------

std::string simple_string(std::string_view text) {
  return "+" + std::string(text) + "\r\n";
}

/// An error reply. Precondition: `message` holds no CR or LF (sanitize() user text first).
std::string error_reply(std::string_view message) {
  return "-" + std::string(message) + "\r\n";
}

std::string bulk(std::string_view data) {
  return "$" + std::to_string(data.size()) + "\r\n" + std::string(data) + "\r\n";
}

std::string null_bulk() {
  return "$-1\r\n";
}

std::string integer(long long value) {
  return ":" + std::to_string(value) + "\r\n";
}

const std::string_view syntax_error = "ERR syntax error";
const std::string_view wrong_type =
    "WRONGTYPE Operation against a key holding the wrong kind of value";

/// Client text quoted in an error: cut at `bytes_max` and at the first NUL (Redis formats with
/// printf's %s), CR and LF replaced by spaces so the reply stays one line.
std::string sanitize(std::string_view text, std::size_t bytes_max) {
  text = text.substr(0, std::min(bytes_max, text.find('\0')));
  std::string out(text);
  std::replace(out.begin(), out.end(), '\r', ' ');
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

/// Redis 7's reply to an unknown command, including its 128-byte budget for quoted arguments.
std::string unknown_command_reply(const argv_type& argv) {
  const std::string name = argv.empty() ? std::string() : sanitize(argv[0], 128);
  std::string args;
  for (std::size_t i = 1; i < argv.size() && args.size() < 128; ++i)
    args += "'" + sanitize(argv[i], 128 - args.size()) + "' ";
  return error_reply("ERR unknown command '" + name + "', with args beginning with: " + args);
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// --- SET options --------------------------------------------------------------------------------

/// SET key value [NX | XX] [GET] [KEEPTTL]. Expiry options (EX, PX, EXAT, PXAT) are refused with
/// a syntax error until keys can expire. Redis 7 rules: NX and XX exclude each other; repeats
/// are accepted; NX may be combined with GET.
struct set_options {
  bool only_if_missing = false; // NX
  bool only_if_present = false; // XX
  bool return_old = false;      // GET
};

std::optional<set_options> parse_set_options(const argv_type& argv) {
  set_options options;
  for (std::size_t i = 3; i < argv.size(); ++i) {
    if (argv[i].size() > 7) return std::nullopt; // longer than any option: skip lowercasing
    const std::string option = lowercase(argv[i]);
    if (option == "nx" && !options.only_if_present)
      options.only_if_missing = true;
    else if (option == "xx" && !options.only_if_missing)
      options.only_if_present = true;
    else if (option == "get")
      options.return_old = true;
    else if (option == "keepttl")
      continue; // no key has a TTL yet: keeping it is a no-op
    else
      return std::nullopt;
  }
  return options;
}

std::string check_set(const argv_type& argv) {
  return parse_set_options(argv) ? std::string() : error_reply(syntax_error);
}

std::string check_ping(const argv_type& argv) {
  return argv.size() > 2 ? error_reply("ERR wrong number of arguments for 'ping' command")
                         : std::string();
}

// --- local commands -----------------------------------------------------------------------------

std::string ping_command(const argv_type& argv) {
  return argv.size() == 1 ? simple_string("PONG") : bulk(argv[1]);
}

std::string echo_command(const argv_type& argv) {
  return bulk(argv[1]);
}

} // namespace

/// The command table and the handlers that need kv_state's internals.
struct kv_commands {
  using write_handler = std::string (*)(kv_state&, const argv_type&, std::uint64_t time_ms);
  using read_handler = std::string (*)(const kv_state&, const argv_type&);
  using local_handler = std::string (*)(const argv_type&);

  /// One command. `arity` follows Redis: n means exactly n arguments including the name, -n
  /// means at least n. Exactly one handler is set, matching `kind`.
  struct spec {
    std::string_view name; ///< lowercase
    int arity;
    command_kind kind;
    std::string (*check)(const argv_type&); ///< syntax beyond arity; empty string when fine
    write_handler write;
    read_handler read;
    local_handler local;
  };

  static std::string set(kv_state& state, const argv_type& argv, std::uint64_t) {
    const auto options = parse_set_options(argv);
    if (!options) return error_reply(syntax_error); // checked in classify; never trust the log
    const auto found = state.keys_.find(argv[1]);
    const bool present = found != state.keys_.end();
    std::string reply = simple_string("OK");
    if (options->return_old) {
      if (!present)
        reply = null_bulk();
      else if (const auto* old = std::get_if<std::string>(&found->second))
        reply = bulk(*old);
      else
        return error_reply(wrong_type);
    }
    if ((options->only_if_missing && present) || (options->only_if_present && !present))
      return options->return_old ? reply : null_bulk();
    state.put(argv[1], argv[2]);
    return reply;
  }

  static std::string del(kv_state& state, const argv_type& argv, std::uint64_t) {
    long long removed = 0;
    for (std::size_t i = 1; i < argv.size(); ++i)
      removed += state.erase(argv[i]) ? 1 : 0;
    return integer(removed);
  }

  static std::string get(const kv_state& state, const argv_type& argv) {
    const auto found = state.keys_.find(argv[1]);
    if (found == state.keys_.end()) return null_bulk();
    if (const auto* text = std::get_if<std::string>(&found->second)) return bulk(*text);
    return error_reply(wrong_type);
  }

  static std::string exists(const kv_state& state, const argv_type& argv) {
    long long count = 0;
    for (std::size_t i = 1; i < argv.size(); ++i)
      count += state.keys_.count(argv[i]) > 0 ? 1 : 0;
    return integer(count);
  }

  /// Sorted by name (asserted below), so lookup is a binary search.
  static constexpr std::array<spec, 6> table = {{
      {"del", -2, command_kind::write, nullptr, &del, nullptr, nullptr},
      {"echo", 2, command_kind::local, nullptr, nullptr, nullptr, &echo_command},
      {"exists", -2, command_kind::read, nullptr, nullptr, &exists, nullptr},
      {"get", 2, command_kind::read, nullptr, nullptr, &get, nullptr},
      {"ping", -1, command_kind::local, &check_ping, nullptr, nullptr, &ping_command},
      {"set", -3, command_kind::write, &check_set, &set, nullptr, nullptr},
  }};

  static_assert(std::is_sorted(table.begin(), table.end(),
                               [](const spec& a, const spec& b) { return a.name < b.name; }));

  static const spec* find(std::string_view name) {
    constexpr std::size_t name_bytes_max = 32; // longer than any command name
    if (name.size() > name_bytes_max) return nullptr;
    const std::string lower = lowercase(name);
    const auto it =
        std::lower_bound(table.begin(), table.end(), lower,
                         [](const spec& s, const std::string& n) { return s.name < n; });
    return it != table.end() && it->name == lower ? &*it : nullptr;
  }

  /// The spec for a runnable command, or nullptr with `error` set.
  static const spec* validate(const argv_type& argv, std::string& error) {
    error.clear();
    const spec* command = argv.empty() ? nullptr : find(argv[0]);
    if (command == nullptr) {
      error = unknown_command_reply(argv);
      return nullptr;
    }
    const auto count = static_cast<long long>(argv.size());
    if ((command->arity > 0 && count != command->arity) ||
        (command->arity < 0 && count < -command->arity)) {
      error = error_reply("ERR wrong number of arguments for '" + std::string(command->name) +
                          "' command");
      return nullptr;
    }
    if (command->check != nullptr) error = command->check(argv);
    return error.empty() ? command : nullptr;
  }
};

command_kind classify(const std::vector<std::string>& argv, std::string& error_reply) {
  const kv_commands::spec* command = kv_commands::validate(argv, error_reply);
  return command == nullptr ? command_kind::unknown : command->kind;
}

std::string run_local(const std::vector<std::string>& argv) {
  std::string error;
  const kv_commands::spec* command = kv_commands::validate(argv, error);
  if (command == nullptr) return error;
  if (command->kind != command_kind::local)
    return error_reply("ERR internal error: '" + std::string(command->name) +
                       "' is not a local command");
  return command->local(argv);
}

std::string kv_state::apply(const std::vector<std::string>& argv, std::uint64_t time_ms) {
  std::string error;
  const kv_commands::spec* command = kv_commands::validate(argv, error);
  if (command == nullptr) return error;
  switch (command->kind) {
    case command_kind::write:
      return command->write(*this, argv, time_ms);
    case command_kind::read:
      return command->read(*this, argv);
    case command_kind::local:
      return command->local(argv);
    case command_kind::unknown:
      break;
  }
  return error_reply("ERR internal error: command without a handler");
}

std::string kv_state::read(const std::vector<std::string>& argv) const {
  std::string error;
  const kv_commands::spec* command = kv_commands::validate(argv, error);
  if (command == nullptr) return error;
  if (command->kind == command_kind::read) return command->read(*this, argv);
  if (command->kind == command_kind::local) return command->local(argv);
  return error_reply("ERR internal error: '" + std::string(command->name) +
                     "' is not a read command");
}

std::size_t kv_state::value_bytes(const value& v) {
  return std::visit([](const auto& alternative) { return alternative.size(); }, v);
}

void kv_state::put(const std::string& key, value v) {
  const std::size_t added = value_bytes(v);
  auto [it, inserted] = keys_.try_emplace(key, std::move(v));
  if (inserted) {
    bytes_ += key.size() + added;
    return;
  }
  bytes_ -= value_bytes(it->second);
  // it->second was not moved from when the key existed; assign the new value now.
  it->second = std::move(v);
  bytes_ += added;
}

bool kv_state::erase(const std::string& key) {
  const auto found = keys_.find(key);
  if (found == keys_.end()) return false;
  bytes_ -= key.size() + value_bytes(found->second);
  keys_.erase(found);
  return true;
}

} // namespace prez
