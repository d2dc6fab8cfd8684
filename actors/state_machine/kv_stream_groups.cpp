// Stream consumer groups with Redis 7.0's replies and errors: XGROUP, XREADGROUP (BLOCK through
// the blocked clients, kv_blocking.cpp), XACK, XPENDING, XCLAIM, XAUTOCLAIM, and the groups in
// XINFO. The group state is stream.hpp's. Every time a group records (a delivery, a consumer's
// last sight) is the log entry's time, so every replica holds the same groups; XPENDING's and
// XINFO CONSUMERS's idle times are measured against the reading node's time.

#include <algorithm>
#include <limits>

#include "actors/state_machine/kv_streams.hpp"

namespace prez::kv {

namespace {

/// Keeps the entry's byte count equal to the stream's after its groups changed.
class group_bytes_guard {
public:
  group_bytes_guard(keyspace& keys, entry& e, const stream_value& s)
      : keys_(keys), e_(e), s_(s), before_(s.group_bytes()) {}
  group_bytes_guard(const group_bytes_guard&) = delete;
  group_bytes_guard& operator=(const group_bytes_guard&) = delete;
  ~group_bytes_guard() {
    const std::size_t after = s_.group_bytes();
    if (after >= before_)
      keys_.grow(e_, after - before_);
    else
      keys_.shrink(e_, before_ - after);
  }

private:
  keyspace& keys_;
  entry& e_;
  const stream_value& s_;
  std::size_t before_;
};

std::string no_group_error(const std::string& key, const std::string& group) {
  return error_reply("NOGROUP No such key '" + key + "' or consumer group '" + group + "'");
}

/// The consumer `name` of `group`, created (with its keyspace event) when absent; seen now.
void see_consumer(keyspace& keys, stream_value& s, stream_group& group, const std::string& name,
                  const std::string& key, std::uint64_t time_ms) {
  bool created = false;
  s.seen_consumer(group, name, time_ms, created);
  if (created) keys.notify(notify::stream, "xgroup-createconsumer", key);
}

/// XREADGROUP's entries for one stream: the consumer's history from `start` (its pending IDs,
/// a deleted entry as [id, nil]), or the entries after the group's last ID, delivered.
std::string serve_group(keyspace& keys, stream_value& s, stream_group& group,
                        const xread_call& call, const std::string& key, stream_id start,
                        bool history, std::size_t count, std::uint64_t time_ms) {
  see_consumer(keys, s, group, call.consumer, key, time_ms);
  std::string body;
  std::size_t emitted = 0;
  if (history) {
    const auto& pending = group.consumers.find(call.consumer)->second.pending;
    for (auto it = pending.lower_bound(start);
         it != pending.end() && (count == 0 || emitted < count); ++it, ++emitted) {
      const auto found = s.entries().find(*it);
      if (found == s.entries().end()) {
        body += array_header(2) + id_reply(*it) + null_array();
        continue;
      }
      body += entry_reply(found->first, found->second);
      stream_value::redeliver(group.pel.find(*it)->second, time_ms);
    }
    return array_header(emitted) + body;
  }
  for (auto it = s.entries().lower_bound(start);
       it != s.entries().end() && (count == 0 || emitted < count); ++it, ++emitted) {
    s.advance_group(group, it->first);
    body += entry_reply(it->first, it->second);
    if (!call.noack) s.deliver(group, it->first, call.consumer, time_ms);
  }
  return array_header(emitted) + body;
}

} // namespace

// --- XGROUP ------------------------------------------------------------------------------------

std::string check_xgroup(const argv_type& argv) {
  return check_subcommand(argv, {{"help", 2},
                                 {"create", -5},
                                 {"setid", -5},
                                 {"destroy", 4},
                                 {"createconsumer", 5},
                                 {"delconsumer", 5}});
}

std::string xgroup_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  const std::string sub = lowercase(argv[1]);
  if (sub == "help") {
    const std::vector<std::string> lines = {
        "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
        "HELP",
        "    Prints this help."};
    return resp::simple_array(lines);
  }
  const std::string& key = argv[2];
  const std::string& name = argv[3];
  // Options of CREATE and SETID, checked first as Redis does.
  bool mkstream = false;
  std::int64_t entries_read = stream_group::unknown_read;
  for (std::size_t i = 5; i < argv.size();) {
    if (sub == "create" && is_word(argv[i], "mkstream")) {
      mkstream = true;
      ++i;
    } else if ((sub == "create" || sub == "setid") && is_word(argv[i], "entriesread") &&
               i + 1 < argv.size()) {
      const auto parsed = parse_integer(argv[i + 1]);
      if (!parsed) return error_reply(not_integer);
      if (*parsed < 0 && *parsed != stream_group::unknown_read)
        return error_reply("ERR value for ENTRIESREAD must be positive or -1");
      entries_read = *parsed;
      i += 2;
    } else {
      return subcommand_syntax_error(argv);
    }
  }
  bool wrong = false;
  const stream_value* found = stream_for_peek(keys, key, time_ms, wrong);
  if (wrong) return wrong_type_reply();
  if (!mkstream) {
    if (found == nullptr)
      return error_reply("ERR The XGROUP subcommand requires the key to exist. Note that for "
                         "CREATE you may want to use the MKSTREAM option to create an empty "
                         "stream automatically.");
    if (found->find_group(name) == nullptr &&
        (sub == "setid" || sub == "createconsumer" || sub == "delconsumer"))
      return error_reply("NOGROUP No such consumer group '" + name + "' for key name '" + key +
                         "'");
  }
  if (sub == "create" && argv.size() <= 8) {
    stream_id id;
    if (argv[4] == "$") {
      if (found != nullptr) id = found->last_id();
    } else {
      const auto parsed = parse_stream_id(argv[4], 0, true);
      if (!parsed) return error_reply(invalid_stream_id);
      id = *parsed;
    }
    if (found != nullptr && found->find_group(name) != nullptr)
      return error_reply("BUSYGROUP Consumer Group name already exists");
    entry* e = nullptr;
    stream_value* s = stream_for_write(keys, key, time_ms, e, wrong);
    if (s == nullptr) { // MKSTREAM, now that the command cannot fail
      e = &keys.insert(key, stream_value{});
      s = &std::get<stream_value>(e->data);
    }
    {
      group_bytes_guard guard(keys, *e, *s);
      s->create_group(name, id, entries_read);
    }
    keys.notify(notify::stream, "xgroup-create", key);
    return ok();
  }
  if (sub == "setid" && (argv.size() == 5 || argv.size() == 7)) {
    stream_id id = found->last_id();
    if (argv[4] != "$") {
      const auto parsed = parse_stream_id(argv[4], 0, false);
      if (!parsed) return error_reply(invalid_stream_id);
      id = *parsed;
    }
    entry* e = nullptr;
    stream_group& group = *stream_for_write(keys, key, time_ms, e, wrong)->find_group(name);
    group.last_id = id;
    group.entries_read = entries_read;
    keys.touch(*e);
    keys.notify(notify::stream, "xgroup-setid", key);
    return ok();
  }
  if (sub == "destroy" && argv.size() == 4) {
    if (found->find_group(name) == nullptr) return integer(0);
    entry* e = nullptr;
    stream_value* s = stream_for_write(keys, key, time_ms, e, wrong);
    {
      group_bytes_guard guard(keys, *e, *s);
      s->destroy_group(name);
    }
    keys.notify(notify::stream, "xgroup-destroy", key);
    // A client blocked on the group is answered NOGROUP: argv[2] is the key, which
    // kv_state::serve_blocked() looks at after every write.
    return integer(1);
  }
  if (sub == "createconsumer" && argv.size() == 5) {
    if (found->find_group(name)->consumers.contains(argv[4])) return integer(0);
    entry* e = nullptr;
    stream_value* s = stream_for_write(keys, key, time_ms, e, wrong);
    {
      group_bytes_guard guard(keys, *e, *s);
      s->create_consumer(*s->find_group(name), argv[4], time_ms);
    }
    keys.notify(notify::stream, "xgroup-createconsumer", key);
    return integer(1);
  }
  if (sub == "delconsumer" && argv.size() == 5) {
    if (!found->find_group(name)->consumers.contains(argv[4])) return integer(0);
    entry* e = nullptr;
    stream_value* s = stream_for_write(keys, key, time_ms, e, wrong);
    std::size_t pending = 0;
    {
      group_bytes_guard guard(keys, *e, *s);
      pending = *s->delete_consumer(*s->find_group(name), argv[4]);
    }
    keys.notify(notify::stream, "xgroup-delconsumer", key);
    return integer(static_cast<long long>(pending));
  }
  return subcommand_syntax_error(argv);
}

