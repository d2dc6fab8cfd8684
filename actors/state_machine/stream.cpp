// The stream value: IDs, entries, trimming, and its items for snapshots and DUMP payloads.

#include "actors/state_machine/stream.hpp"

#include <charconv>

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

std::optional<stream_id> stream::next_id(std::uint64_t time_ms,
                                         std::optional<std::uint64_t> ms) const {
  if (ms) { // "ms-*": the next sequence number in that millisecond, or 0 in a later one
    if (*ms > last_id_.ms) return stream_id{*ms, 0};
    if (*ms < last_id_.ms || last_id_.seq == ~std::uint64_t{0}) return std::nullopt;
    return stream_id{*ms, last_id_.seq + 1};
  }
  if (time_ms > last_id_.ms) return stream_id{time_ms, 0};
  stream_id id = last_id_;
  if (!increment(id)) return std::nullopt;
  return id;
}

std::size_t stream::append(stream_id id, std::vector<std::string> fields) {
  ++entries_added_;
  stream_entry entry{++appended_, std::move(fields)};
  const std::size_t bytes = stream_entry_bytes(entry);
  entries_.emplace_hint(entries_.end(), id, std::move(entry));
  last_id_ = id;
  return bytes;
}

std::size_t stream::erase(stream_id id) {
  const auto found = entries_.find(id);
  if (found == entries_.end()) return 0;
  const std::size_t bytes = stream_entry_bytes(found->second);
  entries_.erase(found);
  if (id > max_deleted_id_) max_deleted_id_ = id;
  return bytes;
}

void stream::pop_front(std::size_t& bytes_removed) {
  bytes_removed += stream_entry_bytes(entries_.begin()->second);
  entries_.erase(entries_.begin());
}

std::size_t stream::first_node_size() const {
  const std::uint64_t node = node_of(entries_.begin()->second);
  std::size_t count = 0;
  for (auto it = entries_.begin(); it != entries_.end() && node_of(it->second) == node; ++it)
    ++count;
  return count;
}

stream_id stream::first_node_last_id() const {
  const std::uint64_t node = node_of(entries_.begin()->second);
  stream_id last = entries_.begin()->first;
  for (auto it = entries_.begin(); it != entries_.end() && node_of(it->second) == node; ++it)
    last = it->first;
  return last;
}

std::size_t stream::trim_to_length(std::uint64_t maxlen, bool approx, std::uint64_t limit,
                                   std::size_t& bytes_removed) {
  std::size_t removed = 0;
  if (!approx) {
    while (entries_.size() > maxlen) {
      pop_front(bytes_removed);
      ++removed;
    }
    return removed;
  }
  while (entries_.size() > maxlen) {
    const std::size_t node = first_node_size();
    if (limit != 0 && removed + node > limit) break;
    if (entries_.size() - node < maxlen) break;
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
    while (!entries_.empty() && entries_.begin()->first < minid) {
      pop_front(bytes_removed);
      ++removed;
    }
    return removed;
  }
  while (!entries_.empty()) {
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
  return to_string(last_id_) + " " + to_string(max_deleted_id_) + " " +
         std::to_string(entries_added_) + " " + std::to_string(appended_);
}

std::optional<stream> stream::from_head(std::string_view item) {
  const auto first = item.find(' ');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = item.find(' ', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  const auto third = item.find(' ', second + 1);
  if (third == std::string_view::npos) return std::nullopt;
  const auto last = parse_stream_id(item.substr(0, first), 0, true);
  const auto deleted = parse_stream_id(item.substr(first + 1, second - first - 1), 0, true);
  const auto added = parse_u64(item.substr(second + 1, third - second - 1));
  const auto appended = parse_u64(item.substr(third + 1));
  if (!last || !deleted || !added || !appended ||
      item.substr(0, first).find('-') == std::string_view::npos ||
      item.substr(first + 1, second - first - 1).find('-') == std::string_view::npos)
    return std::nullopt;
  stream s;
  s.last_id_ = *last;
  s.max_deleted_id_ = *deleted;
  s.entries_added_ = *added;
  s.appended_ = *appended;
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
  if (item.size() < 24) return std::nullopt;
  const stream_id id{get_u64(item), get_u64(item.substr(8))};
  stream_entry entry;
  entry.ordinal = get_u64(item.substr(16));
  if (id > last_id_ || (!entries_.empty() && !(entries_.rbegin()->first < id))) return std::nullopt;
  if (entry.ordinal == 0 || entry.ordinal > appended_ ||
      (!entries_.empty() && entry.ordinal <= entries_.rbegin()->second.ordinal))
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
  entries_.emplace_hint(entries_.end(), id, std::move(entry));
  return bytes;
}

} // namespace prez::kv
