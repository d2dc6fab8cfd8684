// The stream value: IDs, entries, trimming, and its items for snapshots and DUMP payloads.

#include "actors/state_machine/stream.hpp"

#include <charconv>
#include <utility>

namespace prez::kv {

namespace {

/// Redis's string2ull for IDs: decimal digits only (no sign, no spaces), fitting 64 bits.
std::optional<std::uint64_t> parse_u64(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

void put_u64(std::string& out, std::uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((value >> shift) & 0xffu));
}

std::uint64_t get_u64(std::string_view bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < 8; ++i)
    value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

void put_u32(std::string& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((value >> shift) & 0xffu));
}

std::uint32_t get_u32(std::string_view bytes) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i)
    value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

std::uint64_t node_of(const stream_entry& entry) {
  return (entry.ordinal - 1) / stream::node_entries;
}

} // namespace

std::string to_string(stream_id id) {
  return std::to_string(id.ms) + "-" + std::to_string(id.seq);
}

std::optional<stream_id> parse_stream_id(std::string_view text, std::uint64_t missing_seq,
                                         bool strict, bool* seq_given) {
  if (seq_given != nullptr) *seq_given = true;
  if (!strict && text == "-") return stream_id{};
  if (!strict && text == "+") return stream_id_max;
  const auto dash = text.find('-');
  const auto ms = parse_u64(text.substr(0, dash));
  if (!ms) return std::nullopt;
  if (dash == std::string_view::npos) return stream_id{*ms, missing_seq};
  const std::string_view rest = text.substr(dash + 1);
  if (seq_given != nullptr && rest == "*") {
    *seq_given = false;
    return stream_id{*ms, 0};
  }
  const auto seq = parse_u64(rest);
  if (!seq) return std::nullopt;
  return stream_id{*ms, *seq};
}

bool increment(stream_id& id) {
  if (id.seq != ~std::uint64_t{0}) {
    ++id.seq;
    return true;
  }
  if (id.ms == ~std::uint64_t{0}) return false;
  ++id.ms;
  id.seq = 0;
  return true;
}

bool decrement(stream_id& id) {
  if (id.seq != 0) {
    --id.seq;
    return true;
  }
  if (id.ms == 0) return false;
  --id.ms;
  id.seq = ~std::uint64_t{0};
  return true;
}

std::size_t stream_entry_bytes(const stream_entry& entry) {
  std::size_t bytes = 24;
  for (const auto& text : entry.fields)
    bytes += 4 + text.size();
  return bytes;
}

stream::stream() : d_(std::make_unique<state>()) {}

stream::stream(const stream& other) : d_(std::make_unique<state>(*other.d_)) {}

stream& stream::operator=(const stream& other) {
  if (this != &other) d_ = std::make_unique<state>(*other.d_);
  return *this;
}

stream::stream(stream&& other) noexcept : d_(std::exchange(other.d_, std::make_unique<state>())) {}

stream& stream::operator=(stream&& other) noexcept {
  if (this != &other) d_ = std::exchange(other.d_, std::make_unique<state>());
  return *this;
}

stream::~stream() = default;

std::optional<stream_id> stream::next_id(std::uint64_t time_ms,
                                         std::optional<std::uint64_t> ms) const {
  if (ms) { // "ms-*": the next sequence number in that millisecond, or 0 in a later one
    if (*ms > d_->last_id.ms) return stream_id{*ms, 0};
    if (*ms < d_->last_id.ms || d_->last_id.seq == ~std::uint64_t{0}) return std::nullopt;
    return stream_id{*ms, d_->last_id.seq + 1};
  }
  if (time_ms > d_->last_id.ms) return stream_id{time_ms, 0};
  stream_id id = d_->last_id;
  if (!increment(id)) return std::nullopt;
  return id;
}

