// DUMP and RESTORE: a value as prez's own payload, and back. Redis's RDB encoding is neither
// written nor read: a payload moves values between prez servers only (docs/compatibility.md).
//
// The payload (format version 1):
//
//   offset 0       "PREZ"                      magic, 4 bytes
//   offset 4       0x01                        format version, 1 byte
//   offset 5       [type, [item, item, ...]]   one msgpack array: the value type and its items,
//                                              exactly as a snapshot key record holds them
//                                              (snapshot::value_type, value_items.hpp): a
//                                              string's text (one str, none for ""), a list's
//                                              elements, a hash's field/value pairs by field, a
//                                              set's members in order, a sorted set's seed
//                                              (decimal) then member/score pairs by member, the
//                                              score as text ("%.17g", "inf", "-inf"); every
//                                              item a msgpack str
//   last 4 bytes   crc32c of everything before, little-endian
//
// The sorted set's seed travels along, so a restored set's skip list has the same shape on every
// replica (and as the dumped one); the TTL does not (RESTORE's argument gives it, as in Redis). A
// forged seed can at worst make that skip list degenerate to O(n) per operation (zset.hpp),
// never crash.
//
// Why CRC-32C and not Redis's CRC64: prez already checks every log record and snapshot with it
// (actors/storage/log_store.hpp), it catches every burst of up to 32 damaged bits and all but
// 2^-32 of random damage, and a second checksum would add code for no gain. No checksum stops a
// forger (anyone can recompute one), so RESTORE checks every field of a payload whose checksum
// passes, trusts no count the bytes declare, and allocates at most a constant times the
// payload's size (the value it builds).
//
// RESTORE's replies, in Redis 7.0's order: option errors (syntax, IDLETIME, FREQ), then
// BUSYKEY, then the TTL, then "DUMP payload version or checksum are wrong" (too short, wrong
// magic or version, checksum mismatch), then "Bad data format" (the checksum passes but the
// contents are not a valid value: not msgpack, an unknown type, fields out of order, an empty
// collection, bytes after the value).

#include <limits>
#include <msgpack.hpp>

#include "actors/state_machine/kv_commands.hpp"
#include "actors/state_machine/snapshot_format.hpp"
#include "actors/state_machine/value_items.hpp"
#include "actors/storage/log_store.hpp"
#include "config/assert.hpp"

namespace prez::kv {

namespace {

constexpr std::string_view payload_magic = "PREZ";
constexpr std::uint8_t payload_version = 1;
constexpr std::size_t payload_prefix_bytes = payload_magic.size() + 1;
constexpr std::size_t payload_checksum_bytes = 4;

const std::string_view busy_key = "BUSYKEY Target key name already exists.";
const std::string_view invalid_ttl = "ERR Invalid TTL value, must be >= 0";
const std::string_view payload_wrong = "ERR DUMP payload version or checksum are wrong";
const std::string_view bad_data = "ERR Bad data format";

void put_u32_le(std::string& out, std::uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8)
    out.push_back(static_cast<char>((value >> shift) & 0xffu));
}

std::uint32_t get_u32_le(std::string_view bytes) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i)
    value |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  return value;
}

/// Packs one str item.
void pack_item(snapshot::packer& pk, std::string_view item) {
  pk.pack_str(static_cast<std::uint32_t>(item.size()))
      .pack_str_body(item.data(), static_cast<std::uint32_t>(item.size()));
}

std::uint32_t checked_u32(std::size_t count) {
  // A value with 2^32 items or a string of 4 GiB would need more memory than prez admits
  // (limits::string_value_bytes_max, the RESP limits): our own bug if ever reached.
  PREZ_ASSERT(count <= std::numeric_limits<std::uint32_t>::max());
  return static_cast<std::uint32_t>(count);
}

/// Packs the items of each value type (see the format above).
struct item_packer {
  snapshot::packer& pk;
  void operator()(const std::string& text) const {
    pk.pack_array(text.empty() ? 0 : 1);
    if (!text.empty()) pack_item(pk, text);
  }
  void operator()(const list_value& list) const {
    pk.pack_array(checked_u32(list.size()));
    for (const auto& element : list)
      pack_item(pk, element);
  }
  void operator()(const hash_value& hash) const {
    pk.pack_array(checked_u32(hash.size() * 2));
    for (const auto& [field, text] : hash) {
      pack_item(pk, field);
      pack_item(pk, text);
    }
  }
  void operator()(const set_value& set) const {
    pk.pack_array(checked_u32(set.size()));
    for (const auto& member : set)
      pack_item(pk, member);
  }
  void operator()(const zset_value& sorted) const {
    pk.pack_array(checked_u32(1 + sorted.size() * 2));
    pack_item(pk, seed_text(sorted));
    for (const auto& [member, score] : sorted.by_member()) {
      pack_item(pk, member);
      pack_item(pk, format_score(score));
    }
  }
  void operator()(const stream_value& s) const {
    pk.pack_array(checked_u32(s.item_count()));
    pack_item(pk, s.head_item());
    s.items(nullptr, [&](std::string item, std::string) {
      pack_item(pk, item);
      return true;
    });
  }
};

