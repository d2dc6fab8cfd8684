#pragma once
// What the stream commands share (kv_streams.cpp, kv_stream_groups.cpp): lookups, replies and
// the parsing of IDs used as range bounds.

#include "actors/state_machine/kv_commands.hpp"

namespace prez::kv {

inline constexpr std::string_view invalid_stream_id =
    "ERR Invalid stream ID specified as stream command argument";

/// The stream at `key` for writing, or nullptr when absent; `wrong` is set for another type.
stream_value* stream_for_write(keyspace& keys, const std::string& key, std::uint64_t time_ms,
                               entry*& e, bool& wrong);
/// The stream at `key` for reading, or nullptr when absent; `wrong` is set for another type.
const stream_value* stream_for_read(const keyspace& keys, const std::string& key,
                                    std::uint64_t now_ms, bool& wrong);
/// As stream_for_read() on the write path (kv::keyspace::peek_live(): expires, copies nothing).
const stream_value* stream_for_peek(keyspace& keys, const std::string& key, std::uint64_t time_ms,
                                    bool& wrong);

std::string id_reply(stream_id id);
/// One entry: [id, [field, value, ...]].
std::string entry_reply(stream_id id, const stream_entry& entry);
/// The entries from `start` to `end` (inclusive), at most `count` (0: all), in ID order or
/// reversed (from `end` down to `start`).
std::string range_reply(const stream_value& s, stream_id start, stream_id end, std::size_t count,
                        bool reverse);
/// A range bound (XRANGE, XPENDING, XAUTOCLAIM): "-", "+", "ms", "ms-seq", or "(" then an ID
/// (exclusive); nullopt with `error` set when it is not one.
std::optional<stream_id> parse_bound(const std::string& text, bool start, std::string& error);

/// XINFO GROUPS's reply, XINFO CONSUMERS's (nullptr: no such group), and the groups of XINFO
/// STREAM FULL (their PELs at most `count` long, 0 for all).
std::string xinfo_groups_reply(const stream_value& s);
std::string xinfo_consumers_reply(const stream_group* group, const std::string& key,
                                  const std::string& name, std::uint64_t now_ms);
std::string xinfo_full_groups_reply(const stream_value& s, std::size_t count);

} // namespace prez::kv
