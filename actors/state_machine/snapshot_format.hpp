#pragma once
// The snapshot byte format shared by its writers (kv_snapshot.cpp, client_sessions.cpp) and its
// reader (state_restore.cpp). Pure. The layout is described in state_restore.hpp.

#include <msgpack.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/limits.hpp"

namespace prez::snapshot {

/// The first two fields of the header record: a restorer refuses any other.
inline constexpr std::string_view magic = "prez-snapshot";
inline constexpr std::uint64_t format_version = 1;

/// The first field of every record: which record it is.
enum class tag : std::uint64_t {
  header = 0,         ///< [0, magic, version, version_clock, absent_version, draws, clock_ms]
  tombstones = 1,     ///< [1, [name, version, name, version, ...]]
  sessions = 2,       ///< [2, next_order, index, client_count]
  session_client = 3, ///< [3, id, forgotten_below, last_active_ms, last_active_index, [triples]]
  key = 4,            ///< [4, name, type, expires_at_ms, version, item_count, [items]]
  key_more = 5,       ///< [5, [items]]: the next items of the key before
  end = 6,            ///< [6, key_count, key_bytes, tombstone_count, client_count]
  /// [7, client_id, seq, deadline_ms, [argv...]]: a client blocked in BLPOP and friends
  /// (blocked_clients.hpp), after the session table and before the keys, the earliest blocked
  /// first. Readers before blocking commands refuse it as an unexpected tag.
  blocked = 7,
  /// [8, body]: a script kept for EVALSHA (its name is its SHA1), after the blocked clients and
  /// before the keys, in SHA1 order. Readers before scripting refuse it as an unexpected tag.
  script = 8,
  /// [9, code]: a function library (FUNCTION LOAD), after the scripts and before the keys, in
  /// name order; its functions are found again by running its code as FUNCTION LOAD does.
  library = 9,
};

/// What a key record holds, and what its items are.
enum class value_type : std::uint64_t {
  string = 0, ///< pieces of the text, in order (none for "")
  list = 1,   ///< elements, head first
  hash = 2,   ///< field, value, field, value, ... by field order; a record never splits a pair
  set = 3,    ///< members in order
  /// the set's seed (decimal text: zset::seed(), which its skip list's shape depends on), then
  /// member, score, member, score, ... by member order, the score as text ("%.17g", "inf",
  /// "-inf"); a record never splits a pair. Readers before sorted sets refuse the key with
  /// "unknown value type 4".
  zset = 4,
  /// the stream's head (stream::head_item(): last ID, largest deleted ID, entries added, appends),
  /// then one item per entry in ID order (stream::entry_item()). Readers before streams refuse
  /// the key with "unknown value type 5".
  stream = 5,
};

/// Lets msgpack::packer append to a std::string.
struct string_writer {
  std::string& out;
  /// Appends `size` bytes at `data` (msgpack's stream interface).
  void write(const char* data, std::size_t size) { out.append(data, size); }
};
using packer = msgpack::packer<string_writer>;

/// The unpack limits for snapshot records (config/limits.hpp): no map, bin or ext is ever
/// written, arrays stay below limits::snapshot_record_items_max, nesting is two deep.
inline msgpack::unpack_limit unpack_limits() {
  return msgpack::unpack_limit(limits::snapshot_record_items_max, 0, limits::msgpack_str_max, 0, 0,
                               limits::snapshot_depth_max);
}

// --- reading fields of an untrusted record: each refuses a wrong type --------------------------

/// Sets `value` when `o` is a non-negative integer.
inline bool read_uint(const msgpack::object& o, std::uint64_t& value) {
  if (o.type != msgpack::type::POSITIVE_INTEGER) return false;
  value = o.via.u64;
  return true;
}

/// Sets `text` (pointing into `o`'s zone) when `o` is a str.
inline bool read_str(const msgpack::object& o, std::string_view& text) {
  if (o.type != msgpack::type::STR) return false;
  text = std::string_view(o.via.str.ptr, o.via.str.size);
  return true;
}

/// The elements of `o` when it is an array, else nullptr.
inline const msgpack::object_array* read_array(const msgpack::object& o) {
  return o.type == msgpack::type::ARRAY ? &o.via.array : nullptr;
}

} // namespace prez::snapshot
