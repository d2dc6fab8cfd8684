#pragma once
// The fail-stop watcher (docs/decisions.md D18): a node whose log, state machine, session manager,
// raft node or gateway acceptor has ended must not live on as a zombie that accepts clients and
// votes in nothing. The watcher monitors those actors and stops the process when one ends.

#include <exception>
#include <functional>
#include <string>

#include "caf/fwd.hpp"

namespace prez {

/// Stops the process: called at most once, with the name the actor was watched under and its
/// rendered exit reason. prez-server passes stop_process; tests pass a recorder.
using stop_process_fn = std::function<void(const std::string& actor, const std::string& reason)>;

/// Spawns the watcher. It takes `(watch_atom, std::string name, caf::actor whom)`: from then on,
/// the end of `whom`, for any reason, calls `stop` (an actor of a node never ends while the
/// process serves). `(stop_atom)` says the process is stopping on purpose: the watcher then quits
/// without calling `stop`, and no later end is fatal.
caf::actor spawn_fail_stop(caf::actor_system& system, stop_process_fn stop);

/// An exception handler for the actors the watcher watches (`set_exception_handler`): ends the
/// actor with the exception's text in the reason, so the fail-stop line says what went wrong.
/// CAF's default handler keeps only "runtime_error" and prints the text elsewhere.
caf::error exception_exit_reason(std::exception_ptr& thrown);

/// prez-server's stop: one critical log line naming the actor and the reason, then exit code 70,
/// as for a storage failure (docs/decisions.md D3).
[[noreturn]] void stop_process(const std::string& actor, const std::string& reason);

} // namespace prez
