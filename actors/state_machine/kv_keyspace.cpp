// The key space's bookkeeping: lookup with lazy expiry, the expiry index, WATCH versions and the
// byte count. Every change to a key goes through here or calls touch()/grow()/shrink(). Every
// write path calls before_change() first, for a running snapshot (kv_snapshot.cpp).

#include <algorithm>
#include <iterator>

#include "actors/state_machine/kv_commands.hpp"
#include "config/assert.hpp"
#include "config/limits.hpp"

namespace prez::kv {

namespace {

struct key_probe {
  std::uint64_t hash;
  std::string_view name;
};

key_probe probe(std::string_view key) {
  return {key_hash(key), key};
}

std::size_t payload_bytes(const value& data) {
  struct counter {
    std::size_t operator()(const std::string& text) const { return text.size(); }
    std::size_t operator()(const list_value& list) const {
      std::size_t total = 0;
      for (const auto& item : list)
        total += item.size();
      return total;
    }
    std::size_t operator()(const hash_value& hash) const {
      std::size_t total = 0;
      for (const auto& [field, text] : hash)
        total += field_bytes(field, text);
      return total;
    }
    std::size_t operator()(const set_value& set) const {
      std::size_t total = 0;
      for (const auto& member : set)
        total += member.size();
      return total;
    }
    std::size_t operator()(const zset_value& sorted) const {
      std::size_t total = 0;
      for (const auto& [member, score] : sorted.by_member())
        total += zset_member_bytes(member);
      return total;
    }
    std::size_t operator()(const stream_value& s) const {
      std::size_t total = s.group_bytes();
      for (const auto& [id, item] : s.entries())
        total += stream_entry_bytes(item);
      return total;
    }
  };
  return std::visit(counter{}, data);
}

bool expired(const entry& e, std::uint64_t time_ms) {
  return e.expires_at_ms != 0 && e.expires_at_ms <= time_ms;
}

} // namespace

std::uint64_t key_hash(std::string_view name) {
  std::uint64_t hash = 0xcbf29ce484222325ULL; // FNV-1a 64
  for (const char c : name) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  hash = mix64(hash);
  return hash == 0 ? 1 : hash; // 0 is SCAN's "start"/"done" cursor
}

entry* keyspace::find(std::string_view key) {
  const auto found = keys_.find(probe(key));
  if (found == keys_.end()) return nullptr;
  if (snapshot_) before_change(key);
  return &found->second;
}

const entry* keyspace::find(std::string_view key) const {
  const auto found = keys_.find(probe(key));
  return found == keys_.end() ? nullptr : &found->second;
}

entry* keyspace::find_live(std::string_view key, std::uint64_t time_ms) {
  return maybe_expire(key, time_ms) ? nullptr : find(key);
}

bool keyspace::maybe_expire(std::string_view key, std::uint64_t time_ms) {
  const entry* e = std::as_const(*this).find(key);
  if (e == nullptr || !expired(*e, time_ms)) return false;
  erase_expired(key);
  return true;
}

void keyspace::erase_expired(std::string_view key) {
  erase(key);
  notify(notify::expired, "expired", key);
}

const entry* keyspace::find_visible(std::string_view key, std::uint64_t now_ms) const {
  const entry* e = find(key);
  return e == nullptr || expired(*e, now_ms) ? nullptr : e;
}

entry& keyspace::insert(std::string_view key, value data) {
  if (snapshot_) before_change(key);
  const std::size_t payload = payload_bytes(data);
  auto [it, inserted] = keys_.try_emplace(key_slot{key_hash(key), std::string(key)},
                                          entry{std::move(data), 0, 0, payload});
  PREZ_ASSERT(inserted);
  if (const auto tombstone = tombstones_.find(key); tombstone != tombstones_.end())
    tombstones_.erase(tombstone);
  bytes_ += key.size() + payload;
  touch(it->second);
  notify(notify::new_key, "new", key);
  return it->second;
}

entry& keyspace::put_string(std::string_view key, std::string text) {
  // Not find(): the old value is replaced whole, so a running snapshot may take it, not copy it.
  const auto found = keys_.find(probe(key));
  if (found == keys_.end()) return insert(key, std::move(text));
  if (snapshot_) before_change(key, true);
  entry* e = &found->second;
  set_expiry(key, *e, 0);
  shrink(*e, e->bytes);
  const std::size_t added = text.size();
  e->data = std::move(text);
  grow(*e, added);
  return *e;
}

bool keyspace::erase(std::string_view key) {
  const auto found = keys_.find(probe(key));
  if (found == keys_.end()) return false;
  if (found->second.expires_at_ms != 0)
    expiries_.erase({found->second.expires_at_ms, std::string(key)});
  bytes_ -= key.size() + found->second.bytes;
  if (snapshot_) {
    // Copy-on-write without the copy: the entry goes to the snapshot when it still needs it.
    auto node = keys_.extract(found);
    if (!snapshot_->detached &&
        (!snapshot_->last_written || slot_order{}(*snapshot_->last_written, node.key())))
      snapshot_->saved.try_emplace(std::move(node.key()), std::move(node.mapped()));
  } else {
    keys_.erase(found);
  }
  record_tombstone(key);
  return true;
}

void keyspace::record_tombstone(std::string_view key) {
  if (tombstones_.size() >= limits::kv_tombstones_max) {
    tombstones_.clear();
    absent_version_ = ++version_clock_;
  }
  tombstones_.insert_or_assign(std::string(key), ++version_clock_);
}

void keyspace::set_expiry(std::string_view key, entry& e, std::uint64_t deadline_ms) {
  if (e.expires_at_ms == deadline_ms) return;
  if (snapshot_) before_change(key); // already saved by whoever handed out `e`; cheap to check
  if (e.expires_at_ms != 0) expiries_.erase({e.expires_at_ms, std::string(key)});
  e.expires_at_ms = deadline_ms;
  if (deadline_ms != 0) expiries_.emplace(deadline_ms, std::string(key));
  touch(e);
}

void keyspace::grow(entry& e, std::size_t added_bytes) {
  e.bytes += added_bytes;
  bytes_ += added_bytes;
  touch(e);
}

void keyspace::shrink(entry& e, std::size_t removed_bytes) {
  PREZ_ASSERT(removed_bytes <= e.bytes);
  e.bytes -= removed_bytes;
  bytes_ -= removed_bytes;
  touch(e);
}

std::size_t keyspace::expire_due(std::uint64_t time_ms, std::size_t keys_max) {
  std::size_t removed = 0;
  while (removed < keys_max && !expiries_.empty() && expiries_.begin()->first <= time_ms) {
    const std::string key = expiries_.begin()->second;
    PREZ_ASSERT(find(key) != nullptr);
    erase_expired(key);
    ++removed;
  }
  return removed;
}

void keyspace::flush() {
  // As in Redis, WATCH sees the keys that existed change and the absent ones stay untouched:
  // each present key gets a tombstone with a fresh version, absent keys keep theirs. Past the
  // tombstone bound every absent key gets a new version instead (an EXEC may then abort
  // needlessly, never pass wrongly).
  if (tombstones_.size() + keys_.size() <= limits::kv_tombstones_max) {
    for (const auto& [slot, e] : keys_)
      tombstones_.insert_or_assign(slot.name, ++version_clock_);
  } else {
    tombstones_.clear();
    absent_version_ = ++version_clock_;
  }
  if (snapshot_ && !snapshot_->detached) {
    // The snapshot takes the whole map as it is (O(1)) and never reads the live map again.
    snapshot_->frozen.swap(keys_);
    snapshot_->detached = true;
  }
  keys_.clear();
  expiries_.clear();
  bytes_ = 0;
}

void keyspace::publish_event(std::string_view event, std::string_view key) {
  if (notify_flags_ & notify::keyspace) {
    std::string channel = "__keyspace@0__:";
    channel += key;
    publish(std::move(channel), std::string(event));
  }
  if (notify_flags_ & notify::keyevent) {
    std::string channel = "__keyevent@0__:";
    channel += event;
    publish(std::move(channel), std::string(key));
  }
}

std::optional<int> parse_notify_flags(std::string_view letters) {
  int flags = 0;
  for (const char letter : letters) {
    switch (letter) {
      case 'A':
        flags |= notify::all;
        break;
      case 'K':
        flags |= notify::keyspace;
        break;
      case 'E':
        flags |= notify::keyevent;
        break;
      case 'g':
        flags |= notify::generic;
        break;
      case '$':
        flags |= notify::string;
        break;
      case 'l':
        flags |= notify::list;
        break;
      case 's':
        flags |= notify::set;
        break;
      case 'h':
        flags |= notify::hash;
        break;
      case 'z':
        flags |= notify::zset;
        break;
      case 'x':
        flags |= notify::expired;
        break;
      case 'e':
        flags |= notify::evicted;
        break;
      case 't':
        flags |= notify::stream;
        break;
      case 'm':
        flags |= notify::key_miss;
        break;
      case 'd':
        flags |= notify::module;
        break;
      case 'n':
        flags |= notify::new_key;
        break;
      default:
        return std::nullopt;
    }
  }
  return flags;
}

std::string notify_flags_text(int flags) {
  // Redis's canonical text, except that n stays after A (see below).
  constexpr std::pair<int, char> classes[] = {
      {notify::generic, 'g'}, {notify::string, '$'}, {notify::list, 'l'},    {notify::set, 's'},
      {notify::hash, 'h'},    {notify::zset, 'z'},   {notify::expired, 'x'}, {notify::evicted, 'e'},
      {notify::stream, 't'},  {notify::module, 'd'}, {notify::new_key, 'n'}};
  char letters[std::size(classes) + 3] = {};
  std::size_t count = 0;
  if ((flags & notify::all) == notify::all) {
    letters[count++] = 'A';
    // Redis writes "A" and keeps n in its flags; prez keeps the text, so it must keep the n.
    if (flags & notify::new_key) letters[count++] = 'n';
  } else {
    for (const auto& [flag, letter] : classes)
      if (flags & flag) letters[count++] = letter;
  }
  if (flags & notify::keyspace) letters[count++] = 'K';
  if (flags & notify::keyevent) letters[count++] = 'E';
  if (flags & notify::key_miss) letters[count++] = 'm';
  return std::string(letters, count);
}

std::uint64_t keyspace::version(std::string_view key) const {
  if (const entry* e = find(key)) return e->version;
  const auto tombstone = tombstones_.find(key);
  return tombstone == tombstones_.end() ? absent_version_ : tombstone->second;
}

std::uint64_t keyspace::draw(std::uint64_t time_ms) {
  ++draws_;
  return mix64(time_ms ^ mix64(draws_));
}

std::size_t keyspace::visible_count(std::uint64_t now_ms) const {
  std::size_t expired_count = 0;
  for (auto it = expiries_.begin(); it != expiries_.end() && it->first <= now_ms; ++it)
    ++expired_count;
  return keys_.size() - expired_count;
}

std::size_t keyspace::recount_bytes() const {
  std::size_t total = 0;
  for (const auto& [slot, e] : keys_) {
    PREZ_ASSERT(e.bytes == payload_bytes(e.data));
    total += slot.name.size() + e.bytes;
  }
  return total;
}

std::uint64_t keyspace::advance_clock(std::uint64_t time_ms) {
  clock_ms_ = std::max(clock_ms_, time_ms);
  return clock_ms_;
}

} // namespace prez::kv
