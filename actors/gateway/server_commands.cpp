#include "actors/gateway/server_commands.hpp"

#include <algorithm>
#include <cctype>

#include "actors/gateway/command_docs.hpp"
#include "actors/gateway/command_keys.hpp"
#include "actors/gateway/resp_writer.hpp"
#include "actors/state_machine/kv_commands.hpp"
#include "actors/state_machine/kv_state.hpp"
#include "config/runtime_config.hpp"

namespace prez {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// One COMMAND INFO entry in Redis 7's ten-field shape.
void append_info(std::string& out, const command_description& c) {
  append_array_header(out, 10);
  append_bulk(out, c.name);
  append_integer(out, c.arity);
  std::vector<std::string_view> flags;
  if (c.kind == command_kind::write)
    flags.push_back("write");
  else if (c.kind == command_kind::read)
    flags.push_back("readonly");
  else
    flags.push_back("fast");
  append_array_header(out, flags.size());
  for (auto f : flags)
    append_simple_string(out, f);
  bool has_keys = !keyless_command(c.name);
  bool many = c.arity < 0 && c.name != "set" && c.name != "getex";
  int first_key = has_keys ? 1 : 0;
  int last_key = has_keys ? (many ? -1 : 1) : 0;
  if (c.name == "copy" || c.name == "lcs") last_key = 2; // exactly two keys, then options
  if (c.name == "object") first_key = last_key = 2;      // OBJECT <subcommand> <key>
  if (c.name == "sort" || c.name == "sort_ro" || c.name == "restore" || c.name == "bitfield" ||
      c.name == "bitfield_ro")
    last_key = 1;
  // Keys, then a timeout.
  if (c.name == "blpop" || c.name == "brpop" || c.name == "bzpopmin" || c.name == "bzpopmax")
    last_key = -2;
  if (c.name == "blmove" || c.name == "brpoplpush") last_key = 2;
  append_integer(out, first_key);
  append_integer(out, last_key);
  append_integer(out, has_keys ? 1 : 0);
  for (int i = 0; i < 4; ++i) // ACL categories, tips, key specs, subcommands
    append_array_header(out, 0);
}

const command_description* find(const std::vector<command_description>& all,
                                const std::string& name) {
  auto wanted = lower(name);
  for (const auto& c : all)
    if (c.name == wanted) return &c;
  return nullptr;
}

} // namespace

std::string command_reply(const std::vector<std::string>& argv) {
  auto all = describe_commands();
  auto sub = argv.size() > 1 ? lower(argv[1]) : "";
  std::string out;
  if (sub.empty() || sub == "info") {
    if (argv.size() <= 2) {
      append_array_header(out, all.size());
      for (const auto& c : all)
        append_info(out, c);
      return out;
    }
    append_array_header(out, argv.size() - 2);
    for (std::size_t i = 2; i < argv.size(); ++i) {
      if (const auto* c = find(all, argv[i]))
        append_info(out, *c);
      else
        append_null_array(out);
    }
  } else if (sub == "count" && argv.size() == 2) {
    append_integer(out, static_cast<std::int64_t>(all.size()));
  } else if (sub == "list" && argv.size() == 2) {
    append_array_header(out, all.size());
    for (const auto& c : all)
      append_bulk(out, c.name);
  } else if (sub == "getkeys" || sub == "getkeysandflags") {
    if (argv.size() < 4) { // COMMAND GETKEYS <command> <arg> [arg ...], as Redis 7.0 checks
      append_error(out, "wrong number of arguments for 'command|" + sub + "' command");
      return out;
    }
    const auto found = find_command_keys(std::vector<std::string>(argv.begin() + 2, argv.end()));
    if (!found.error.empty()) {
      append_error(out, found.error);
      return out;
    }
    append_array_header(out, found.keys.size());
    for (const auto& key : found.keys) {
      if (sub == "getkeysandflags") append_array_header(out, 2);
      append_bulk(out, argv[key.position + 2]);
      if (sub != "getkeysandflags") continue;
      append_array_header(out, key.flags.size());
      for (const auto flag : key.flags)
        append_simple_string(out, flag);
    }
  } else if (sub == "docs") {
    return command_docs_reply(std::vector<std::string>(argv.begin() + 2, argv.end()));
  } else {
    append_error(out, "unknown subcommand or wrong number of arguments for '" +
                          (argv.size() > 1 ? argv[1] : std::string{}) + "'. Try COMMAND HELP.");
  }
  return out;
}

std::string config_shape_error(const std::vector<std::string>& argv, std::string& sub) {
  std::string out;
  if (argv.size() < 2) {
    append_error(out, "wrong number of arguments for 'config' command");
    return out;
  }
  sub = lower(argv[1]);
  const bool arity_ok = sub == "get"         ? argv.size() >= 3
                        : sub == "set"       ? argv.size() >= 4
                        : sub == "resetstat" ? argv.size() == 2
                        : sub == "rewrite"   ? argv.size() == 2
                        : sub == "help"      ? argv.size() == 2
                                             : true;
  if (sub != "get" && sub != "set" && sub != "resetstat" && sub != "rewrite" && sub != "help")
    append_error(out, "unknown subcommand '" + argv[1] + "'. Try CONFIG HELP.");
  else if (!arity_ok)
    append_error(out, "wrong number of arguments for 'config|" + sub + "' command");
  return out;
}

std::string config_get_reply(const runtime_config& config, const std::vector<std::string>& argv) {
  const auto found = config.get(std::vector<std::string>(argv.begin() + 2, argv.end()));
  std::string out;
  append_array_header(out, found.size() * 2);
  for (const auto& [name, value] : found) {
    append_bulk(out, name);
    append_bulk(out, value);
  }
  return out;
}

std::string config_help_reply() {
  static constexpr std::string_view lines[] = {
      "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "GET <pattern>",
      "    Return parameters matching the glob-like <pattern> and their values.",
      "SET <directive> <value>",
      "    Set the configuration <directive> to <value> (node-local, never replicated).",
      "RESETSTAT",
      "    Reset statistics reported by the INFO command.",
      "REWRITE",
      "    Rewrite prez.conf with the values set by CONFIG SET.",
      "HELP",
      "    Print this help."};
  return resp::simple_array(lines);
}

} // namespace prez
