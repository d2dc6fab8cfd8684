// Writing a snapshot of the key space while entries keep being applied: the copy-on-write hook
// (before_change) and the writer (begin_snapshot, snapshot_next). The invariant that makes the
// result consistent is on kv::keyspace (kv_state.hpp); the byte format is in state_restore.hpp.

#include <algorithm>
#include <limits>

#include "actors/state_machine/client_sessions.hpp"
#include "actors/state_machine/kv_commands.hpp"
#include "actors/state_machine/snapshot_format.hpp"
#include "config/assert.hpp"
#include "config/limits.hpp"

namespace prez::kv {

namespace {

using snapshot::packer;

constexpr std::uint64_t as_uint(snapshot::tag t) {
  return static_cast<std::uint64_t>(t);
}

/// Pieces a string of `size` bytes is written in (none for "").
std::size_t string_pieces(std::size_t size) {
  return (size + limits::snapshot_string_piece_bytes - 1) / limits::snapshot_string_piece_bytes;
}

/// Items of a value in the snapshot (see snapshot::value_type).
std::size_t item_count(const value& data) {
  struct counter {
    std::size_t operator()(const std::string& text) const { return string_pieces(text.size()); }
    std::size_t operator()(const list_value& list) const { return list.size(); }
    std::size_t operator()(const hash_value& hash) const { return hash.size() * 2; }
    std::size_t operator()(const set_value& set) const { return set.size(); }
  };
  return std::visit(counter{}, data);
}

snapshot::value_type type_of(const value& data) {
  switch (data.index()) {
    case 0:
      return snapshot::value_type::string;
    case 1:
      return snapshot::value_type::list;
    case 2:
      return snapshot::value_type::hash;
    default:
      return snapshot::value_type::set;
  }
}

/// An upper bound on the bytes write_key() appends for `e` (msgpack headers: at most 5 bytes per
/// item, 48 per record).
std::size_t encoded_bytes_max(const key_slot& slot, const entry& e) {
  const std::size_t items = item_count(e.data);
  return 64 + slot.name.size() + e.bytes + 5 * items +
         48 * (items / (limits::snapshot_record_items_max / 2) + 1) +
         48 * (e.bytes / limits::snapshot_record_bytes + 1);
}

/// Writes one key: its key record, then key_more records while items remain. A record closes
/// when it holds snapshot_record_items_max items or snapshot_record_bytes bytes of items, and
/// only between two items of a hash pair's end, so the restorer never sees half a pair.
class key_writer {
public:
  key_writer(packer& pk, std::vector<std::string_view>& chunk) : pk_(pk), chunk_(chunk) {}

  void write(const key_slot& slot, const entry& e) {
    const std::size_t items = item_count(e.data);
    pk_.pack_array(7);
    pk_.pack(as_uint(snapshot::tag::key));
    pk_.pack(slot.name);
    pk_.pack(static_cast<std::uint64_t>(type_of(e.data)));
    pk_.pack(e.expires_at_ms);
    pk_.pack(e.version);
    pk_.pack(static_cast<std::uint64_t>(items));
    chunk_.clear();
    chunk_bytes_ = 0;
    first_ = true;
    std::visit([this](const auto& data) { add_items(data); }, e.data);
    if (first_ || !chunk_.empty()) flush();
  }

private:
  void add_items(const std::string& text) {
    const std::string_view all(text);
    for (std::size_t at = 0; at < all.size(); at += limits::snapshot_string_piece_bytes)
      add(all.substr(at, limits::snapshot_string_piece_bytes), true);
  }
  void add_items(const list_value& list) {
    for (const auto& item : list)
      add(item, true);
  }
  void add_items(const hash_value& hash) {
    for (const auto& [field, text] : hash) {
      add(field, false);
      add(text, true);
    }
  }
  void add_items(const set_value& set) {
    for (const auto& member : set)
      add(member, true);
  }

  void add(std::string_view item, bool may_close) {
    chunk_.push_back(item);
    chunk_bytes_ += item.size();
    if (may_close && (chunk_.size() + 2 > limits::snapshot_record_items_max ||
                      chunk_bytes_ >= limits::snapshot_record_bytes))
      flush();
  }

  void flush() {
    if (!first_) {
      pk_.pack_array(2);
      pk_.pack(as_uint(snapshot::tag::key_more));
    }
    first_ = false;
    pk_.pack_array(static_cast<std::uint32_t>(chunk_.size()));
    for (const std::string_view item : chunk_)
      pk_.pack_str(static_cast<std::uint32_t>(item.size()))
          .pack_str_body(item.data(), static_cast<std::uint32_t>(item.size()));
    chunk_.clear();
    chunk_bytes_ = 0;
  }