std::size_t stream::append(stream_id id, std::vector<std::string> fields) {
  ++d_->entries_added;
  stream_entry entry{++d_->appended, std::move(fields)};
  const std::size_t bytes = stream_entry_bytes(entry);
  d_->entries.emplace_hint(d_->entries.end(), id, std::move(entry));
  d_->last_id = id;
  return bytes;
}

std::size_t stream::erase(stream_id id) {
  const auto found = d_->entries.find(id);
  if (found == d_->entries.end()) return 0;
  const std::size_t bytes = stream_entry_bytes(found->second);
  d_->entries.erase(found);
  if (id > d_->max_deleted_id) d_->max_deleted_id = id;
  return bytes;
}

void stream::pop_front(std::size_t& bytes_removed) {
  bytes_removed += stream_entry_bytes(d_->entries.begin()->second);
  d_->entries.erase(d_->entries.begin());
}

std::size_t stream::first_node_size() const {
  const std::uint64_t node = node_of(d_->entries.begin()->second);
  std::size_t count = 0;
  for (auto it = d_->entries.begin(); it != d_->entries.end() && node_of(it->second) == node; ++it)
    ++count;
  return count;
}

stream_id stream::first_node_last_id() const {
  const std::uint64_t node = node_of(d_->entries.begin()->second);
  stream_id last = d_->entries.begin()->first;
  for (auto it = d_->entries.begin(); it != d_->entries.end() && node_of(it->second) == node; ++it)
    last = it->first;
  return last;
}

std::size_t stream::trim_to_length(std::uint64_t maxlen, bool approx, std::uint64_t limit,
                                   std::size_t& bytes_removed) {
  std::size_t removed = 0;
  if (!approx) {
    while (d_->entries.size() > maxlen) {
      pop_front(bytes_removed);
      ++removed;
    }
    return removed;
  }
  while (d_->entries.size() > maxlen) {
    const std::size_t node = first_node_size();
    if (limit != 0 && removed + node > limit) break;
    if (d_->entries.size() - node < maxlen) break;
    for (std::size_t i = 0; i < node; ++i)
      pop_front(bytes_removed);
    removed += node;
  }
  return removed;
}

std::size_t stream::trim_below(stream_id minid, bool approx, std::uint64_t limit,
                               std::size_t& bytes_removed) {
  std::size_t removed = 0;
  if (!approx) {
    while (!d_->entries.empty() && d_->entries.begin()->first < minid) {
      pop_front(bytes_removed);
      ++removed;
    }
    return removed;
  }
  while (!d_->entries.empty()) {
    const std::size_t node = first_node_size();
    if (limit != 0 && removed + node > limit) break;
    if (!(first_node_last_id() < minid)) break;
    for (std::size_t i = 0; i < node; ++i)
      pop_front(bytes_removed);
    removed += node;
  }
  return removed;
}

std::string stream::head_item() const {
  std::string head = to_string(d_->last_id) + " " + to_string(d_->max_deleted_id) + " " +
                     std::to_string(d_->entries_added) + " " + std::to_string(d_->appended);
  if (!d_->groups.empty())
    head += " " + std::to_string(d_->entries.size()) + " " + std::to_string(d_->groups.size());
  return head;
}

std::optional<stream> stream::from_head(std::string_view item) {
  std::vector<std::string_view> fields;
  for (std::size_t at = 0;;) {
    const auto space = item.find(' ', at);
    fields.push_back(item.substr(at, space == std::string_view::npos ? space : space - at));
    if (space == std::string_view::npos) break;
    at = space + 1;
  }
  if (fields.size() != 4 && fields.size() != 6) return std::nullopt;
  const auto last = parse_stream_id(fields[0], 0, true);
  const auto deleted = parse_stream_id(fields[1], 0, true);
  const auto added = parse_u64(fields[2]);
  const auto appended = parse_u64(fields[3]);
  if (!last || !deleted || !added || !appended || fields[0].find('-') == std::string_view::npos ||
      fields[1].find('-') == std::string_view::npos)
    return std::nullopt;
  stream s;
  s.d_->last_id = *last;
  s.d_->max_deleted_id = *deleted;
  s.d_->entries_added = *added;
  s.d_->appended = *appended;
  if (fields.size() == 6) {
    const auto entries = parse_u64(fields[4]);
    const auto groups = parse_u64(fields[5]);
    if (!entries || !groups || *groups == 0) return std::nullopt;
    s.d_->loading = loading_state{*entries, *groups, {}, 0, 0};
  }
  return s;
}

