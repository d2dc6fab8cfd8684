#include "actors/state_machine/client_sessions.hpp"

namespace prez {

void client_sessions::expire(std::uint64_t time_ms) {
  while (!by_activity_.empty()) {
    auto oldest = by_activity_.begin()->first;
    bool idle = oldest.first + idle_ms_max < time_ms;
    bool over = clients_.size() > clients_max;
    if (!idle && !over) return;
    clients_.erase(oldest.second);
    by_activity_.erase(by_activity_.begin());
  }
}

client_sessions::verdict client_sessions::check(std::uint64_t client_id, std::uint64_t seq,
                                                std::uint64_t time_ms, std::string& reply) {
  expire(time_ms);
  auto i = clients_.find(client_id);
  if (i == clients_.end()) return verdict::apply;
  auto& c = i->second;
  if (auto r = c.replies.find(seq); r != c.replies.end()) {
    reply = r->second;
    return verdict::duplicate;
  }
  if (seq < c.forgotten_below) return verdict::too_old;
  return verdict::apply;
}

void client_sessions::record(std::uint64_t client_id, std::uint64_t seq, std::uint64_t time_ms,
                             const std::string& reply) {
  auto [i, inserted] = clients_.try_emplace(client_id);
  auto& c = i->second;
  if (!inserted) by_activity_.erase({c.last_active_ms, client_id});
  // Log time never goes backwards within one leader; across leaders clocks may differ a little,
  // so keep the maximum.
  c.last_active_ms = std::max(c.last_active_ms, time_ms);
  by_activity_.emplace(std::make_pair(c.last_active_ms, client_id), true);
  c.replies.insert_or_assign(seq, reply);
  while (c.replies.size() > replies_per_client_max) {
    c.forgotten_below = c.replies.begin()->first + 1;
    c.replies.erase(c.replies.begin());
  }
  expire(time_ms);
}

} // namespace prez