/// Whether `payload` has prez's prefix and an intact checksum.
bool payload_verifies(std::string_view payload) {
  if (payload.size() < payload_prefix_bytes + payload_checksum_bytes) return false;
  if (payload.substr(0, payload_magic.size()) != payload_magic) return false;
  if (static_cast<std::uint8_t>(payload[payload_magic.size()]) != payload_version) return false;
  const std::size_t covered = payload.size() - payload_checksum_bytes;
  return storage::crc32c(payload.data(), covered) == get_u32_le(payload.substr(covered));
}

/// Rebuilds a value from a payload's body as msgpack's parser walks it (no msgpack objects are
/// built, so nothing is allocated for a count the bytes declare). Expects exactly
/// [type, [str...]]: every other shape stops the walk. Owned by one decode_body() call.
class body_reader : public msgpack::null_visitor {
public:
  bool visit_positive_integer(std::uint64_t type) {
    if (depth_ != 1 || fields_ != 0) return false;
    fields_ = 1;
    switch (type) {
      case static_cast<std::uint64_t>(snapshot::value_type::string):
        data_ = std::string();
        return true;
      case static_cast<std::uint64_t>(snapshot::value_type::list):
        data_ = list_value();
        return true;
      case static_cast<std::uint64_t>(snapshot::value_type::hash):
        data_ = hash_value();
        return true;
      case static_cast<std::uint64_t>(snapshot::value_type::set):
        data_ = set_value();
        return true;
      case static_cast<std::uint64_t>(snapshot::value_type::zset):
      case static_cast<std::uint64_t>(snapshot::value_type::stream):
        // the value is made when its head (the sorted set's seed, the stream's head) comes
        head_type_ = static_cast<snapshot::value_type>(type);
        seed_pending_ = true;
        return true;
      default:
        return false;
    }
  }
  bool start_array(std::uint32_t elements) {
    if (depth_ == 0 && elements == 2) {
      depth_ = 1;
      return true;
    }
    if (depth_ == 1 && fields_ == 1) {
      fields_ = 2;
      depth_ = 2;
      return true;
    }
    return false;
  }
  bool end_array() {
    --depth_;
    return true;
  }
  bool visit_str(const char* bytes, std::uint32_t size) {
    if (depth_ != 2) return false;
    const std::string_view item(bytes, size);
    if (seed_pending_) {
      auto made = value_from_head(head_type_, item);
      if (!made) return false;
      data_ = std::move(*made);
      seed_pending_ = false;
      return true;
    }
    return !add_item(data_, bytes_, item, field_, field_pending_);
  }
  // Everything else is not part of a payload.
  bool visit_nil() { return false; }
  bool visit_boolean(bool) { return false; }
  bool visit_negative_integer(std::int64_t) { return false; }
  bool visit_float32(float) { return false; }
  bool visit_float64(double) { return false; }
  bool visit_bin(const char*, std::uint32_t) { return false; }
  bool visit_ext(const char*, std::uint32_t) { return false; }
  bool start_map(std::uint32_t) { return false; }

  /// The value, once the walk ended at the end of the body; nullopt when what came is not a
  /// whole value: a sorted set without its seed, a hash field or sorted set member without its
  /// value, or an empty list, hash, set or sorted set (prez never holds one; Redis refuses them
  /// as bad data too).
  std::optional<value> take() {
    if (fields_ != 2 || depth_ != 0 || seed_pending_ || field_pending_) return std::nullopt;
    if (const auto* s = std::get_if<stream_value>(&data_); s && !s->complete()) return std::nullopt;
    const bool empty = std::visit(
        [](const auto& data) {
          using type = std::decay_t<decltype(data)>;
          // An empty stream is a value (XDEL of its last entry keeps the key), as in Redis.
          if constexpr (std::is_same_v<type, std::string> || std::is_same_v<type, stream_value>)
            return false;
          else
            return data.empty();
        },
        data_);
    if (empty) return std::nullopt;
    return std::move(data_);
  }

private:
  value data_;
  /// Bytes counted by add_item(); the keyspace counts the value again when it is inserted.
  std::size_t bytes_ = 0;
  /// Arrays entered and not left. Invariant: 0 <= depth_ <= 2.
  int depth_ = 0;
  /// Fields of the outer array seen: 0, 1 (the type) or 2 (the items).
  int fields_ = 0;
  bool seed_pending_ = false;
  snapshot::value_type head_type_ = snapshot::value_type::zset;
  std::string_view field_;
  bool field_pending_ = false;
};

