// Stream commands with Redis 7.0's replies and errors: XADD, XTRIM, XDEL, XLEN, XRANGE,
// XREVRANGE, XREAD (BLOCK through the blocked clients, kv_blocking.cpp), XSETID and XINFO. The
// value is stream.hpp's. An ID that XADD makes ("*") is the entry's time, the leader's log time,
// which never goes backwards across leaders (keyspace::advance_clock), so IDs only grow.
// Consumer groups (XGROUP, XREADGROUP, XACK, ...) are in kv_stream_groups.cpp.

#include "actors/state_machine/kv_streams.hpp"
#include "config/limits.hpp"

namespace prez::kv {

stream_value* stream_for_write(keyspace& keys, const std::string& key, std::uint64_t time_ms,
                               entry*& e, bool& wrong) {
  e = keys.find_live(key, time_ms);
  wrong = e != nullptr && !std::holds_alternative<stream_value>(e->data);
  return e == nullptr || wrong ? nullptr : &std::get<stream_value>(e->data);
}

const stream_value* stream_for_read(const keyspace& keys, const std::string& key,
                                    std::uint64_t now_ms, bool& wrong) {
  const entry* e = keys.find_visible(key, now_ms);
  wrong = e != nullptr && !std::holds_alternative<stream_value>(e->data);
  return e == nullptr || wrong ? nullptr : &std::get<stream_value>(e->data);
}

const stream_value* stream_for_peek(keyspace& keys, const std::string& key, std::uint64_t time_ms,
                                    bool& wrong) {
  const entry* e = keys.peek_live(key, time_ms);
  wrong = e != nullptr && !std::holds_alternative<stream_value>(e->data);
  return e == nullptr || wrong ? nullptr : &std::get<stream_value>(e->data);
}

std::string id_reply(stream_id id) {
  return bulk(to_string(id));
}

std::string entry_reply(stream_id id, const stream_entry& entry) {
  return array_header(2) + id_reply(id) + bulk_array(entry.fields);
}

std::string range_reply(const stream_value& s, stream_id start, stream_id end, std::size_t count,
                        bool reverse) {
  std::string body;
  std::size_t emitted = 0;
  if (start <= end) {
    const auto& entries = s.entries();
    if (!reverse) {
      for (auto it = entries.lower_bound(start);
           it != entries.end() && it->first <= end && (count == 0 || emitted < count); ++it) {
        body += entry_reply(it->first, it->second);
        ++emitted;
      }
    } else {
      for (auto it = std::make_reverse_iterator(entries.upper_bound(end));
           it != entries.rend() && it->first >= start && (count == 0 || emitted < count); ++it) {
        body += entry_reply(it->first, it->second);
        ++emitted;
      }
    }
  }
  return array_header(emitted) + body;
}

namespace {

/// XADD's and XTRIM's trimming options.
struct trim_args {
  enum class strategy { none, maxlen, minid } how = strategy::none;
  bool approx = false;
  std::uint64_t maxlen = 0;
  stream_id minid;
  std::uint64_t limit = 0;
  // XADD only
  bool no_mkstream = false;
  bool id_given = false;
  bool seq_given = true;
  stream_id id;
};

/// Parses XADD's (`xadd`) or XTRIM's options from argv[2] as Redis 7.0 does, its errors in its
/// order. Returns the position of XADD's ID (argv.size() for XTRIM), or 0 with `error` set.
std::size_t parse_trim_args(const argv_type& argv, bool xadd, trim_args& args, std::string& error) {
  bool limit_given = false;
  std::size_t i = 2;
  for (; i < argv.size(); ++i) {
    const std::size_t more = argv.size() - 1 - i;
    const std::string& opt = argv[i];
    if (xadd && opt == "*") break;
    if ((is_word(opt, "maxlen") || is_word(opt, "minid")) && more > 0) {
      if (args.how != trim_args::strategy::none) {
        error = error_reply(
            "ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
        return 0;
      }
      args.approx = false;
      if (more >= 2 && (argv[i + 1] == "~" || argv[i + 1] == "=")) {
        args.approx = argv[i + 1] == "~";
        ++i;
      }
      if (is_word(opt, "maxlen")) {
        const auto maxlen = parse_integer(argv[i + 1]);
        if (!maxlen) {
          error = error_reply(not_integer);
          return 0;
        }
        if (*maxlen < 0) {
          error = error_reply("ERR The MAXLEN argument must be >= 0.");
          return 0;
        }
        args.maxlen = static_cast<std::uint64_t>(*maxlen);
        args.how = trim_args::strategy::maxlen;
      } else {
        const auto minid = parse_stream_id(argv[i + 1], 0, true);
        if (!minid) {
          error = error_reply(invalid_stream_id);
          return 0;
        }
        args.minid = *minid;
        args.how = trim_args::strategy::minid;
      }
      ++i;
    } else if (is_word(opt, "limit") && more > 0) {
      const auto limit = parse_integer(argv[i + 1]);
      if (!limit) {
        error = error_reply(not_integer);
        return 0;
      }
      if (*limit < 0) {
        error = error_reply("ERR The LIMIT argument must be >= 0.");
        return 0;
      }
      args.limit = static_cast<std::uint64_t>(*limit);
      limit_given = true;
      ++i;
    } else if (xadd && is_word(opt, "nomkstream")) {
      args.no_mkstream = true;
    } else if (xadd) {
      const auto id = parse_stream_id(opt, 0, true, &args.seq_given);
      if (!id) {
        error = error_reply(invalid_stream_id);
        return 0;
      }
      args.id = *id;
      args.id_given = true;
      break;
    } else {
      error = error_reply(syntax_error);
      return 0;
    }
  }
  if (args.limit != 0 && args.how == trim_args::strategy::none) {
    error = error_reply(
        "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
    return 0;
  }
  if (!xadd && args.how == trim_args::strategy::none) {
    error = error_reply("ERR syntax error, XTRIM must be called with a trimming strategy");
    return 0;
  }
  if (limit_given && !args.approx) {
    error = error_reply("ERR syntax error, LIMIT cannot be used without the special ~ option");
    return 0;
  }
  if (!limit_given && args.approx) args.limit = 100 * stream_value::node_entries;
  return i;
}

/// Trims `s` (entry `e` of `key`) as `args` say; returns the entries removed.
std::size_t trim(keyspace& keys, entry& e, stream_value& s, const trim_args& args) {
  std::size_t bytes = 0;
  std::size_t removed = 0;
  if (args.how == trim_args::strategy::maxlen)
    removed = s.trim_to_length(args.maxlen, args.approx, args.limit, bytes);
  else if (args.how == trim_args::strategy::minid)
    removed = s.trim_below(args.minid, args.approx, args.limit, bytes);
  if (removed > 0) keys.shrink(e, bytes);
  return removed;
}

} // namespace

std::optional<stream_id> parse_bound(const std::string& text, bool start, std::string& error) {
  const bool exclusive = text.size() > 1 && text[0] == '(';
  const auto id = exclusive ? parse_stream_id(std::string_view(text).substr(1),
                                              start ? 0 : ~std::uint64_t{0}, true)
                            : parse_stream_id(text, start ? 0 : ~std::uint64_t{0}, false);
  if (!id) {
    error = error_reply(invalid_stream_id);
    return std::nullopt;
  }
  stream_id bound = *id;
  if (exclusive && !(start ? increment(bound) : decrement(bound))) {
    error = error_reply(start ? "ERR invalid start ID for the interval"
                              : "ERR invalid end ID for the interval");
    return std::nullopt;
  }
  return bound;
}

namespace {

std::string range_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms,
                          bool reverse) {
  std::string error;
  const auto start = parse_bound(reverse ? argv[3] : argv[2], true, error);
  if (!start) return error;
  const auto end = parse_bound(reverse ? argv[2] : argv[3], false, error);
  if (!end) return error;
  long long count = -1;
  for (std::size_t i = 4; i < argv.size(); ++i) {
    if (is_word(argv[i], "count") && i + 1 < argv.size()) {
      const auto parsed = parse_integer(argv[++i]);
      if (!parsed) return error_reply(not_integer);
      count = *parsed < 0 ? 0 : *parsed;
    } else {
      return error_reply(syntax_error);
    }
  }
  bool wrong = false;
  const stream_value* s = stream_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  if (s == nullptr) return array_header(0);
  if (count == 0) return null_array();
  return range_reply(*s, *start, *end, count < 0 ? 0 : static_cast<std::size_t>(count), reverse);
}

} // namespace

std::optional<xread_call> parse_xread(const argv_type& argv, std::string& error) {
  error.clear();
  xread_call call;
  call.group = lowercase(argv[0]) == "xreadgroup";
  bool group_given = false;
  std::size_t streams_at = 0;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const std::size_t more = argv.size() - 1 - i;
    if (is_word(argv[i], "block") && more > 0) {
      const auto timeout = parse_integer(argv[++i]);
      if (!timeout) {
        error = error_reply("ERR timeout is not an integer or out of range");
        return std::nullopt;
      }
      if (*timeout < 0) {
        error = error_reply("ERR timeout is negative");
        return std::nullopt;
      }
      if (static_cast<std::uint64_t>(*timeout) > blocking_timeout_ms_max) {
        error = error_reply("ERR timeout is out of range");
        return std::nullopt;
      }
      call.block = static_cast<std::uint64_t>(*timeout);
    } else if (is_word(argv[i], "count") && more > 0) {
      const auto count = parse_integer(argv[++i]);
      if (!count) {
        error = error_reply(not_integer);
        return std::nullopt;
      }
      call.count = *count < 0 ? 0 : static_cast<std::uint64_t>(*count);
    } else if (is_word(argv[i], "streams") && more > 0) {
      streams_at = i + 1;
      if ((argv.size() - streams_at) % 2 != 0) {
        error = error_reply("ERR Unbalanced XREAD list of streams: for each stream key an ID or "
                            "'$' must be specified.");
        return std::nullopt;
      }
      break;
    } else if (is_word(argv[i], "group") && more >= 2) {
      if (!call.group) {
        error = error_reply(
            "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
        return std::nullopt;
      }
      call.group_name = argv[i + 1];
      call.consumer = argv[i + 2];
      group_given = true;
      i += 2;
    } else if (is_word(argv[i], "noack")) {
      if (!call.group) {
        error = error_reply(
            "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
        return std::nullopt;
      }
      call.noack = true;
    } else {
      error = error_reply(syntax_error);
      return std::nullopt;
    }
  }
  if (streams_at == 0) {
    error = error_reply(syntax_error);
    return std::nullopt;
  }
  if (call.group && !group_given) {
    error = error_reply("ERR Missing GROUP option for XREADGROUP");
    return std::nullopt;
  }
  const std::size_t streams = (argv.size() - streams_at) / 2;
  call.keys.assign(argv.begin() + static_cast<std::ptrdiff_t>(streams_at),
                   argv.begin() + static_cast<std::ptrdiff_t>(streams_at + streams));
  call.ids_at = streams_at + streams;
  return call;
}

std::optional<std::string> xread_ready(const keyspace& keys, const argv_type& argv,
                                       const xread_call& call, std::uint64_t now_ms,
                                       std::size_t only) {
  std::string body;
  std::size_t served = 0;
  const std::size_t count = call.count != 0 ? static_cast<std::size_t>(call.count)
                            : call.block.has_value() && only != xread_all ? xread_blocked_count
                                                                          : 0;
  for (std::size_t i = 0; i < call.keys.size(); ++i) {
    if (only != xread_all && i != only) continue;
    bool wrong = false;
    const stream_value* s = stream_for_read(keys, call.keys[i], now_ms, wrong);
    if (wrong) return wrong_type_reply();
    const std::string& id_text = argv[call.ids_at + i];
    stream_id after;
    if (id_text == "$") {
      if (s == nullptr) continue;
      after = s->last_id();
    } else if (id_text == ">") {
      return error_reply("ERR The > ID can be specified only when calling XREADGROUP using the "
                         "GROUP <group> <consumer> option.");
    } else {
      const auto id = parse_stream_id(id_text, 0, true);
      if (!id) return error_reply(invalid_stream_id);
      after = *id;
    }
    if (s == nullptr || s->empty() || !(after < s->entries().rbegin()->first)) continue;
    stream_id start = after;
    increment(start);
    body +=
        array_header(2) + bulk(call.keys[i]) + range_reply(*s, start, stream_id_max, count, false);
    ++served;
  }
  if (served == 0) return std::nullopt;
  return array_header(served) + body;
}

argv_type xread_resolve(const keyspace& keys, const argv_type& argv, const xread_call& call,
                        std::uint64_t now_ms) {
  argv_type resolved = argv;
  for (std::size_t i = 0; i < call.keys.size(); ++i) {
    if (resolved[call.ids_at + i] != "$") continue;
    bool wrong = false;
    const stream_value* s = stream_for_read(keys, call.keys[i], now_ms, wrong);
    resolved[call.ids_at + i] = to_string(s == nullptr ? stream_id{} : s->last_id());
  }
  return resolved;
}

bool xread_blocks(const argv_type& argv) {
  for (std::size_t i = 1; i + 1 < argv.size(); ++i) {
    if (is_word(argv[i], "streams")) return false;
    if (is_word(argv[i], "block")) return true;
    if (is_word(argv[i], "count")) ++i;
    if (is_word(argv[i], "group")) i += 2;
  }
  return false;
}

std::string xadd_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  trim_args args;
  std::string error;
  const std::size_t id_at = parse_trim_args(argv, true, args, error);
  if (id_at == 0) return error;
  const std::size_t fields_at = id_at + 1;
  if (argv.size() < fields_at + 2 || (argv.size() - fields_at) % 2 != 0) return arity_error("xadd");
  if (args.id_given && args.seq_given && args.id == stream_id{})
    return error_reply("ERR The ID specified in XADD must be greater than 0-0");
  std::size_t item_bytes = 24; // stream_entry_bytes() of the entry to be
  for (std::size_t i = fields_at; i < argv.size(); ++i)
    item_bytes += 4 + argv[i].size();
  if (item_bytes > limits::stream_entry_bytes_max)
    return error_reply("ERR Elements are too large to be stored");
  entry* e = nullptr;
  bool wrong = false;
  stream_value* s = stream_for_write(keys, argv[1], time_ms, e, wrong);
  if (wrong) return wrong_type_reply();
  if (s == nullptr) {
    if (args.no_mkstream) return null_bulk();
    e = &keys.insert(argv[1], stream_value{});
    s = &std::get<stream_value>(e->data);
  }
  if (s->last_id() == stream_id_max)
    return error_reply("ERR The stream has exhausted the last possible ID, unable to add more "
                       "items");
  std::optional<stream_id> id;
  if (!args.id_given)
    id = s->next_id(time_ms, std::nullopt);
  else if (!args.seq_given)
    id = s->next_id(time_ms, args.id.ms);
  else if (s->last_id() < args.id)
    id = args.id;
  if (!id)
    return error_reply("ERR The ID specified in XADD is equal or smaller than the target stream "
                       "top item");
  keys.grow(*e, s->append(*id, argv_type(argv.begin() + static_cast<std::ptrdiff_t>(fields_at),
                                         argv.end())));
  keys.notify(notify::stream, "xadd", argv[1]);
  if (trim(keys, *e, *s, args) > 0) keys.notify(notify::stream, "xtrim", argv[1]);
  return id_reply(*id);
}

std::string xtrim_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  trim_args args;
  std::string error;
  if (parse_trim_args(argv, false, args, error) == 0) return error;
  entry* e = nullptr;
  bool wrong = false;
  stream_value* s = stream_for_write(keys, argv[1], time_ms, e, wrong);
  if (wrong) return wrong_type_reply();
  if (s == nullptr) return integer(0);
  const std::size_t removed = trim(keys, *e, *s, args);
  if (removed > 0) keys.notify(notify::stream, "xtrim", argv[1]);
  return integer(static_cast<long long>(removed));
}

std::string xdel_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  entry* e = nullptr;
  bool wrong = false;
  stream_value* s = stream_for_write(keys, argv[1], time_ms, e, wrong);
  if (wrong) return wrong_type_reply();
  if (s == nullptr) return integer(0);
  std::vector<stream_id> ids;
  for (std::size_t i = 2; i < argv.size(); ++i) {
    const auto id = parse_stream_id(argv[i], 0, true);
    if (!id) return error_reply(invalid_stream_id);
    ids.push_back(*id);
  }
  long long deleted = 0;
  std::size_t bytes = 0;
  for (const auto id : ids) {
    const std::size_t removed = s->erase(id);
    if (removed == 0) continue;
    bytes += removed;
    ++deleted;
  }
  if (deleted > 0) {
    keys.shrink(*e, bytes);
    keys.notify(notify::stream, "xdel", argv[1]);
  }
  return integer(deleted);
}