// --- XREADGROUP --------------------------------------------------------------------------------

std::optional<std::string> xreadgroup_ready(keyspace& keys, const argv_type& argv,
                                            const xread_call& call, std::uint64_t time_ms) {
  // Every stream is checked before any is served: its type, its group, its ID.
  struct target {
    bool history = false;
    stream_id after;
  };
  std::vector<target> targets(call.keys.size());
  for (std::size_t i = 0; i < call.keys.size(); ++i) {
    bool wrong = false;
    const stream_value* s = stream_for_peek(keys, call.keys[i], time_ms, wrong);
    if (wrong) return wrong_type_reply();
    if (s == nullptr || s->find_group(call.group_name) == nullptr)
      return error_reply("NOGROUP No such key '" + call.keys[i] + "' or consumer group '" +
                         call.group_name + "' in XREADGROUP with GROUP option");
    const std::string& id_text = argv[call.ids_at + i];
    if (id_text == "$")
      return error_reply("ERR The $ ID is meaningless in the context of XREADGROUP: you want to "
                         "read the history of this consumer by specifying a proper ID, or use "
                         "the > ID to get new messages. The $ ID would just return an empty "
                         "result set.");
    if (id_text == ">") continue;
    const auto id = parse_stream_id(id_text, 0, true);
    if (!id) return error_reply(invalid_stream_id);
    targets[i] = target{true, *id};
  }
  std::string body;
  std::size_t served = 0;
  for (std::size_t i = 0; i < call.keys.size(); ++i) {
    bool wrong = false;
    const stream_value* peeked = stream_for_peek(keys, call.keys[i], time_ms, wrong);
    const stream_group& peeked_group = *peeked->find_group(call.group_name);
    stream_id after = targets[i].after;
    if (!targets[i].history) {
      // New entries: only when the stream has one after the group's last ID.
      if (peeked->empty() || !(peeked->entries().rbegin()->first > peeked_group.last_id)) continue;
      after = peeked_group.last_id;
    }
    entry* e = nullptr;
    stream_value* s = stream_for_write(keys, call.keys[i], time_ms, e, wrong);
    stream_group& group = *s->find_group(call.group_name);
    stream_id start = after;
    increment(start);
    group_bytes_guard guard(keys, *e, *s);
    body += array_header(2) + bulk(call.keys[i]) +
            serve_group(keys, *s, group, call, call.keys[i], start, targets[i].history,
                        static_cast<std::size_t>(call.count), time_ms);
    ++served;
  }
  if (served == 0) return std::nullopt;
  return array_header(served) + body;
}

