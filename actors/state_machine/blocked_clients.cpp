#include "actors/state_machine/blocked_clients.hpp"

#include "actors/state_machine/snapshot_format.hpp"
#include "config/assert.hpp"

namespace prez::kv {

void blocked_clients::add(blocked_client client) {
  const client_key id{client.client_id, client.seq};
  PREZ_ASSERT(!contains(id));
  const std::uint64_t order = next_order_++;
  for (const auto& key : client.keys) {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) it = by_key_.emplace(key, std::set<std::uint64_t>{}).first;
    it->second.insert(order);
  }
  if (client.deadline_ms != 0) deadlines_.emplace(client.deadline_ms, order);
  orders_.emplace(id, order);
  by_order_.emplace(order, std::move(client));
}

std::optional<blocked_client> blocked_clients::remove(client_key id) {
  const auto found = orders_.find(id);
  if (found == orders_.end()) return std::nullopt;
  const std::uint64_t order = found->second;
  orders_.erase(found);
  auto node = by_order_.extract(order);
  PREZ_ASSERT(!node.empty());
  blocked_client& client = node.mapped();
  for (const auto& key : client.keys) {
    const auto it = by_key_.find(key);
    if (it == by_key_.end()) continue; // the same key named twice: removed already
    it->second.erase(order);
    if (it->second.empty()) by_key_.erase(it);
  }
  if (client.deadline_ms != 0) deadlines_.erase({client.deadline_ms, order});
  return std::move(client);
}

std::vector<blocked_clients::client_key> blocked_clients::waiting_on(std::string_view key) const {
  std::vector<client_key> out;
  const auto it = by_key_.find(key);
  if (it == by_key_.end()) return out;
  for (const std::uint64_t order : it->second) {
    const auto& client = by_order_.at(order);
    out.emplace_back(client.client_id, client.seq);
  }
  return out;
}

std::vector<blocked_clients::client_key> blocked_clients::due(std::uint64_t clock_ms) const {
  std::vector<client_key> out;
  for (const auto& [deadline, order] : deadlines_) {
    if (deadline > clock_ms) break;
    const auto& client = by_order_.at(order);
    out.emplace_back(client.client_id, client.seq);
  }
  return out;
}

const blocked_client& blocked_clients::at(client_key id) const {
  const auto found = orders_.find(id);
  PREZ_ASSERT(found != orders_.end());
  return by_order_.at(found->second);
}

void blocked_clients::serialise(std::string& out) const {
  snapshot::string_writer writer{out};
  snapshot::packer pk(writer);
  for (const auto& [order, client] : by_order_) {
    pk.pack_array(5);
    pk.pack(static_cast<std::uint64_t>(snapshot::tag::blocked));
    pk.pack(client.client_id);
    pk.pack(client.seq);
    pk.pack(client.deadline_ms);
    pk.pack_array(static_cast<std::uint32_t>(client.argv.size()));
    for (const auto& arg : client.argv)
      pk.pack(arg);
  }
}

} // namespace prez::kv