std::string xlen_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  bool wrong = false;
  const stream_value* s = stream_for_read(keys, argv[1], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  return integer(s == nullptr ? 0 : static_cast<long long>(s->size()));
}

std::string xrange_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  return range_command(keys, argv, now_ms, false);
}

std::string xrevrange_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  return range_command(keys, argv, now_ms, true);
}

std::string xread_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  std::string error;
  const auto call = parse_xread(argv, error);
  if (!call) return error;
  auto reply = xread_ready(keys, argv, *call, now_ms, xread_all);
  return reply ? std::move(*reply) : null_array();
}

std::string xread_block_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  // Where the client cannot block (inside MULTI or a script): what there is, or at once what a
  // timeout answers, as Redis does.
  return xread_command(keys, argv, time_ms);
}

std::string xsetid_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  const auto id = parse_stream_id(argv[2], 0, true);
  if (!id) return error_reply(invalid_stream_id);
  std::optional<std::uint64_t> entries_added;
  stream_id max_deleted;
  for (std::size_t i = 3; i < argv.size(); i += 2) {
    if (i + 1 >= argv.size()) return error_reply(syntax_error);
    if (is_word(argv[i], "entriesadded")) {
      const auto count = parse_integer(argv[i + 1]);
      if (!count) return error_reply(not_integer);
      if (*count < 0) return error_reply("ERR entries_added must be positive");
      entries_added = static_cast<std::uint64_t>(*count);
    } else if (is_word(argv[i], "maxdeletedid")) {
      const auto deleted = parse_stream_id(argv[i + 1], 0, true);
      if (!deleted) return error_reply(invalid_stream_id);
      if (*id < *deleted)
        return error_reply(
            "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
      max_deleted = *deleted;
    } else {
      return error_reply(syntax_error);
    }
  }
  entry* e = nullptr;
  bool wrong = false;
  stream_value* s = stream_for_write(keys, argv[1], time_ms, e, wrong);
  if (wrong) return wrong_type_reply();
  if (s == nullptr) return error_reply(no_such_key);
  if (!s->empty()) {
    if (*id < s->entries().rbegin()->first)
      return error_reply(
          "ERR The ID specified in XSETID is smaller than the target stream top item");
    if (entries_added && *entries_added < s->size())
      return error_reply(
          "ERR The entries_added specified in XSETID is smaller than the target stream length");
  }
  s->set_last_id(*id);
  if (entries_added) s->set_entries_added(*entries_added);
  if (max_deleted != stream_id{}) s->set_max_deleted_id(max_deleted);
  keys.touch(*e);
  keys.notify(notify::stream, "xsetid", argv[1]);
  return ok();
}

