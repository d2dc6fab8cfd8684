#pragma once
// Agents: `prez-server --agent` starts a process that hosts no node until a launcher (`prez-ctl
// up`, `prez-ctl add`) spawns one there through CAF's remote spawning (docs/decisions.md D26).
//
// The launcher remote-spawns the actor type "prez-node" with one argument, a sealed spawn request
// (messages/spawn_request.hpp), then asks the spawned actor `(start_atom)` and gets a string:
// empty when the node runs, else why not. The agent checks the seal with its cluster secret
// before it reads anything, writes the node's prez.conf and nodes.conf under `<dir>/<node>/`
// (data in `<dir>/<node>/data`), starts the node in its own actor system (actors/node_runtime.hpp)
// and records it in `<dir>/hosted.conf`, so a restarted agent brings its node back from its data
// dir at once. One node per agent; spawning the node it already hosts is answered "running".
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "caf/fwd.hpp"

#include "actors/agent/agent_args.hpp"
#include "actors/node_runtime.hpp"

namespace prez {

/// What the agent process hosts; shared by the spawn factory and main (stop on SIGTERM).
class agent_host;

std::shared_ptr<agent_host> make_agent_host(agent_settings settings);

/// Registers the "prez-node" actor type; call before the actor system is built.
void add_agent_actor_types(caf::actor_system_config& cfg, std::shared_ptr<agent_host> host);

/// Once the actor system runs: brings back the node the agent hosted before it stopped (if any),
/// then opens the agent port. Returns the reason the agent cannot serve, empty on success.
std::string start_agent(caf::actor_system& system, agent_host& host, const caf::actor& watcher);

/// The node the agent hosts now, if any.
std::optional<node_runtime> hosted_node(agent_host& host);

} // namespace prez
