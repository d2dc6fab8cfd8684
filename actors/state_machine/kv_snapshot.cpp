// Writing a snapshot of the key space while entries keep being applied: the copy-on-write hook
// (before_change) and the writer (begin_snapshot, snapshot_next). The invariant that makes the
// result consistent is on kv::keyspace (kv_state.hpp); the byte format is in state_restore.hpp.

#include <algorithm>
#include <deque>
#include <limits>

#include "actors/state_machine/client_sessions.hpp"
#include "actors/state_machine/kv_commands.hpp"
#include "actors/state_machine/snapshot_format.hpp"
#include "actors/state_machine/value_items.hpp"
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
    std::size_t operator()(const zset_value& sorted) const { return 1 + sorted.size() * 2; }
    std::size_t operator()(const stream_value& s) const { return s.item_count(); }
  };
  return std::visit(counter{}, data);
}

/// Longest score text format_score() writes ("-2.2250738585072014e-308" is 24), minus the
/// zset_score_bytes entry::bytes already counts for it.
constexpr std::size_t score_text_extra_bytes_max = 32 - zset_score_bytes;

/// An upper bound on the bytes key_writer::write() appends for `e` (msgpack headers: at most 5
/// bytes per item, 48 per record; a sorted set's scores are written as text; a stream's entry
/// and group items are exactly the bytes entry::bytes counts for them, its head at most 130).
std::size_t encoded_bytes_max(const key_slot& slot, const entry& e) {
  const std::size_t items = item_count(e.data);
  const std::size_t score_text_bytes = // the scores, plus the seed (at most 20 digits)
      std::holds_alternative<zset_value>(e.data)     ? items / 2 * score_text_extra_bytes_max + 32
      : std::holds_alternative<stream_value>(e.data) ? 130
                                                     : 0;
  return 64 + slot.name.size() + e.bytes + score_text_bytes + 5 * items +
         48 * (items / (limits::snapshot_record_items_max / 2) + 1) +
         48 * (e.bytes / limits::snapshot_record_bytes + 1);
}

} // namespace

/// Writes one key: its key record, then key_more records while items remain. A record closes
/// when it holds snapshot_record_items_max items or snapshot_record_bytes bytes of items, and
/// never between a hash field and its value, so the restorer never sees half a pair. Where
/// records close depends only on the value, never on a call's budget, so a key written over
/// several calls gives the same bytes as one written at once.
class key_writer {
public:
  using progress = keyspace::snapshot_progress;

  key_writer(packer& pk, const std::string& out) : pk_(pk), out_(out) {}

  /// Writes `e` from the start (`from` nullptr: with its key record) or from where an earlier
  /// call stopped. Stops after the first record that brings `out` to `stop_at` bytes or more
  /// while items remain: returns false and sets `stopped` (all but its slot). Returns true once
  /// every item is written.
  bool write(const key_slot& slot, const entry& e, const progress* from, std::size_t stop_at,
             progress& stopped) {
    const std::size_t items = item_count(e.data);
    total_ = items;
    done_ = from == nullptr ? 0 : from->items_done;
    first_ = from == nullptr;
    stop_at_ = stop_at;
    kind_ = type_of(e.data);
    chunk_.clear();
    chunk_bytes_ = 0;
    score_texts_.clear();
    if (from == nullptr) {
      pk_.pack_array(7);
      pk_.pack(as_uint(snapshot::tag::key));
      pk_.pack(slot.name);
      pk_.pack(static_cast<std::uint64_t>(kind_));
      pk_.pack(e.expires_at_ms);
      pk_.pack(e.version);
      pk_.pack(static_cast<std::uint64_t>(items));
    }
    const std::string* after = from == nullptr ? nullptr : &from->last_item;
    const bool complete =
        std::visit([&](const auto& data) { return add_items(data, after); }, e.data);
    if (!complete) {
      stopped.items_done = done_;
      stopped.last_item = std::move(last_item_);
      return false;
    }
    if (first_ || !chunk_.empty()) flush();
    return true;
  }

private:
  // Each add_items() adds the items from done_ (after `after` for hashes and sets) and returns
  // false when add() stopped.
  bool add_items(const std::string& text, const std::string*) {
    const std::string_view all(text);
    for (std::size_t piece = done_; piece < total_; ++piece)
      if (!add(all.substr(piece * limits::snapshot_string_piece_bytes,
                          limits::snapshot_string_piece_bytes),
               true))
        return false;
    return true;
  }
  bool add_items(const list_value& list, const std::string*) {
    for (std::size_t i = done_; i < total_; ++i)
      if (!add(list[i], true)) return false;
    return true;
  }
  bool add_items(const hash_value& hash, const std::string* after) {
    for (auto it = after ? hash.upper_bound(*after) : hash.begin(); it != hash.end(); ++it) {
      add(it->first, false);
      if (!add(it->second, true)) return false;
    }
    return true;
  }
  bool add_items(const set_value& set, const std::string* after) {
    for (auto it = after ? set.upper_bound(*after) : set.begin(); it != set.end(); ++it)
      if (!add(*it, true)) return false;
    return true;
  }
  bool add_items(const zset_value& sorted, const std::string* after) {
    // The seed first (never closes a record: the first record always holds a pair after it).
    if (after == nullptr) add(score_texts_.emplace_back(seed_text(sorted)), false);
    const auto& members = sorted.by_member();
    for (auto it = after ? members.upper_bound(*after) : members.begin(); it != members.end();
         ++it) {
      add(it->first, false);
      // %.17g reads back to the same double; chunk_ views the text until flush().
      if (!add(score_texts_.emplace_back(format_score(it->second)), true)) return false;
    }
    return true;
  }
  bool add_items(const stream_value& s, const std::string* after) {
    // The head first (never closes a record, as a sorted set's seed); then the entries and the
    // group items, resuming after the resume key of the item an earlier call stopped at.
    if (after == nullptr) add(score_texts_.emplace_back(s.head_item()), false);
    bool more = true;
    s.items(after, [&](std::string item, std::string resume_key) {
      stream_resume_ = std::move(resume_key);
      more = add(score_texts_.emplace_back(std::move(item)), true);
      return more;
    });
    return more;
  }

