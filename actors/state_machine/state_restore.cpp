// Restoring a snapshot: a msgpack stream unpacked under explicit limits, checked record by
// record. Every check refuses with a text; nothing here asserts on the input.

#include "actors/state_machine/state_restore.hpp"

#include <cstring>
#include <exception>
#include <utility>

#include "actors/state_machine/kv_commands.hpp"
#include "actors/state_machine/lua_script.hpp"
#include "actors/state_machine/snapshot_format.hpp"
#include "actors/state_machine/value_items.hpp"
#include "config/limits.hpp"

namespace prez {

namespace {

using error_text = std::optional<std::string>;

constexpr std::uint64_t as_uint(snapshot::tag t) {
  return static_cast<std::uint64_t>(t);
}

} // namespace

/// The restorer's phases, one per kind of record expected next:
///
///   header -> tombstones -> sessions -> keys <-> key_items
///             (0 or more)   (table, then    |     (key_more records until the key's items came)
///                            its clients)   v
///                                          done --finish()--> finished
struct state_restorer::impl {
  enum class phase { header, tombstones, sessions, keys, key_items, done, finished };

  msgpack::unpacker unpacker{nullptr, nullptr, 64 * 1024, snapshot::unpack_limits()};
  phase at = phase::header;
  error_text error;
  kv_state kv;
  client_sessions::restorer sessions;
  std::uint64_t clients = 0;
  /// The key whose items are still arriving (phase::key_items).
  kv::key_slot key;
  kv::entry pending;
  std::uint64_t items_left = 0;
  /// The type whose first item (a sorted set's seed, a stream's head) has not come yet.
  std::optional<snapshot::value_type> head_pending;

  kv::keyspace& keys() { return kv.keys_; }
  /// Bytes fed that are not part of a complete record: msgpack counts the bytes of the record it
  /// is in the middle of as parsed_size() and those it has not looked at as nonparsed_size().
  std::size_t pending_bytes() const { return unpacker.parsed_size() + unpacker.nonparsed_size(); }

