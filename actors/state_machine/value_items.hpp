#pragma once
// A value as a sequence of items (snapshot::value_type says which): how snapshots
// (kv_snapshot.cpp, state_restore.cpp) and DUMP payloads (kv_dump.cpp) hold a value. The writers
// list the items; the readers rebuild the value from them with add_item(), which checks each
// item, so both readers refuse the same damage the same way. Pure; nothing here asserts on its
// input.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "actors/state_machine/kv_state.hpp"
#include "actors/state_machine/snapshot_format.hpp"

namespace prez::kv {

/// The value_type a value is written as.
snapshot::value_type type_of(const value& data);

/// A sorted set's seed as its first item holds it: decimal text.
inline std::string seed_text(const zset_value& sorted) {
  return std::to_string(sorted.seed());
}
/// The seed in a sorted set's first item, or nullopt when it is not decimal digits that fit 64
/// bits.
std::optional<std::uint64_t> parse_seed(std::string_view text);

/// The value a sorted set's or a stream's first item starts (its seed, its head); nullopt when
/// the item is not one, or `type` has no such item.
std::optional<value> value_from_head(snapshot::value_type type, std::string_view item);

/// Adds one item to a value being rebuilt and its payload to `bytes` (see entry::bytes). A hash
/// field or sorted set member waits in `pending_field` (viewing the caller's bytes, which must
/// outlive the pair) with `field_pending` set, until its value or score comes. A sorted set or a
/// stream must have been created from its head first (value_from_head()); a stream's other items
/// are its entries and its consumer groups' items (stream::items()), and a stream is whole only
/// when stream::complete(). Refuses, with a text: a string longer than
/// limits::string_value_bytes_max, hash fields, set members or sorted set members that are not in
/// strictly ascending order, and a score that is not a float (NaN).
std::optional<std::string> add_item(value& data, std::size_t& bytes, std::string_view item,
                                    std::string_view& pending_field, bool& field_pending);

} // namespace prez::kv