  packer& pk_;
  std::vector<std::string_view>& chunk_;
  std::size_t chunk_bytes_ = 0;
  bool first_ = true;
};

} // namespace

void keyspace::begin_snapshot(const client_sessions& sessions) {
  PREZ_ASSERT(snapshot_ == nullptr);
  auto job = std::make_unique<snapshot_job>();
  job->key_count = keys_.size();
  job->key_bytes = bytes_;
  job->tombstone_count = tombstones_.size();
  job->client_count = sessions.size();
  snapshot::string_writer writer{job->prologue};
  packer pk(writer);
  pk.pack_array(7);
  pk.pack(as_uint(snapshot::tag::header));
  pk.pack(snapshot::magic);
  pk.pack(snapshot::format_version);
  pk.pack(version_clock_);
  pk.pack(absent_version_);
  pk.pack(draws_);
  pk.pack(clock_ms_);
  constexpr std::size_t pairs_max = limits::snapshot_record_items_max / 2;
  for (auto it = tombstones_.begin(); it != tombstones_.end();) {
    const auto left = static_cast<std::size_t>(std::distance(it, tombstones_.end()));
    const std::size_t pairs = std::min(left, pairs_max);
    pk.pack_array(2);
    pk.pack(as_uint(snapshot::tag::tombstones));
    pk.pack_array(static_cast<std::uint32_t>(pairs * 2));
    for (std::size_t i = 0; i < pairs; ++i, ++it) {
      pk.pack(it->first);
      pk.pack(it->second);
    }
  }
  sessions.serialise(job->prologue);
  snapshot_ = std::move(job);
}

void keyspace::before_change(std::string_view key) {
  snapshot_job& job = *snapshot_;
  if (job.detached) return; // the snapshot reads only its frozen map and saves now
  const std::uint64_t hash = key_hash(key);
  struct probe_type {
    std::uint64_t hash;
    std::string_view name;
  } const probe{hash, key};
  if (job.last_written && !slot_order{}(*job.last_written, probe)) return; // written already
  if (job.saved.find(probe) != job.saved.end()) return; // its state at begin is saved
  const auto found = keys_.find(probe);
  std::optional<entry> state;
  if (found != keys_.end()) state = found->second;
  job.saved.emplace(key_slot{hash, std::string(key)}, std::move(state));
}

bool keyspace::snapshot_next(std::string& out, std::size_t bytes_max) {
  PREZ_ASSERT(snapshot_ != nullptr);
  snapshot_job& job = *snapshot_;
  const std::size_t start = out.size();
  const std::size_t budget = std::max<std::size_t>(bytes_max, 1);
  if (job.prologue_sent < job.prologue.size()) {
    const std::size_t piece = std::min(budget, job.prologue.size() - job.prologue_sent);
    out.append(job.prologue, job.prologue_sent, piece);
    job.prologue_sent += piece;
    if (job.prologue_sent < job.prologue.size()) return false;
    std::string().swap(job.prologue);
    job.prologue_sent = 0;
    if (out.size() - start >= budget) return false;
  }
  if (!write_snapshot_keys(out, start, budget)) return false;
  snapshot::string_writer writer{out};
  packer pk(writer);
  pk.pack_array(5);
  pk.pack(as_uint(snapshot::tag::end));
  pk.pack(static_cast<std::uint64_t>(job.key_count));
  pk.pack(static_cast<std::uint64_t>(job.key_bytes));
  pk.pack(static_cast<std::uint64_t>(job.tombstone_count));
  pk.pack(static_cast<std::uint64_t>(job.client_count));
  snapshot_.reset();
  return true;
}

bool keyspace::write_snapshot_keys(std::string& out, std::size_t start, std::size_t budget) {
  snapshot_job& job = *snapshot_;
  map_type& source = job.detached ? job.frozen : keys_;
  auto live = job.last_written ? source.upper_bound(*job.last_written) : source.begin();
  auto saved = job.saved.begin();
  PREZ_ASSERT(saved == job.saved.end() || !job.last_written ||
              slot_order{}(*job.last_written, saved->first));
  snapshot::string_writer writer{out};
  packer pk(writer);
  std::vector<std::string_view> chunk;
  key_writer key_out(pk, chunk);
  const key_slot* last = nullptr; // the last key passed in this call
  bool done = false;
  for (;;) {
    const bool live_left = live != source.end();
    const bool saved_left = saved != job.saved.end();
    if (!live_left && !saved_left) {
      done = true;
      break;
    }
    // The next key in slot order; a saved state wins over the live entry of the same key.
    const bool take_saved = saved_left && (!live_left || !slot_order{}(live->first, saved->first));
    const key_slot& slot = take_saved ? saved->first : live->first;
    const entry* e = take_saved ? (saved->second ? &*saved->second : nullptr) : &live->second;
    if (e != nullptr) {
      const std::size_t written = out.size() - start;
      if (written > 0 && written + encoded_bytes_max(slot, *e) > budget) break;
      key_out.write(slot, *e);
    }
    last = &slot;
    if (take_saved) {
      if (live_left && !slot_order{}(saved->first, live->first)) ++live; // the same key
      ++saved;
    } else {
      ++live;
    }
  }
  if (last != nullptr) job.last_written = *last;
  // What was passed is never needed again: free it (spreads a detached map's destruction).
  job.saved.erase(job.saved.begin(), saved);
  if (job.detached) source.erase(source.begin(), live);
  return done;
}

} // namespace prez::kv
