#pragma once
// Restoring the replicated state (kv_state and client_sessions, docs/snapshots.md) from bytes, as
// kv_state::begin_snapshot()/snapshot_next() wrote them. Pure: bytes in, a state or an error out.
//
// The byte format (version 1) is a stream of msgpack arrays, "records", each starting with a tag
// (actors/state_machine/snapshot_format.hpp):
//
//   header       [0, "prez-snapshot", 1, version_clock, absent_version, draws, clock_ms]
//   tombstones*  [1, [name, version, ...]]            names in order, at most 2048 per record
//   sessions     [2, next_order, index, client_count]
//   client*      [3, id, forgotten_below, last_active_ms, last_active_index,
//                    [seq, reply or nil, order, ...]]  exactly client_count, ids in order
//   blocked*     [7, client_id, seq, deadline_ms, [argv...]]  blocked clients, earliest first
//   script*      [8, body]                                     scripts kept for EVALSHA
//   key*         [4, name, type, expires_at_ms, version, item_count, [items]]
//                 then [5, [items]] until item_count items came; keys in key-space order
//   end          [6, key_count, key_bytes, tombstone_count, client_count]
//
// Items are strs: a string's pieces, a list's elements, a hash's fields and values (pairs never
// split), a set's members. Restoring refuses (with an error text, never a crash or an assert):
// bytes that are not msgpack or exceed the limits in config/limits.hpp (so a damaged length
// cannot allocate much), records out of order, a wrong magic or version, keys or tombstones out of
// order or repeated, hash fields or set members out of order or repeated, versions above the
// version clock, a tombstone for a present key, session table violations (client_sessions::
// restorer), counts or byte totals that differ from the end record, anything missing (a
// truncated snapshot) and anything after the end record. The expiry index and byte counts are
// rebuilt from the entries.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "actors/state_machine/client_sessions.hpp"
#include "actors/state_machine/kv_state.hpp"
#include "messages/membership.hpp"

namespace prez {

/// What a snapshot holds: the key-value state and the exactly-once table, as of one moment.
struct restored_state {
  kv_state kv;
  client_sessions sessions;
  /// The cluster configuration the snapshot's metadata holds (empty in older files); set by
  /// whoever read the metadata.
  membership config;
};

/// Rebuilds the state from snapshot bytes fed in arbitrary pieces (a file read 1 MiB at a time).
/// Memory grows with the bytes fed, never with a size the bytes declare.
class state_restorer {
public:
  /// A restorer expecting the first byte of a snapshot.
  state_restorer();
  ~state_restorer();
  /// Movable (the unpacker and the state built so far move along), not copyable.
  state_restorer(state_restorer&&) noexcept;
  state_restorer& operator=(state_restorer&&) noexcept;

  /// Takes the next bytes of the snapshot (any split is fine). Returns an error text when the
  /// bytes so far are damaged; once it has, every later call returns the same error. No
  /// precondition (after finish(), returns an error).
  std::optional<std::string> feed(std::string_view bytes);
  /// The restored state when the bytes fed form exactly one complete, valid snapshot; else an
  /// error text (incomplete, damaged, or bytes after the end). Precondition: called once; later
  /// calls return an error.
  std::variant<restored_state, std::string> finish();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Restores from all the bytes at once: feed() then finish().
std::variant<restored_state, std::string> restore_state(std::string_view bytes);

} // namespace prez