  error_text take(const msgpack::object& record);
  error_text take_header(const msgpack::object_array& fields);
  error_text take_tombstones(const msgpack::object_array& fields);
  error_text take_blocked(const msgpack::object_array& fields);
  error_text take_script(const msgpack::object_array& fields);
  error_text take_library(const msgpack::object_array& fields);
  error_text take_key(const msgpack::object_array& fields);
  error_text take_items(const msgpack::object& items);
  error_text take_end(const msgpack::object_array& fields);
  void store_key();
};

error_text state_restorer::impl::take(const msgpack::object& record) {
  const msgpack::object_array* fields = snapshot::read_array(record);
  std::uint64_t tag = 0;
  if (fields == nullptr || fields->size == 0 || !snapshot::read_uint(fields->ptr[0], tag))
    return "record is not an array starting with a tag";
  switch (at) {
    case phase::header:
      if (tag != as_uint(snapshot::tag::header)) return "snapshot does not start with a header";
      return take_header(*fields);
    case phase::tombstones:
      if (tag == as_uint(snapshot::tag::tombstones)) return take_tombstones(*fields);
      if (tag != as_uint(snapshot::tag::sessions)) return "session table missing";
      at = phase::sessions;
      [[fallthrough]];
    case phase::sessions: {
      if (tag == as_uint(snapshot::tag::session_client)) ++clients;
      if (auto failed = sessions.add(record)) return failed;
      if (sessions.complete()) at = phase::keys;
      return std::nullopt;
    }
    case phase::keys:
      if (tag == as_uint(snapshot::tag::blocked)) return take_blocked(*fields);
      if (tag == as_uint(snapshot::tag::script)) return take_script(*fields);
      if (tag == as_uint(snapshot::tag::library)) return take_library(*fields);
      if (tag == as_uint(snapshot::tag::key)) return take_key(*fields);
      if (tag == as_uint(snapshot::tag::end)) return take_end(*fields);
      return "unexpected record tag " + std::to_string(tag) + " among keys";
    case phase::key_items:
      if (tag != as_uint(snapshot::tag::key_more) || fields->size != 2)
        return "key value cut short: expected a key_more record";
      return take_items(fields->ptr[1]);
    case phase::done:
    case phase::finished:
      break;
  }
  return "bytes after the end record";
}

error_text state_restorer::impl::take_header(const msgpack::object_array& fields) {
  std::string_view magic;
  std::uint64_t version = 0;
  kv::keyspace& k = keys();
  if (fields.size != 7 || !snapshot::read_str(fields.ptr[1], magic) || magic != snapshot::magic)
    return "not a prez snapshot (bad header)";
  if (!snapshot::read_uint(fields.ptr[2], version) || version != snapshot::format_version)
    return "unsupported snapshot format version";
  if (!snapshot::read_uint(fields.ptr[3], k.version_clock_) ||
      !snapshot::read_uint(fields.ptr[4], k.absent_version_) ||
      !snapshot::read_uint(fields.ptr[5], k.draws_) ||
      !snapshot::read_uint(fields.ptr[6], k.clock_ms_))
    return "damaged snapshot header";
  if (k.absent_version_ > k.version_clock_) return "absent version above the version clock";
  at = phase::tombstones;
  return std::nullopt;
}

error_text state_restorer::impl::take_tombstones(const msgpack::object_array& fields) {
  const msgpack::object_array* pairs =
      fields.size == 2 ? snapshot::read_array(fields.ptr[1]) : nullptr;
  if (pairs == nullptr || pairs->size % 2 != 0) return "damaged tombstone record";
  auto& tombstones = keys().tombstones_;
  for (std::uint32_t i = 0; i < pairs->size; i += 2) {
    std::string_view name;
    std::uint64_t version = 0;
    if (!snapshot::read_str(pairs->ptr[i], name) ||
        !snapshot::read_uint(pairs->ptr[i + 1], version))
      return "damaged tombstone";
    if (version > keys().version_clock_) return "tombstone version above the version clock";
    if (!tombstones.empty() && tombstones.rbegin()->first >= name)
      return "tombstones out of order or repeated";
    if (tombstones.size() >= limits::kv_tombstones_max)
      return "more than kv_tombstones_max tombstones";
    tombstones.emplace_hint(tombstones.end(), std::string(name), version);
  }
  return std::nullopt;
}

error_text state_restorer::impl::take_blocked(const msgpack::object_array& fields) {
  if (keys().size() != 0) return "blocked client record after the keys";
  kv::blocked_client client;
  const msgpack::object_array* args =
      fields.size == 5 ? snapshot::read_array(fields.ptr[4]) : nullptr;
  if (args == nullptr || !snapshot::read_uint(fields.ptr[1], client.client_id) ||
      !snapshot::read_uint(fields.ptr[2], client.seq) ||
      !snapshot::read_uint(fields.ptr[3], client.deadline_ms))
    return "damaged blocked client record";
  for (std::uint32_t i = 0; i < args->size; ++i) {
    std::string_view arg;
    if (!snapshot::read_str(args->ptr[i], arg)) return "damaged blocked client record";
    client.argv.emplace_back(arg);
  }
  std::string error;
  auto call = kv::parse_blocking(client.argv, error);
  if (!call) return "blocked client record without a valid blocking command";
  if (keys().blocked().contains({client.client_id, client.seq})) return "blocked client repeated";
  client.keys = std::move(call->keys);
  keys().blocked().add(std::move(client));
  return std::nullopt;
}

error_text state_restorer::impl::take_script(const msgpack::object_array& fields) {
  if (keys().size() != 0) return "script record after the keys";
  std::string_view body;
  if (fields.size != 2 || !snapshot::read_str(fields.ptr[1], body)) return "damaged script record";
  const std::string sha = kv::sha1_hex(body);
  if (keys().script(sha) != nullptr) return "script repeated";
  if (!keys().keep_script(sha, body)) return "more scripts than scripts_cached_max allows";
  return std::nullopt;
}

error_text state_restorer::impl::take_library(const msgpack::object_array& fields) {
  if (keys().size() != 0) return "function library record after the keys";
  std::string_view code;
  if (fields.size != 2 || !snapshot::read_str(fields.ptr[1], code))
    return "damaged function library record";
  kv::library_info info;
  if (!kv::load_library(code, info).empty()) return "function library that does not load";
  if (keys().libraries().contains(info.name)) return "function library repeated";
  for (const auto& f : info.functions)
    if (keys().find_function(f.name).first != nullptr)
      return "function registered by two libraries";
  if (!keys().put_library(info.name, {std::string(code), std::move(info.functions)}))
    return "more function libraries than scripts_cached_max allows";
  return std::nullopt;
}

error_text state_restorer::impl::take_key(const msgpack::object_array& fields) {
  std::string_view name;
  std::uint64_t type = 0;
  std::uint64_t items = 0;
  if (fields.size != 7 || !snapshot::read_str(fields.ptr[1], name) ||
      !snapshot::read_uint(fields.ptr[2], type) ||
      !snapshot::read_uint(fields.ptr[3], pending.expires_at_ms) ||
      !snapshot::read_uint(fields.ptr[4], pending.version) ||
      !snapshot::read_uint(fields.ptr[5], items))
    return "damaged key record";
  if (pending.version > keys().version_clock_) return "key version above the version clock";
  key = kv::key_slot{kv::key_hash(name), std::string(name)};
  const auto& map = keys().keys_;
  if (!map.empty() && !kv::slot_order{}(map.rbegin()->first, key))
    return "keys out of order or repeated";
  switch (type) {
    case static_cast<std::uint64_t>(snapshot::value_type::string):
      pending.data = std::string();
      break;
    case static_cast<std::uint64_t>(snapshot::value_type::list):
      pending.data = kv::list_value();
      break;
    case static_cast<std::uint64_t>(snapshot::value_type::hash):
      if (items % 2 != 0) return "hash with an odd item count";
      pending.data = kv::hash_value();
      break;
    case static_cast<std::uint64_t>(snapshot::value_type::set):
      pending.data = kv::set_value();
      break;
    case static_cast<std::uint64_t>(snapshot::value_type::zset):
      if (items < 3 || items % 2 != 1) return "sorted set item count is not 1 + 2 per member";
      head_pending = snapshot::value_type::zset;
      break;
    case static_cast<std::uint64_t>(snapshot::value_type::stream):
      if (items < 1) return "stream without its head";
      head_pending = snapshot::value_type::stream;
      break;
    default:
      return "unknown value type " + std::to_string(type);
  }
  pending.bytes = 0;
  items_left = items;
  at = phase::key_items;
  return take_items(fields.ptr[6]);
}

error_text state_restorer::impl::take_items(const msgpack::object& items) {
  const msgpack::object_array* list = snapshot::read_array(items);
  if (list == nullptr) return "damaged key items";
  if (list->size > items_left) return "more key items than announced";
  if (std::holds_alternative<kv::hash_value>(pending.data) && list->size % 2 != 0)
    return "a record splits a hash field from its value";
  std::uint32_t first = 0;
  if (head_pending) {
    const bool zset = *head_pending == snapshot::value_type::zset;
    std::string_view text;
    if (list->size == 0 || !snapshot::read_str(list->ptr[0], text))
      return zset ? "sorted set seed missing" : "stream head missing";
    auto made = kv::value_from_head(*head_pending, text);
    if (!made) return zset ? "sorted set seed is not a number" : "stream head damaged";
    pending.data = std::move(*made);
    head_pending.reset();
    first = 1;
  }
  if (std::holds_alternative<kv::zset_value>(pending.data) && (list->size - first) % 2 != 0)
    return "a record splits a sorted set member from its score";
  std::string_view field;
  bool field_pending = false;
  for (std::uint32_t i = first; i < list->size; ++i) {
    std::string_view item;
    if (!snapshot::read_str(list->ptr[i], item)) return "key item is not a str";
    if (auto failed = kv::add_item(pending.data, pending.bytes, item, field, field_pending))
      return failed;
  }
  items_left -= list->size;
  if (items_left == 0) {
    if (const auto* s = std::get_if<kv::stream_value>(&pending.data); s && !s->complete())
      return "stream consumer group items missing";
    store_key();
  }
  return std::nullopt;
}

void state_restorer::impl::store_key() {
  kv::keyspace& k = keys();
  if (pending.expires_at_ms != 0) k.expiries_.emplace(pending.expires_at_ms, key.name);
  k.bytes_ += key.name.size() + pending.bytes;
  k.keys_.emplace_hint(k.keys_.end(), std::move(key), std::move(pending));
  pending = kv::entry();
  at = phase::keys;
}

error_text state_restorer::impl::take_end(const msgpack::object_array& fields) {
  std::uint64_t key_count = 0;
  std::uint64_t key_bytes = 0;
  std::uint64_t tombstone_count = 0;
  std::uint64_t client_count = 0;
  if (fields.size != 5 || !snapshot::read_uint(fields.ptr[1], key_count) ||
      !snapshot::read_uint(fields.ptr[2], key_bytes) ||
      !snapshot::read_uint(fields.ptr[3], tombstone_count) ||
      !snapshot::read_uint(fields.ptr[4], client_count))
    return "damaged end record";
  const kv::keyspace& k = keys();
  if (key_count != k.keys_.size()) return "key count differs from the end record";
  if (key_bytes != k.bytes_) return "key bytes differ from the end record";
  if (tombstone_count != k.tombstones_.size()) return "tombstone count differs from the end record";
  if (client_count != clients) return "session client count differs from the end record";
  for (const auto& [name, version] : k.tombstones_)
    if (k.find(name) != nullptr) return "a tombstone for a key that is present";
  at = phase::done;
  return std::nullopt;
}

state_restorer::state_restorer() : impl_(std::make_unique<impl>()) {}
state_restorer::~state_restorer() = default;
state_restorer::state_restorer(state_restorer&&) noexcept = default;
state_restorer& state_restorer::operator=(state_restorer&&) noexcept = default;

std::optional<std::string> state_restorer::feed(std::string_view bytes) {
  impl& s = *impl_;
  if (s.error) return s.error;
  if (s.at == impl::phase::finished) return s.error = "snapshot bytes fed after finish()";
  try {
    s.unpacker.reserve_buffer(bytes.size());
    if (!bytes.empty()) std::memcpy(s.unpacker.buffer(), bytes.data(), bytes.size());
    s.unpacker.buffer_consumed(bytes.size());
    msgpack::object_handle handle;
    while (s.unpacker.next(handle)) {
      if (auto failed = s.take(handle.get())) return s.error = "damaged snapshot: " + *failed;
    }
    if (s.at == impl::phase::done && s.pending_bytes() > 0)
      return s.error = "damaged snapshot: bytes after the end record";
  } catch (const std::bad_alloc&) {
    return s.error = "damaged snapshot: out of memory while unpacking";
  } catch (const std::exception& e) {
    return s.error = std::string("damaged snapshot: msgpack: ") + e.what();
  }
  return std::nullopt;
}

std::variant<restored_state, std::string> state_restorer::finish() {
  impl& s = *impl_;
  if (s.error) return *s.error;
  if (s.at == impl::phase::finished) return std::string("finish() called twice");
  if (s.at != impl::phase::done || s.pending_bytes() > 0) {
    const bool trailing = s.at == impl::phase::done;
    s.error = trailing ? "damaged snapshot: bytes after the end record"
                       : "incomplete snapshot: no end record (truncated?)";
    return *s.error;
  }
  s.at = impl::phase::finished;
  auto sessions = s.sessions.finish();
  if (auto* failed = std::get_if<std::string>(&sessions)) return "damaged snapshot: " + *failed;
  return restored_state{std::move(s.kv), std::get<client_sessions>(std::move(sessions)), {}};
}

std::variant<restored_state, std::string> restore_state(std::string_view bytes) {
  state_restorer restorer;
  if (auto failed = restorer.feed(bytes)) return *failed;
  return restorer.finish();
}

} // namespace prez