std::string stream::entry_item(stream_id id, const stream_entry& entry) {
  std::string out;
  out.reserve(stream_entry_bytes(entry));
  put_u64(out, id.ms);
  put_u64(out, id.seq);
  put_u64(out, entry.ordinal);
  for (const auto& text : entry.fields) {
    put_u32(out, static_cast<std::uint32_t>(text.size()));
    out += text;
  }
  return out;
}

std::optional<std::size_t> stream::add_entry_item(std::string_view item) {
  if (item.size() < 24 || (d_->loading && d_->loading->entries_left == 0)) return std::nullopt;
  const stream_id id{get_u64(item), get_u64(item.substr(8))};
  stream_entry entry;
  entry.ordinal = get_u64(item.substr(16));
  if (id > d_->last_id || (!d_->entries.empty() && !(d_->entries.rbegin()->first < id)))
    return std::nullopt;
  if (entry.ordinal == 0 || entry.ordinal > d_->appended ||
      (!d_->entries.empty() && entry.ordinal <= d_->entries.rbegin()->second.ordinal))
    return std::nullopt;
  std::size_t at = 24;
  while (at < item.size()) {
    if (item.size() - at < 4) return std::nullopt;
    const std::size_t length = get_u32(item.substr(at));
    at += 4;
    if (item.size() - at < length) return std::nullopt;
    entry.fields.emplace_back(item.substr(at, length));
    at += length;
  }
  if (entry.fields.empty() || entry.fields.size() % 2 != 0) return std::nullopt;
  const std::size_t bytes = stream_entry_bytes(entry);
  d_->entries.emplace_hint(d_->entries.end(), id, std::move(entry));
  if (d_->loading) --d_->loading->entries_left;
  return bytes;
}

// --- consumer groups ---------------------------------------------------------------------------

namespace {

// Item sizes, which d_->group_bytes sums (stream.hpp): a group item is 'G', its name's length (4)
// and name, its last ID (16), read counter (8), consumer and pending counts (8 each); a consumer
// item 'C', its seen time (8) and name; a pending item 'P', its ID (16), delivery time and count
// (8 each) and its consumer's name.
constexpr std::size_t group_item_fixed = 1 + 4 + 16 + 8 + 8 + 8;
constexpr std::size_t consumer_item_fixed = 1 + 8;
constexpr std::size_t pending_item_fixed = 1 + 16 + 8 + 8;

void put_id(std::string& out, stream_id id) {
  put_u64(out, id.ms);
  put_u64(out, id.seq);
}

stream_id get_id(std::string_view bytes) {
  return stream_id{get_u64(bytes), get_u64(bytes.substr(8))};
}

/// A resume key for an item of group `name`: its kind, the name's length and the name, then
/// `rest`.
std::string group_key(char kind, std::string_view name, std::string_view rest = {}) {
  std::string key(1, kind);
  put_u32(key, static_cast<std::uint32_t>(name.size()));
  key += name;
  key += rest;
  return key;
}

std::string id_bytes(stream_id id) {
  std::string out;
  put_id(out, id);
  return out;
}

} // namespace

stream_group* stream::find_group(std::string_view name) {
  const auto it = d_->groups.find(name);
  return it == d_->groups.end() ? nullptr : &it->second;
}

const stream_group* stream::find_group(std::string_view name) const {
  const auto it = d_->groups.find(name);
  return it == d_->groups.end() ? nullptr : &it->second;
}