/// The value in a verified payload's body, or nullopt when it is not a valid one.
std::optional<value> decode_body(std::string_view body) {
  body_reader reader;
  std::size_t offset = 0;
  try {
    if (!msgpack::parse(body.data(), body.size(), offset, reader)) return std::nullopt;
  } catch (const std::exception&) { // msgpack's size overflows, bad_alloc: damaged, never fatal
    return std::nullopt;
  }
  if (offset != body.size()) return std::nullopt; // bytes after the value
  return reader.take();
}

/// RESTORE's options, parsed as Redis 7.0 parses them.
struct restore_options {
  bool replace = false;
  bool absolute = false;
};

/// Parses argv[4...]; returns the error reply, empty when fine. IDLETIME and FREQ are checked and
/// dropped: prez keeps no access time or frequency (no LRU/LFU eviction). As in Redis 7.0, one
/// may not follow the other: whichever comes second is a syntax error.
std::string parse_restore_options(const argv_type& argv, restore_options& options) {
  bool idletime_seen = false;
  bool freq_seen = false;
  for (std::size_t i = 4; i < argv.size(); ++i) {
    const bool has_value = i + 1 < argv.size();
    if (is_word(argv[i], "replace")) {
      options.replace = true;
    } else if (is_word(argv[i], "absttl")) {
      options.absolute = true;
    } else if (is_word(argv[i], "idletime") && has_value && !freq_seen) {
      const auto seconds = parse_integer(argv[++i]);
      if (!seconds) return error_reply(not_integer);
      if (*seconds < 0) return error_reply("ERR Invalid IDLETIME value, must be >= 0");
      idletime_seen = true;
    } else if (is_word(argv[i], "freq") && has_value && !idletime_seen) {
      const auto frequency = parse_integer(argv[++i]);
      if (!frequency) return error_reply(not_integer);
      if (*frequency < 0 || *frequency > 255)
        return error_reply("ERR Invalid FREQ value, must be >= 0 and <= 255");
      freq_seen = true;
    } else {
      return error_reply(syntax_error);
    }
  }
  return std::string();
}

} // namespace

std::string dump_payload(const value& data) {
  std::string out(payload_magic);
  out.push_back(static_cast<char>(payload_version));
  snapshot::string_writer writer{out};
  snapshot::packer pk(writer);
  pk.pack_array(2);
  pk.pack(static_cast<std::uint64_t>(type_of(data)));
  std::visit(item_packer{pk}, data);
  put_u32_le(out, storage::crc32c(out.data(), out.size()));
  return out;
}

std::string dump_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  const entry* e = keys.find_visible(argv[1], now_ms);
  if (e == nullptr) return null_bulk();
  return bulk(dump_payload(e->data));
}

std::string restore_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  restore_options options;
  if (auto error = parse_restore_options(argv, options); !error.empty()) return error;
  const std::string& key = argv[1];
  if (!options.replace && keys.peek_live(key, time_ms) != nullptr) return error_reply(busy_key);
  const auto ttl = parse_integer(argv[2]);
  if (!ttl) return error_reply(not_integer);
  if (*ttl < 0) return error_reply(invalid_ttl);
  const std::string_view payload = argv[3];
  if (!payload_verifies(payload)) return error_reply(payload_wrong);
  auto data = decode_body(payload.substr(
      payload_prefix_bytes, payload.size() - payload_prefix_bytes - payload_checksum_bytes));
  if (!data) return error_reply(bad_data);
  // After the checks: a refused RESTORE changes nothing.
  const bool replaced = options.replace && keys.erase(key);
  // ttl 0: no deadline. A relative ttl counts from the entry's time (the cluster clock, as
  // EXPIRE does). Redis 7.0 adds it to its clock in a long long that wraps past the maximum into
  // a deadline in the past; prez answers the same (the key is not created) without overflowing.
  std::uint64_t deadline = 0;
  bool past = false;
  if (*ttl != 0) {
    const auto ttl_ms = static_cast<std::uint64_t>(*ttl);
    constexpr auto deadline_max = static_cast<std::uint64_t>(std::numeric_limits<long long>::max());
    if (options.absolute)
      deadline = ttl_ms;
    else if (ttl_ms > deadline_max - std::min(time_ms, deadline_max))
      past = true;
    else
      deadline = time_ms + ttl_ms;
    past = past || deadline <= time_ms;
  }
  // A deadline already past: Redis replies OK and creates nothing (with REPLACE the old key is
  // gone all the same).
  if (past) {
    if (replaced) keys.notify(notify::generic, "del", key);
    return ok();
  }
  entry& restored = keys.insert(key, std::move(*data));
  if (deadline != 0) keys.set_expiry(key, restored, deadline);
  keys.notify(notify::generic, "restore", key);
  return ok();
}

} // namespace prez::kv