std::optional<std::string> xreadgroup_serve_blocked(keyspace& keys, const xread_call& call,
                                                    const std::string& key, std::uint64_t time_ms) {
  bool wrong = false;
  const stream_value* peeked = stream_for_peek(keys, key, time_ms, wrong);
  if (peeked == nullptr) return std::nullopt; // absent or another type: stays blocked, as in 7.0
  const stream_group* peeked_group = peeked->find_group(call.group_name);
  if (peeked_group == nullptr)
    return error_reply("NOGROUP the consumer group this client was blocked on no longer exists");
  // As Redis serves a blocked group reader: when the stream's last ID passed the group's.
  if (!(peeked->last_id() > peeked_group->last_id)) return std::nullopt;
  entry* e = nullptr;
  stream_value* s = stream_for_write(keys, key, time_ms, e, wrong);
  stream_group& group = *s->find_group(call.group_name);
  stream_id start = group.last_id;
  increment(start);
  const std::size_t count =
      call.count != 0 ? static_cast<std::size_t>(call.count) : xread_blocked_count;
  group_bytes_guard guard(keys, *e, *s);
  return array_header(1) + array_header(2) + bulk(key) +
         serve_group(keys, *s, group, call, key, start, false, count, time_ms);
}

std::string xreadgroup_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  std::string error;
  const auto call = parse_xread(argv, error);
  if (!call) return error;
  auto reply = xreadgroup_ready(keys, argv, *call, time_ms);
  return reply ? std::move(*reply) : null_array();
}

