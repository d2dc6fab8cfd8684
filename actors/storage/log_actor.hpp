#pragma once
// The log actor: the only writer of the WAL and hard state of one node (docs/architecture.md §5).

#include <memory>

#include "caf/fwd.hpp"

namespace prez::storage {
class log_store;
}

namespace prez {

/// Spawns the log actor (detached: fsync blocks its own thread only). It answers
/// `(persist_atom, persist_request)` with `(persisted_atom, persist_reply)` once the request and
/// every earlier one are durable; writes that arrive while an fsync runs share the next fsync.
/// A storage failure stops the process (fail-stop keeps Raft safe; see docs/decisions.md).
/// `detached` is false only in actor tests, where the test_coordinator must schedule it too (and
/// the periodic memory trim, an endless timer, is left out).
caf::actor spawn_log_actor(caf::actor_system& system, std::unique_ptr<storage::log_store> store,
                           bool detached = true);

} // namespace prez
