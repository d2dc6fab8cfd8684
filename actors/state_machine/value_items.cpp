// Rebuilding a value from its items: the checks shared by the snapshot restorer and RESTORE.

#include "actors/state_machine/value_items.hpp"

#include <charconv>

#include "actors/state_machine/kv_commands.hpp"
#include "config/limits.hpp"

namespace prez::kv {

snapshot::value_type type_of(const value& data) {
  struct namer {
    snapshot::value_type operator()(const std::string&) const {
      return snapshot::value_type::string;
    }
    snapshot::value_type operator()(const list_value&) const { return snapshot::value_type::list; }
    snapshot::value_type operator()(const hash_value&) const { return snapshot::value_type::hash; }
    snapshot::value_type operator()(const set_value&) const { return snapshot::value_type::set; }
    snapshot::value_type operator()(const zset_value&) const { return snapshot::value_type::zset; }
    snapshot::value_type operator()(const stream_value&) const {
      return snapshot::value_type::stream;
    }
  };
  return std::visit(namer{}, data);
}

std::optional<std::uint64_t> parse_seed(std::string_view text) {
  std::uint64_t seed = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seed);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return seed;
}

std::optional<value> value_from_head(snapshot::value_type type, std::string_view item) {
  if (type == snapshot::value_type::zset) {
    const auto seed = parse_seed(item);
    if (!seed) return std::nullopt;
    return value(zset_value(*seed));
  }
  if (type == snapshot::value_type::stream) {
    auto s = stream_value::from_head(item);
    if (!s) return std::nullopt;
    return value(std::move(*s));
  }
  return std::nullopt;
}

std::optional<std::string> add_item(value& data, std::size_t& bytes, std::string_view item,
                                    std::string_view& pending_field, bool& field_pending) {
  if (auto* text = std::get_if<std::string>(&data)) {
    if (text->size() + item.size() > limits::string_value_bytes_max)
      return "string value longer than string_value_bytes_max";
    text->append(item);
  } else if (auto* list = std::get_if<list_value>(&data)) {
    list->emplace_back(item);
  } else if (auto* hash = std::get_if<hash_value>(&data)) {
    if (!field_pending) {
      if (!hash->empty() && hash->rbegin()->first >= item) return "hash fields out of order";
      pending_field = item;
      field_pending = true;
      return std::nullopt; // its bytes count with its value
    }
    hash->emplace_hint(hash->end(), std::string(pending_field), std::string(item));
    bytes += pending_field.size();
    field_pending = false;
  } else if (auto* sorted = std::get_if<zset_value>(&data)) {
    if (!field_pending) {
      if (!sorted->empty() && sorted->by_member().rbegin()->first >= item)
        return "sorted set members out of order or repeated";
      pending_field = item;
      field_pending = true;
      return std::nullopt;
    }
    const auto score = parse_score(item);
    if (!score) return "sorted set score is not a float";
    sorted->set(pending_field, *score);
    bytes += zset_member_bytes(pending_field);
    field_pending = false;
    return std::nullopt;
  } else if (auto* s = std::get_if<stream_value>(&data)) {
    const auto added = s->add_item(item);
    if (!added) return "stream item damaged, out of order or past the stream's last ID";
    bytes += *added;
    return std::nullopt;
  } else {
    auto& set = std::get<set_value>(data);
    if (!set.empty() && *set.rbegin() >= item) return "set members out of order or repeated";
    set.emplace_hint(set.end(), item);
  }
  bytes += item.size();
  return std::nullopt;
}

} // namespace prez::kv