// --- XACK, XPENDING ----------------------------------------------------------------------------

std::string xack_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  bool wrong = false;
  const stream_value* peeked = stream_for_peek(keys, argv[1], time_ms, wrong);
  if (wrong) return wrong_type_reply();
  if (peeked == nullptr || peeked->find_group(argv[2]) == nullptr) return integer(0);
  std::vector<stream_id> ids;
  for (std::size_t i = 3; i < argv.size(); ++i) {
    const auto id = parse_stream_id(argv[i], 0, true);
    if (!id) return error_reply(invalid_stream_id);
    ids.push_back(*id);
  }
  const stream_group& peeked_group = *peeked->find_group(argv[2]);
  if (std::none_of(ids.begin(), ids.end(),
                   [&](stream_id id) { return peeked_group.pel.contains(id); }))
    return integer(0);
  entry* e = nullptr;
  stream_value* s = stream_for_write(keys, argv[1], time_ms, e, wrong);
  stream_group& group = *s->find_group(argv[2]);
  group_bytes_guard guard(keys, *e, *s);
  long long acknowledged = 0;
  for (const auto id : ids)
    if (s->unpend(group, id)) ++acknowledged;
  return integer(acknowledged);
}

std::string xpending_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  const std::size_t n = argv.size();
  if (n != 3 && (n < 6 || n > 9)) return error_reply(syntax_error);
  stream_id start;
  stream_id end;
  long long count = 0;
  long long min_idle = 0;
  const std::string* consumer_name = nullptr;
  if (n >= 6) {
    std::size_t at = 3;
    if (is_word(argv[3], "idle")) {
      const auto idle = parse_integer(argv[4]);
      if (!idle) return error_reply(not_integer);
      if (n < 8) return error_reply(syntax_error);
      min_idle = *idle;
      at += 2;
    }
    const auto parsed_count = parse_integer(argv[at + 2]);
    if (!parsed_count) return error_reply(not_integer);
    count = *parsed_count < 0 ? 0 : *parsed_count;
    std::string error;
    const auto first = parse_bound(argv[at], true, error);
    if (!first) return error;
    const auto last = parse_bound(argv[at + 1], false, error);
    if (!last) return error;
    start = *first;
    end = *last;
    if (at + 3 < n) consumer_name = &argv[at + 3];
  }
  bool wrong = false;
  const stream_value* s = stream_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  const stream_group* group = s == nullptr ? nullptr : s->find_group(argv[2]);
  if (group == nullptr) return no_group_error(argv[1], argv[2]);
  if (n == 3) {
    if (group->pel.empty())
      return array_header(4) + integer(0) + null_bulk() + null_bulk() + null_array();
    std::string owners;
    std::size_t with_pending = 0;
    for (const auto& [name, consumer] : group->consumers) {
      if (consumer.pending.empty()) continue;
      owners += array_header(2) + bulk(name) + bulk(std::to_string(consumer.pending.size()));
      ++with_pending;
    }
    return array_header(4) + integer(static_cast<long long>(group->pel.size())) +
           id_reply(group->pel.begin()->first) + id_reply(group->pel.rbegin()->first) +
           array_header(with_pending) + owners;
  }
  std::string body;
  std::size_t emitted = 0;
  auto emit = [&](stream_id id, const stream_pending& pending) {
    const long long idle =
        static_cast<long long>(now_ms) - static_cast<long long>(pending.delivery_time);
    if (min_idle != 0 && idle < min_idle) return;
    body += array_header(4) + id_reply(id) + bulk(pending.consumer) + integer(idle < 0 ? 0 : idle) +
            integer(static_cast<long long>(pending.delivery_count));
    ++emitted;
  };
  if (consumer_name != nullptr) {
    const auto consumer = group->consumers.find(*consumer_name);
    if (consumer == group->consumers.end()) return array_header(0);
    for (auto it = consumer->second.pending.lower_bound(start);
         count > 0 && it != consumer->second.pending.end() && *it <= end; ++it) {
      const std::size_t before = emitted;
      emit(*it, group->pel.find(*it)->second);
      if (emitted != before) --count;
    }
  } else {
    for (auto it = group->pel.lower_bound(start);
         count > 0 && it != group->pel.end() && it->first <= end; ++it) {
      const std::size_t before = emitted;
      emit(it->first, it->second);
      if (emitted != before) --count;
    }
  }
  return array_header(emitted) + body;
}