  /// Adds one item; returns false when it closed a record, `out` reached stop_at_ and items
  /// remain (the caller stops there).
  bool add(std::string_view item, bool may_close) {
    chunk_.push_back(item);
    chunk_bytes_ += item.size();
    ++done_;
    if (!may_close || (chunk_.size() + 2 <= limits::snapshot_record_items_max &&
                       chunk_bytes_ < limits::snapshot_record_bytes))
      return true;
    // A hash, set or sorted set resumes after its last field or member written (an index would
    // need a walk).
    const bool pairs = kind_ == snapshot::value_type::hash || kind_ == snapshot::value_type::zset;
    std::string_view resume_after = pairs ? chunk_[chunk_.size() - 2] : chunk_.back();
    // A stream resumes after its last item's resume key (stream::items()); the others after
    // the item, copied now: flush() clears score_texts_, which holds it.
    std::string resume =
        kind_ == snapshot::value_type::stream ? stream_resume_ : std::string(resume_after);
    flush();
    if (out_.size() < stop_at_ || done_ == total_) return true;
    last_item_ = std::move(resume);
    return false;
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
    score_texts_.clear();
  }

  packer& pk_;
  const std::string& out_;
  std::vector<std::string_view> chunk_;
  std::size_t chunk_bytes_ = 0;
  std::size_t total_ = 0;
  std::size_t done_ = 0;
  std::size_t stop_at_ = 0;
  std::string last_item_;
  /// Sorted set scores and stream items made for the record being built (chunk_ views them; a
  /// deque never moves its elements on emplace_back). Cleared by flush().
  std::deque<std::string> score_texts_;
  /// A stream's: the resume key of the item added last (stream::items()).
  std::string stream_resume_;
  snapshot::value_type kind_ = snapshot::value_type::string;
  bool first_ = true;
};

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
  std::size_t left = tombstones_.size();
  for (auto it = tombstones_.begin(); it != tombstones_.end(); left -= std::min(left, pairs_max)) {
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
  blocked_.serialise(job->prologue);
  {
    snapshot::string_writer writer{job->prologue};
    snapshot::packer script_pk(writer);
    for (const auto& [sha, body] : scripts_) {
      script_pk.pack_array(2);
      script_pk.pack(as_uint(snapshot::tag::script));
      script_pk.pack(body);
    }
    for (const auto& [name, library] : libraries_) {
      script_pk.pack_array(2);
      script_pk.pack(as_uint(snapshot::tag::library));
      script_pk.pack(library.code);
    }
  }
  snapshot_ = std::move(job);
}

void keyspace::before_change(std::string_view key, bool data_replaced) {
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
  if (found != keys_.end() && data_replaced)
    state = std::move(found->second); // the caller assigns new data; the metadata stays
  else if (found != keys_.end())
    state = found->second;
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

bool keyspace::continue_partial_key(key_writer& key_out, std::size_t stop_at) {
  snapshot_job& job = *snapshot_;
  snapshot_progress& partial = *job.partial;
  // The key was present at begin (it is being written), so its state at begin is saved or live.
  const entry* e = nullptr;
  if (const auto saved = job.saved.find(partial.slot); saved != job.saved.end()) {
    PREZ_ASSERT(saved->second.has_value());
    e = &*saved->second;
  } else {
    const map_type& source = job.detached ? job.frozen : keys_;
    const auto live = source.find(partial.slot);
    PREZ_ASSERT(live != source.end());
    e = &live->second;
  }
  snapshot_progress stopped;
  if (!key_out.write(partial.slot, *e, &partial, stop_at, stopped)) {
    partial.items_done = stopped.items_done;
    partial.last_item = std::move(stopped.last_item);
    return false;
  }
  // Saves up to this key are passed: its own, and "absent" for keys created before it since.
  job.saved.erase(job.saved.begin(), job.saved.upper_bound(partial.slot));
  job.last_written = std::move(partial.slot);
  job.partial.reset();
  return true;
}

bool keyspace::write_snapshot_keys(std::string& out, std::size_t start, std::size_t budget) {
  snapshot_job& job = *snapshot_;
  snapshot::string_writer writer{out};
  packer pk(writer);
  key_writer key_out(pk, out);
  if (job.partial && !continue_partial_key(key_out, start + budget)) return false;
  map_type& source = job.detached ? job.frozen : keys_;
  auto live = job.last_written ? source.upper_bound(*job.last_written) : source.begin();
  auto saved = job.saved.begin();
  PREZ_ASSERT(saved == job.saved.end() || !job.last_written ||
              slot_order{}(*job.last_written, saved->first));
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
      if (written >= budget) break;
      const std::size_t size = encoded_bytes_max(slot, *e);
      snapshot_progress stopped;
      if (size <= budget - written) {
        key_out.write(slot, *e, nullptr, std::numeric_limits<std::size_t>::max(), stopped);
      } else if (size <= budget) {
        break; // it fits a call of its own: the next one
      } else if (!key_out.write(slot, *e, nullptr, start + budget, stopped)) {
        stopped.slot = slot; // bigger than a call: written over several, from here on
        job.partial = std::move(stopped);
        break;
      }
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