bool stream::create_group(std::string_view name, stream_id last_id, std::int64_t entries_read) {
  if (d_->groups.contains(name)) return false;
  stream_group group;
  group.last_id = last_id;
  group.entries_read = entries_read;
  d_->groups.emplace(std::string(name), std::move(group));
  d_->group_bytes += group_item_fixed + name.size();
  return true;
}

bool stream::destroy_group(std::string_view name) {
  const auto it = d_->groups.find(name);
  if (it == d_->groups.end()) return false;
  std::size_t bytes = group_item_fixed + name.size();
  for (const auto& [consumer, state] : it->second.consumers)
    bytes += consumer_item_fixed + consumer.size();
  for (const auto& [id, pending] : it->second.pel)
    bytes += pending_item_fixed + pending.consumer.size();
  d_->groups.erase(it);
  d_->group_bytes -= bytes;
  return true;
}

bool stream::create_consumer(stream_group& group, std::string_view name, std::uint64_t time_ms) {
  if (group.consumers.contains(name)) return false;
  group.consumers.emplace(std::string(name), stream_consumer{time_ms, {}});
  d_->group_bytes += consumer_item_fixed + name.size();
  return true;
}

stream_consumer& stream::seen_consumer(stream_group& group, std::string_view name,
                                       std::uint64_t time_ms, bool& created) {
  created = create_consumer(group, name, time_ms);
  auto& consumer = group.consumers.find(name)->second;
  consumer.seen_time = time_ms;
  return consumer;
}

std::optional<std::size_t> stream::delete_consumer(stream_group& group, std::string_view name) {
  const auto it = group.consumers.find(name);
  if (it == group.consumers.end()) return std::nullopt;
  const std::size_t pending = it->second.pending.size();
  for (const auto id : it->second.pending)
    group.pel.erase(id);
  d_->group_bytes -=
      consumer_item_fixed + name.size() + pending * (pending_item_fixed + name.size());
  group.consumers.erase(it);
  return pending;
}

void stream::deliver(stream_group& group, stream_id id, const std::string& consumer,
                     std::uint64_t time_ms) {
  claim(group, id, consumer, time_ms, 1, false);
}

void stream::redeliver(stream_pending& pending, std::uint64_t time_ms) {
  pending.delivery_time = time_ms;
  ++pending.delivery_count;
}

void stream::claim(stream_group& group, stream_id id, const std::string& consumer,
                   std::uint64_t delivery_time, std::optional<std::uint64_t> count,
                   bool increment) {
  auto [it, inserted] = group.pel.try_emplace(id);
  stream_pending& pending = it->second;
  if (inserted) {
    pending.delivery_count = 1;
    d_->group_bytes += pending_item_fixed + consumer.size();
  } else if (pending.consumer != consumer) {
    group.consumers.find(pending.consumer)->second.pending.erase(id);
    d_->group_bytes += consumer.size();
    d_->group_bytes -= pending.consumer.size();
  }
  if (pending.consumer != consumer) {
    pending.consumer = consumer;
    group.consumers.find(consumer)->second.pending.insert(id);
  }
  pending.delivery_time = delivery_time;
  if (count)
    pending.delivery_count = *count;
  else if (increment)
    ++pending.delivery_count;
}

bool stream::unpend(stream_group& group, stream_id id) {
  const auto it = group.pel.find(id);
  if (it == group.pel.end()) return false;
  group.consumers.find(it->second.consumer)->second.pending.erase(id);
  d_->group_bytes -= pending_item_fixed + it->second.consumer.size();
  group.pel.erase(it);
  return true;
}

bool stream::has_tombstones_from(stream_id start) const {
  if (d_->entries.empty() || d_->max_deleted_id == stream_id{}) return false;
  if (first_id() > d_->max_deleted_id)
    return false; // the latest tombstone is before the first entry
  return start <= d_->max_deleted_id;
}