// --- XCLAIM, XAUTOCLAIM ------------------------------------------------------------------------

std::string xclaim_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  bool wrong = false;
  const stream_value* peeked = stream_for_peek(keys, argv[1], time_ms, wrong);
  if (wrong) return wrong_type_reply();
  if (peeked == nullptr || peeked->find_group(argv[2]) == nullptr)
    return no_group_error(argv[1], argv[2]);
  const auto parsed_idle = parse_integer(argv[4]);
  if (!parsed_idle) return error_reply("ERR Invalid min-idle-time argument for XCLAIM");
  const long long min_idle = *parsed_idle < 0 ? 0 : *parsed_idle;
  std::vector<stream_id> ids;
  std::size_t j = 5;
  for (; j < argv.size(); ++j) {
    const auto id = parse_stream_id(argv[j], 0, true);
    if (!id) break;
    ids.push_back(*id);
  }
  const auto now = static_cast<long long>(time_ms);
  bool force = false;
  bool justid = false;
  std::optional<long long> delivery_time;
  std::optional<std::uint64_t> retry_count;
  stream_id last_id;
  for (; j < argv.size(); ++j) {
    const bool more = j + 1 < argv.size();
    if (is_word(argv[j], "force")) {
      force = true;
    } else if (is_word(argv[j], "justid")) {
      justid = true;
    } else if (is_word(argv[j], "idle") && more) {
      const auto idle = parse_integer(argv[++j]);
      if (!idle) return error_reply("ERR Invalid IDLE option argument for XCLAIM");
      // now - idle, kept in range: a negative idle or one past now is "now" below anyway.
      delivery_time = *idle < 0 || *idle > now ? -1 : now - *idle;
    } else if (is_word(argv[j], "time") && more) {
      const auto at = parse_integer(argv[++j]);
      if (!at) return error_reply("ERR Invalid TIME option argument for XCLAIM");
      delivery_time = *at;
    } else if (is_word(argv[j], "retrycount") && more) {
      const auto retries = parse_integer(argv[++j]);
      if (!retries) return error_reply("ERR Invalid RETRYCOUNT option argument for XCLAIM");
      retry_count = *retries < 0
                        ? std::nullopt
                        : std::optional<std::uint64_t>(static_cast<std::uint64_t>(*retries));
    } else if (is_word(argv[j], "lastid") && more) {
      const auto id = parse_stream_id(argv[++j], 0, true);
      if (!id) return error_reply(invalid_stream_id);
      last_id = *id;
    } else {
      return error_reply("ERR Unrecognized XCLAIM option '" + argv[j] + "'");
    }
  }
  const std::uint64_t delivered_at = !delivery_time || *delivery_time < 0 || *delivery_time > now
                                         ? time_ms
                                         : static_cast<std::uint64_t>(*delivery_time);
  entry* e = nullptr;
  stream_value* s = stream_for_write(keys, argv[1], time_ms, e, wrong);
  stream_group& group = *s->find_group(argv[2]);
  group_bytes_guard guard(keys, *e, *s);
  if (last_id > group.last_id) group.last_id = last_id;
  const std::string& consumer = argv[3];
  bool consumer_seen = false;
  std::string body;
  std::size_t claimed = 0;
  for (const auto id : ids) {
    const auto pending = group.pel.find(id);
    const auto found = s->entries().find(id);
    if (found == s->entries().end()) { // gone from the stream: gone from the PEL too
      if (pending != group.pel.end()) s->unpend(group, id);
      continue;
    }
    if (pending == group.pel.end() && !force) continue;
    if (pending != group.pel.end() && min_idle != 0 &&
        now - static_cast<long long>(pending->second.delivery_time) < min_idle)
      continue;
    if (!consumer_seen) {
      see_consumer(keys, *s, group, consumer, argv[1], time_ms);
      consumer_seen = true;
    }
    s->claim(group, id, consumer, delivered_at, retry_count, !justid);
    body += justid ? id_reply(id) : entry_reply(found->first, found->second);
    ++claimed;
  }
  return array_header(claimed) + body;
}

