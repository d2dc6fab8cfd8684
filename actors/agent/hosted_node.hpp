#pragma once
// What an agent writes for the node it hosts, decided in pure code (actors/agent/agent_actor.cpp
// does the file work): the node's prez.conf, with the paths the agent decides, and the record
// `<dir>/hosted.conf` that brings the node back after the agent restarts (docs/decisions.md D26).

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace prez {

/// The prez.conf an agent writes for a hosted node: the launcher's text, which must leave `dir`
/// and `cluster-config-file` to the agent (a remote request never chooses paths on the agent's
/// host), followed by the agent's own `dir data` and `cluster-config-file nodes.conf`, relative
/// to the node's folder. The error names the setting that was refused.
struct hosted_conf_error {
  std::string message;
};
std::variant<std::string, hosted_conf_error> hosted_prez_conf(std::string_view launcher_conf);

/// hosted.conf's one line for node `name`.
std::string hosted_record(std::string_view name);

/// The node named by a hosted.conf's text, or nullopt when the text is not one line
/// `node <valid name>` (comments and quoting as in prez.conf).
std::optional<std::string> parse_hosted_record(std::string_view text);

} // namespace prez
