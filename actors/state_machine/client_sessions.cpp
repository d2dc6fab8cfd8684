#include "actors/state_machine/client_sessions.hpp"

#include <algorithm>

#include "actors/state_machine/snapshot_format.hpp"
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

// --- snapshots -----------------------------------------------------------------------------------

void client_sessions::serialise(std::string& out) const {
  snapshot::string_writer writer{out};
  snapshot::packer pk(writer);
  pk.pack_array(4);
  pk.pack(static_cast<std::uint64_t>(snapshot::tag::sessions));
  pk.pack(next_order_);
  pk.pack(index_);
  pk.pack(static_cast<std::uint64_t>(clients_.size()));
  for (const auto& [id, c] : clients_) {
    pk.pack_array(6);
    pk.pack(static_cast<std::uint64_t>(snapshot::tag::session_client));
    pk.pack(id);
    pk.pack(c.forgotten_below);
    pk.pack(c.last_active_ms);
    pk.pack(c.last_active_index);
    PREZ_ASSERT(c.replies.size() * 3 <= limits::snapshot_record_items_max);
    pk.pack_array(static_cast<std::uint32_t>(c.replies.size() * 3));
    for (const auto& [seq, e] : c.replies) {
      pk.pack(seq);
      if (e.reply)
        pk.pack(*e.reply);
      else
        pk.pack_nil();
      pk.pack(e.order);
    }
  }
}

std::optional<std::string> client_sessions::restorer::add(const msgpack::object& record) {
  const msgpack::object_array* fields = snapshot::read_array(record);
  std::uint64_t tag = 0;
  if (fields == nullptr || fields->size == 0 || !snapshot::read_uint(fields->ptr[0], tag))
    return "session record is not an array starting with a tag";
  if (tag == static_cast<std::uint64_t>(snapshot::tag::sessions)) return add_table(*fields);
  if (tag == static_cast<std::uint64_t>(snapshot::tag::session_client)) return add_client(*fields);
  return "unexpected record tag " + std::to_string(tag) + " in the session table";
}

std::optional<std::string>
client_sessions::restorer::add_table(const msgpack::object_array& fields) {
  if (have_table_) return "a second session table record";
  std::uint64_t count = 0;
  if (fields.size != 4 || !snapshot::read_uint(fields.ptr[1], table_.next_order_) ||
      !snapshot::read_uint(fields.ptr[2], table_.index_) ||
      !snapshot::read_uint(fields.ptr[3], count))
    return "damaged session table record";
  if (count > clients_max) return "session table holds more than clients_max clients";
  have_table_ = true;
  clients_left_ = count;
  return std::nullopt;
}

std::optional<std::string>
client_sessions::restorer::add_client(const msgpack::object_array& fields) {
  if (!have_table_ || clients_left_ == 0) return "unexpected session client record";
  std::uint64_t id = 0;
  client c;
  const msgpack::object_array* triples =
      fields.size == 6 ? snapshot::read_array(fields.ptr[5]) : nullptr;
  if (triples == nullptr || !snapshot::read_uint(fields.ptr[1], id) ||
      !snapshot::read_uint(fields.ptr[2], c.forgotten_below) ||
      !snapshot::read_uint(fields.ptr[3], c.last_active_ms) ||
      !snapshot::read_uint(fields.ptr[4], c.last_active_index) || triples->size % 3 != 0)
    return "damaged session client record";
  if (!table_.clients_.empty() && id <= table_.clients_.rbegin()->first)
    return "session clients out of order or repeated";
  if (triples->size / 3 > replies_per_client_max) return "session client holds too many replies";
  if (c.last_active_index > table_.index_) return "session client active after the table's index";
  for (std::uint32_t i = 0; i < triples->size; i += 3) {
    std::uint64_t seq = 0;
    entry e;
    if (!snapshot::read_uint(triples->ptr[i], seq) ||
        !snapshot::read_uint(triples->ptr[i + 2], e.order))
      return "damaged session reply";
    if (seq < c.forgotten_below || (!c.replies.empty() && seq <= c.replies.rbegin()->first))
      return "session replies out of order, repeated or forgotten";
    std::string_view text;
    if (snapshot::read_str(triples->ptr[i + 1], text)) {
      if (e.order >= table_.next_order_ ||
          !table_.kept_order_.emplace(e.order, std::make_pair(id, seq)).second)
        return "session reply order repeated or not below next_order";
      e.reply = std::string(text);
      c.reply_bytes += text.size();
      if (c.reply_bytes > limits::session_reply_bytes_per_client_max)
        return "session client over its reply bytes bound";
    } else if (triples->ptr[i + 1].type != msgpack::type::NIL) {
      return "damaged session reply";
    } else if (e.order != 0 && e.order >= table_.next_order_) {
      return "session reply order not below next_order";
    }
    c.replies.emplace_hint(c.replies.end(), seq, std::move(e));
  }
  table_.reply_bytes_ += c.reply_bytes;
  if (table_.reply_bytes_ > limits::session_reply_bytes_max)
    return "session table over its reply bytes bound";
  table_.by_activity_.emplace(std::make_pair(c.last_active_ms, id), true);
  table_.clients_.emplace_hint(table_.clients_.end(), id, std::move(c));
  --clients_left_;
  return std::nullopt;
}

std::variant<client_sessions, std::string> client_sessions::restorer::finish() {
  if (!complete()) return std::string("session table incomplete");
  PREZ_ASSERT(table_.by_activity_.size() == table_.clients_.size());
  return std::move(table_);
}

} // namespace prez
