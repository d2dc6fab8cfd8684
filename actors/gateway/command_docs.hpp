#pragma once
// COMMAND DOCS: summary, group, version and argument tree of every command prez answers, in
// Redis 7's reply shape. redis-cli builds its inline hints and HELP pages from this reply, so an
// argument tree that renders wrongly shows up as a wrong hint. Pure.
//
// Each command's arguments are written as one syntax line in a small language:
//   key value            plain arguments; the name picks the type (key, integer, ...)
//   name#double          the same with its type spelled out
//   NX                   a pure token
//   EX:seconds           a token followed by a value
//   [ ... ]  ( ... )     an optional / a required group; `a|b` inside makes it a choice
//   [label= ...]         names the group (otherwise its members' names, joined by '-')
//   x...                 the argument (or group) may repeat

#include <string>
#include <string_view>
#include <vector>

namespace prez {

/// One argument of a command, as COMMAND DOCS describes it.
struct doc_argument {
  std::string name;
  std::string type;  ///< key, string, integer, double, pattern, unix-time, pure-token, oneof, block
  std::string token; ///< empty when the argument has none
  bool optional = false;
  bool multiple = false;
  std::vector<doc_argument> arguments; ///< members of a oneof or block
};

/// Parses a syntax line; throws std::invalid_argument naming the position on a malformed line
/// (the lines are compiled into prez, and a unit test parses every one).
std::vector<doc_argument> parse_doc_syntax(std::string_view syntax);

/// The syntax line of a documented command or subcommand ("set", "client|id"); nullptr if none.
const std::string_view* doc_syntax(std::string_view name);

/// Every documented command name, subcommands as "parent|sub".
std::vector<std::string_view> documented_commands();

/// The reply to COMMAND DOCS [name...]: a flat array of name, doc pairs; unknown names are
/// skipped, as Redis does. `names` are the arguments after DOCS.
std::string command_docs_reply(const std::vector<std::string>& names);

} // namespace prez