std::string check_xinfo(const argv_type& argv) {
  return check_subcommand(argv, {{"help", 2}, {"stream", -3}, {"groups", 3}, {"consumers", 4}});
}

std::string xinfo_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  const std::string sub = lowercase(argv[1]);
  if (sub == "help") {
    const std::vector<std::string> lines = {
        "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
        "HELP",
        "    Prints this help."};
    return resp::simple_array(lines);
  }
  bool full = false;
  long long count = 10;
  if (sub == "stream" && argv.size() > 3) {
    const std::size_t options = argv.size() - 3;
    const bool shape = (options == 1 || options == 3) && is_word(argv[3], "full") &&
                       (options == 1 || is_word(argv[4], "count"));
    if (!shape) return subcommand_syntax_error(argv);
    full = true;
    if (options == 3) {
      const auto parsed = parse_integer(argv[5]);
      if (!parsed) return error_reply(not_integer);
      count = *parsed < 0 ? 10 : *parsed;
    }
  }
  bool wrong = false;
  const stream_value* s = stream_for_read(keys, argv[2], now_ms, wrong);
  if (wrong) return wrong_type_reply();
  if (s == nullptr) return error_reply(no_such_key);
  if (sub == "groups") return xinfo_groups_reply(*s);
  if (sub == "consumers")
    return xinfo_consumers_reply(s->find_group(argv[3]), argv[2], argv[3], now_ms);
  // Redis reports its radix tree; prez has one ordered map, so it reports one node per
  // node_entries entries, which is what Redis's default node size gives for appends.
  const long long nodes =
      s->empty() ? 0
                 : static_cast<long long>((s->size() + stream_value::node_entries - 1) /
                                          stream_value::node_entries);
  std::string reply = array_header(full ? 18 : 20);
  reply += bulk("length") + integer(static_cast<long long>(s->size()));
  reply += bulk("radix-tree-keys") + integer(nodes);
  reply += bulk("radix-tree-nodes") + integer(nodes == 0 ? 1 : nodes * 2);
  reply += bulk("last-generated-id") + id_reply(s->last_id());
  reply += bulk("max-deleted-entry-id") + id_reply(s->max_deleted_id());
  reply += bulk("entries-added") + integer(static_cast<long long>(s->entries_added()));
  reply += bulk("recorded-first-entry-id") + id_reply(s->first_id());
  if (!full) {
    reply += bulk("groups") + integer(static_cast<long long>(s->groups().size()));
    reply += bulk("first-entry");
    reply += s->empty() ? null_bulk()
                        : entry_reply(s->entries().begin()->first, s->entries().begin()->second);
    reply += bulk("last-entry");
    reply += s->empty() ? null_bulk()
                        : entry_reply(s->entries().rbegin()->first, s->entries().rbegin()->second);
    return reply;
  }
  reply += bulk("entries") +
           range_reply(*s, stream_id{}, stream_id_max, static_cast<std::size_t>(count), false);
  reply += bulk("groups") + xinfo_full_groups_reply(*s, static_cast<std::size_t>(count));
  return reply;
}

} // namespace prez::kv