std::int64_t stream::estimate_read(stream_id id) const {
  const auto added = static_cast<std::int64_t>(d_->entries_added);
  if (d_->entries_added == 0) return 0;
  if (d_->entries.empty() && id <= d_->last_id) return added;
  if (id == d_->last_id) return added;
  if (id > d_->last_id) return stream_group::unknown_read;
  if (d_->max_deleted_id == stream_id{} || d_->max_deleted_id < first_id()) {
    const auto length = static_cast<std::int64_t>(d_->entries.size());
    if (id < first_id()) return added - length;
    if (id == first_id()) return added - length + 1;
  }
  return stream_group::unknown_read;
}

void stream::advance_group(stream_group& group, stream_id id) const {
  if (!(id > group.last_id)) return;
  if (group.entries_read != stream_group::unknown_read && !has_tombstones_from(id))
    ++group.entries_read;
  else if (d_->entries_added != 0)
    group.entries_read = estimate_read(id);
  group.last_id = id;
}

std::optional<long long> stream::lag(const stream_group& group) const {
  const auto added = static_cast<long long>(d_->entries_added);
  if (d_->entries_added == 0) return 0;
  if (group.entries_read != stream_group::unknown_read && !has_tombstones_from(group.last_id))
    return added - group.entries_read;
  const std::int64_t read = estimate_read(group.last_id);
  if (read == stream_group::unknown_read) return std::nullopt;
  return added - read;
}

// --- items ---------------------------------------------------------------------------------------

std::size_t stream::item_count() const {
  std::size_t count = 1 + d_->entries.size();
  for (const auto& [name, group] : d_->groups)
    count += 1 + group.consumers.size() + group.pel.size();
  return count;
}

std::string stream::group_item(std::string_view name, const stream_group& group) {
  std::string out(1, 'G');
  put_u32(out, static_cast<std::uint32_t>(name.size()));
  out += name;
  put_id(out, group.last_id);
  put_u64(out, static_cast<std::uint64_t>(group.entries_read));
  put_u64(out, group.consumers.size());
  put_u64(out, group.pel.size());
  return out;
}

void stream::items(
    const std::string* after,
    const std::function<bool(std::string item, std::string resume_key)>& emit) const {
  // Where to start: the entries (from the start or after an ID), or inside a group.
  auto entry = d_->entries.begin();
  auto group = d_->groups.begin();
  enum class part { group, consumers, pending } at = part::group;
  std::string after_name; // a consumer name, or the 16 bytes of a pending ID, to resume after
  if (after != nullptr && after->size() >= 1) {
    const char kind = (*after)[0];
    if (kind == 'E' && after->size() == 17) {
      entry = d_->entries.upper_bound(get_id(std::string_view(*after).substr(1)));
    } else if (after->size() >= 5) {
      entry = d_->entries.end();
      const std::size_t length = get_u32(std::string_view(*after).substr(1));
      const std::string_view name = std::string_view(*after).substr(5, length);
      group = d_->groups.find(name);
      after_name = after->substr(std::min(after->size(), 5 + length));
      if (kind == 'G') at = part::consumers, after_name.clear();
      if (kind == 'C') at = part::consumers;
      if (kind == 'P') at = part::pending;
    }
  }
  for (; entry != d_->entries.end(); ++entry) {
    if (!emit(entry_item(entry->first, entry->second), "E" + id_bytes(entry->first))) return;
  }
  for (; group != d_->groups.end(); ++group, at = part::group, after_name.clear()) {
    const auto& [name, state] = *group;
    if (at == part::group) {
      if (!emit(group_item(name, state), group_key('G', name))) return;
      at = part::consumers;
    }
    if (at == part::consumers) {
      auto consumer =
          after_name.empty() ? state.consumers.begin() : state.consumers.upper_bound(after_name);
      for (; consumer != state.consumers.end(); ++consumer) {
        std::string item(1, 'C');
        put_u64(item, consumer->second.seen_time);
        item += consumer->first;
        if (!emit(std::move(item), group_key('C', name, consumer->first))) return;
      }
      at = part::pending;
      after_name.clear();
    }
    auto pending =
        after_name.size() == 16 ? state.pel.upper_bound(get_id(after_name)) : state.pel.begin();
    for (; pending != state.pel.end(); ++pending) {
      std::string item(1, 'P');
      put_id(item, pending->first);
      put_u64(item, pending->second.delivery_time);
      put_u64(item, pending->second.delivery_count);
      item += pending->second.consumer;
      if (!emit(std::move(item), group_key('P', name, id_bytes(pending->first)))) return;
    }
  }
}