std::string xautoclaim_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  const auto parsed_idle = parse_integer(argv[4]);
  if (!parsed_idle) return error_reply("ERR Invalid min-idle-time argument for XAUTOCLAIM");
  const long long min_idle = *parsed_idle < 0 ? 0 : *parsed_idle;
  std::string error;
  const auto start = parse_bound(argv[5], true, error);
  if (!start) return error;
  long long count = 100;
  bool justid = false;
  for (std::size_t j = 6; j < argv.size(); ++j) {
    if (is_word(argv[j], "count") && j + 1 < argv.size()) {
      const auto parsed = parse_integer(argv[++j]);
      constexpr long long count_max = std::numeric_limits<long>::max() / 16;
      if (!parsed || *parsed < 1 || *parsed > count_max)
        return error_reply("ERR COUNT must be > 0");
      count = *parsed;
    } else if (is_word(argv[j], "justid")) {
      justid = true;
    } else {
      return error_reply(syntax_error);
    }
  }
  bool wrong = false;
  const stream_value* peeked = stream_for_peek(keys, argv[1], time_ms, wrong);
  if (wrong) return wrong_type_reply();
  if (peeked == nullptr || peeked->find_group(argv[2]) == nullptr)
    return no_group_error(argv[1], argv[2]);
  entry* e = nullptr;
  stream_value* s = stream_for_write(keys, argv[1], time_ms, e, wrong);
  stream_group& group = *s->find_group(argv[2]);
  group_bytes_guard guard(keys, *e, *s);
  const auto now = static_cast<long long>(time_ms);
  const std::string& consumer = argv[3];
  bool consumer_seen = false;
  long long attempts = count * 10;
  std::string body;
  std::size_t claimed = 0;
  std::vector<stream_id> deleted;
  auto it = group.pel.lower_bound(*start);
  while (attempts-- > 0 && count > 0 && it != group.pel.end()) {
    const stream_id id = it->first;
    const auto found = s->entries().find(id);
    if (found == s->entries().end()) { // gone from the stream: gone from the PEL too
      ++it;
      s->unpend(group, id);
      deleted.push_back(id);
      --count;
      continue;
    }
    if (min_idle != 0 && now - static_cast<long long>(it->second.delivery_time) < min_idle) {
      ++it;
      continue;
    }
    if (!consumer_seen) {
      see_consumer(keys, *s, group, consumer, argv[1], time_ms);
      consumer_seen = true;
    }
    s->claim(group, id, consumer, time_ms, std::nullopt, !justid);
    body += justid ? id_reply(id) : entry_reply(found->first, found->second);
    ++claimed;
    --count;
    ++it;
  }
  std::string reply = array_header(3);
  reply += id_reply(it == group.pel.end() ? stream_id{} : it->first); // the next call's start
  reply += array_header(claimed) + body;
  reply += array_header(deleted.size());
  for (const auto id : deleted)
    reply += id_reply(id);
  return reply;
}

