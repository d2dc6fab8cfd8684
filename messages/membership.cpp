// Cluster membership values and their encoding. Pure: no CAF.
#include "messages/membership.hpp"

#include <algorithm>
#include <set>

namespace prez {

const member_info* membership::find(std::string_view name) const {
  auto it = std::lower_bound(members.begin(), members.end(), name,
                             [](const member_info& m, std::string_view n) { return m.name < n; });
  return it != members.end() && it->name == name ? &*it : nullptr;
}

bool membership::is_voter(std::string_view name) const {
  const auto* m = find(name);
  return m != nullptr && m->voter;
}

bool membership::was_removed(std::string_view name) const {
  return std::binary_search(removed.begin(), removed.end(), name);
}

std::vector<node_name> membership::voters() const {
  std::vector<node_name> out;
  for (const auto& m : members)
    if (m.voter) out.push_back(m.name);
  return out;
}

std::size_t membership::voter_count() const {
  return static_cast<std::size_t>(
      std::count_if(members.begin(), members.end(), [](const member_info& m) { return m.voter; }));
}

std::string check_membership(const membership& m) {
  std::set<std::string> addresses;
  for (std::size_t i = 0; i < m.members.size(); ++i) {
    const auto& member = m.members[i];
    if (member.name.empty()) return "a member has an empty name";
    if (i > 0 && !(m.members[i - 1].name < member.name))
      return "members are not sorted by unique name at '" + member.name + "'";
    if (!member.address.empty() && !addresses.insert(member.address).second)
      return "address '" + member.address + "' is used twice";
    if (member.voter && member.promote) return "voter '" + member.name + "' marked for promotion";
  }
  for (std::size_t i = 0; i < m.removed.size(); ++i) {
    if (i > 0 && !(m.removed[i - 1] < m.removed[i])) return "removed names are not sorted";
    if (m.is_member(m.removed[i])) return "'" + m.removed[i] + "' is both member and removed";
  }
  return {};
}

std::string encode_config_change(const config_change& change) {
  msgpack::sbuffer buffer;
  msgpack::pack(buffer, change);
  return std::string(buffer.data(), buffer.size());
}

std::optional<config_change> decode_config_change(std::string_view data) {
  try {
    auto handle = msgpack::unpack(data.data(), data.size());
    auto change = handle.get().as<config_change>();
    if (!check_membership(change.config).empty()) return std::nullopt;
    return change;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

} // namespace prez
