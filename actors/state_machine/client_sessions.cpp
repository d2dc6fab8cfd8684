#include "actors/state_machine/client_sessions.hpp"

#include <algorithm>

#include "config/assert.hpp"

namespace prez {

void client_sessions::drop_reply(client& c, entry& e) {
  if (!e.reply) return;
  PREZ_ASSERT(c.reply_bytes >= e.reply->size());
  PREZ_ASSERT(reply_bytes_ >= e.reply->size());
  c.reply_bytes -= e.reply->size();
  reply_bytes_ -= e.reply->size();
  kept_order_.erase(e.order);
  e.reply.reset();
}

void client_sessions::forget_client(std::uint64_t client_id) {
  auto i = clients_.find(client_id);
  if (i == clients_.end()) return;
  for (auto& [seq, e] : i->second.replies)
    drop_reply(i->second, e);
  clients_.erase(i);
}

void client_sessions::expire(std::uint64_t time_ms) {
  while (!by_activity_.empty()) {
    auto oldest = by_activity_.begin()->first;
    bool idle = oldest.first + idle_ms_max < time_ms &&
                clients_.at(oldest.second).last_active_index + idle_entries_min <= index_;
    bool over = clients_.size() > clients_max;
    if (!idle && !over) return;
    forget_client(oldest.second);
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
    if (!r->second.reply) return verdict::too_old; // applied, reply dropped
    reply = *r->second.reply;
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
  c.last_active_index = index_;
  by_activity_.emplace(std::make_pair(c.last_active_ms, client_id), true);

  entry& e = c.replies[seq];
  drop_reply(c, e); // recorded twice: the new reply replaces the old one
  if (reply.size() <= limits::session_reply_bytes_per_client_max) {
    e.reply = reply;
    e.order = next_order_++;
    kept_order_.emplace(e.order, std::make_pair(client_id, seq));
    c.reply_bytes += reply.size();
    reply_bytes_ += reply.size();
  }
  // Per-client bytes: this client's oldest kept replies go first (never the one just kept: it
  // fits the bound on its own).
  for (auto r = c.replies.begin();
       c.reply_bytes > limits::session_reply_bytes_per_client_max && r != c.replies.end(); ++r)
    drop_reply(c, r->second);
  while (c.replies.size() > replies_per_client_max) {
    auto oldest = c.replies.begin();
    drop_reply(c, oldest->second);
    c.forgotten_below = oldest->first + 1;
    c.replies.erase(oldest);
  }
  // Total bytes: the oldest reply kept anywhere goes first.
  while (reply_bytes_ > limits::session_reply_bytes_max) {
    PREZ_ASSERT(!kept_order_.empty());
    const auto [owner_id, owner_seq] = kept_order_.begin()->second;
    client& owner = clients_.at(owner_id);
    drop_reply(owner, owner.replies.at(owner_seq));
  }
  PREZ_ASSERT(c.reply_bytes <= limits::session_reply_bytes_per_client_max);
  PREZ_ASSERT(reply_bytes_ <= limits::session_reply_bytes_max);
  expire(time_ms);
}

} // namespace prez