// --- XINFO GROUPS, CONSUMERS, STREAM FULL ------------------------------------------------------

std::string xinfo_groups_reply(const stream_value& s) {
  std::string reply = array_header(s.groups().size());
  for (const auto& [name, group] : s.groups()) {
    const auto lag = s.lag(group);
    reply += array_header(12);
    reply += bulk("name") + bulk(name);
    reply += bulk("consumers") + integer(static_cast<long long>(group.consumers.size()));
    reply += bulk("pending") + integer(static_cast<long long>(group.pel.size()));
    reply += bulk("last-delivered-id") + id_reply(group.last_id);
    reply += bulk("entries-read") + (group.entries_read == stream_group::unknown_read
                                         ? null_bulk()
                                         : integer(group.entries_read));
    reply += bulk("lag") + (lag ? integer(*lag) : null_bulk());
  }
  return reply;
}

std::string xinfo_consumers_reply(const stream_group* group, const std::string& key,
                                  const std::string& name, std::uint64_t now_ms) {
  if (group == nullptr)
    return error_reply("NOGROUP No such consumer group '" + name + "' for key name '" + key + "'");
  std::string reply = array_header(group->consumers.size());
  for (const auto& [consumer_name, consumer] : group->consumers) {
    const long long idle =
        static_cast<long long>(now_ms) - static_cast<long long>(consumer.seen_time);
    reply += array_header(6);
    reply += bulk("name") + bulk(consumer_name);
    reply += bulk("pending") + integer(static_cast<long long>(consumer.pending.size()));
    reply += bulk("idle") + integer(idle < 0 ? 0 : idle);
  }
  return reply;
}

std::string xinfo_full_groups_reply(const stream_value& s, std::size_t count) {
  std::string reply = array_header(s.groups().size());
  for (const auto& [name, group] : s.groups()) {
    const auto lag = s.lag(group);
    reply += array_header(14);
    reply += bulk("name") + bulk(name);
    reply += bulk("last-delivered-id") + id_reply(group.last_id);
    reply += bulk("entries-read") + (group.entries_read == stream_group::unknown_read
                                         ? null_bulk()
                                         : integer(group.entries_read));
    reply += bulk("lag") + (lag ? integer(*lag) : null_bulk());
    reply += bulk("pel-count") + integer(static_cast<long long>(group.pel.size()));
    reply += bulk("pending");
    std::string pel;
    std::size_t listed = 0;
    for (auto it = group.pel.begin(); it != group.pel.end() && (count == 0 || listed < count);
         ++it, ++listed)
      pel += array_header(4) + id_reply(it->first) + bulk(it->second.consumer) +
             integer(static_cast<long long>(it->second.delivery_time)) +
             integer(static_cast<long long>(it->second.delivery_count));
    reply += array_header(listed) + pel;
    reply += bulk("consumers") + array_header(group.consumers.size());
    for (const auto& [consumer_name, consumer] : group.consumers) {
      reply += array_header(8);
      reply += bulk("name") + bulk(consumer_name);
      reply += bulk("seen-time") + integer(static_cast<long long>(consumer.seen_time));
      reply += bulk("pel-count") + integer(static_cast<long long>(consumer.pending.size()));
      reply += bulk("pending");
      std::string own;
      std::size_t own_listed = 0;
      for (auto it = consumer.pending.begin();
           it != consumer.pending.end() && (count == 0 || own_listed < count); ++it, ++own_listed) {
        const stream_pending& pending = group.pel.find(*it)->second;
        own += array_header(3) + id_reply(*it) +
               integer(static_cast<long long>(pending.delivery_time)) +
               integer(static_cast<long long>(pending.delivery_count));
      }
      reply += array_header(own_listed) + own;
    }
  }
  return reply;
}

} // namespace prez::kv