std::optional<std::size_t> stream::add_item(std::string_view item) {
  if (!d_->loading || d_->loading->entries_left > 0) return add_entry_item(item);
  if (complete()) return std::nullopt; // nothing comes after the last group's items
  return add_group_item(item);
}

bool stream::complete() const {
  return !d_->loading || (d_->loading->entries_left == 0 && d_->loading->groups_left == 0 &&
                          d_->loading->consumers_left == 0 && d_->loading->pending_left == 0);
}

std::optional<std::size_t> stream::add_group_item(std::string_view item) {
  loading_state& load = *d_->loading;
  if (item.empty()) return std::nullopt;
  if (load.consumers_left > 0 || load.pending_left > 0) {
    stream_group& group = d_->groups.find(load.group)->second;
    if (load.consumers_left > 0) {
      if (item[0] != 'C' || item.size() < consumer_item_fixed) return std::nullopt;
      const std::string_view name = item.substr(consumer_item_fixed);
      if (!group.consumers.empty() && !(group.consumers.rbegin()->first < name))
        return std::nullopt;
      group.consumers.emplace_hint(group.consumers.end(), std::string(name),
                                   stream_consumer{get_u64(item.substr(1)), {}});
      --load.consumers_left;
    } else {
      if (item[0] != 'P' || item.size() < pending_item_fixed) return std::nullopt;
      const stream_id id = get_id(item.substr(1));
      const std::string_view name = item.substr(pending_item_fixed);
      const auto consumer = group.consumers.find(name);
      if (consumer == group.consumers.end()) return std::nullopt;
      if (!group.pel.empty() && !(group.pel.rbegin()->first < id)) return std::nullopt;
      group.pel.emplace_hint(
          group.pel.end(), id,
          stream_pending{std::string(name), get_u64(item.substr(17)), get_u64(item.substr(25))});
      consumer->second.pending.insert(consumer->second.pending.end(), id);
      --load.pending_left;
    }
    d_->group_bytes += item.size();
    return item.size();
  }
  if (load.groups_left == 0 || item[0] != 'G' || item.size() < group_item_fixed)
    return std::nullopt;
  const std::size_t length = get_u32(item.substr(1));
  if (item.size() != group_item_fixed + length) return std::nullopt;
  const std::string_view name = item.substr(5, length);
  if (!d_->groups.empty() && !(d_->groups.rbegin()->first < name)) return std::nullopt;
  const std::string_view rest = item.substr(5 + length);
  stream_group group;
  group.last_id = get_id(rest);
  group.entries_read = static_cast<std::int64_t>(get_u64(rest.substr(16)));
  if (group.entries_read < stream_group::unknown_read) return std::nullopt;
  load.consumers_left = get_u64(rest.substr(24));
  load.pending_left = get_u64(rest.substr(32));
  if (load.pending_left > 0 && load.consumers_left == 0) return std::nullopt;
  d_->groups.emplace_hint(d_->groups.end(), std::string(name), std::move(group));
  load.group = std::string(name);
  --load.groups_left;
  d_->group_bytes += item.size();
  return item.size();
}

} // namespace prez::kv
