#include "actors/gateway/server_commands.hpp"

#include <algorithm>
#include <cctype>

#include "actors/gateway/command_docs.hpp"
#include "actors/gateway/resp_writer.hpp"
#include "actors/state_machine/kv_commands.hpp"
#include "actors/state_machine/kv_state.hpp"

namespace prez {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// Commands whose arguments hold no key (first key 0 in COMMAND INFO).
bool keyless(std::string_view name) {
  static constexpr std::string_view names[] = {
      "auth",      "client",  "command", "config", "dbsize", "discard", "echo", "exec",
      "flushall",  "flushdb", "hello",   "info",   "keys",   "multi",   "ping", "quit",
      "randomkey", "reset",   "scan",    "select", "time",   "unwatch"};
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
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
  bool has_keys = !keyless(c.name);
  bool many = c.arity < 0 && c.name != "set" && c.name != "getex";
  append_integer(out, has_keys ? 1 : 0);
  append_integer(out, has_keys ? (many ? -1 : 1) : 0);
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
  } else if (sub == "docs") {
    return command_docs_reply(std::vector<std::string>(argv.begin() + 2, argv.end()));
  } else {
    append_error(out, "unknown subcommand or wrong number of arguments for '" +
                          (argv.size() > 1 ? argv[1] : std::string{}) + "'. Try COMMAND HELP.");
  }
  return out;
}

std::string config_reply(const std::vector<std::string>& argv,
                         const std::vector<std::pair<std::string, std::string>>& parameters) {
  std::string out;
  auto sub = argv.size() > 1 ? lower(argv[1]) : "";
  if (sub != "get") {
    append_error(out, "prez is configured by prez.conf: CONFIG supports only GET");
    return out;
  }
  if (argv.size() < 3) {
    append_error(out, "wrong number of arguments for 'config|get' command");
    return out;
  }
  std::vector<const std::pair<std::string, std::string>*> matched;
  for (const auto& p : parameters)
    for (std::size_t i = 2; i < argv.size(); ++i)
      if (kv::glob_match(lower(argv[i]), p.first)) {
        matched.push_back(&p);
        break;
      }
  append_array_header(out, matched.size() * 2);
  for (const auto* p : matched) {
    append_bulk(out, p->first);
    append_bulk(out, p->second);
  }
  return out;
}

} // namespace prez
