#include "actors/gateway/resp3.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

namespace prez {

namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

using node = resp2_reply;

/// Parses one reply at `pos`; nullopt when the text is not well-formed RESP2.
std::optional<node> parse(std::string_view text, std::size_t& pos, int depth = 0) {
  if (depth > 64 || pos >= text.size()) return std::nullopt;
  const auto start = pos;
  const auto eol = text.find("\r\n", pos);
  if (eol == std::string_view::npos) return std::nullopt;
  node n;
  n.type = text[pos];
  const auto header = text.substr(pos + 1, eol - pos - 1);
  pos = eol + 2;
  auto number = [&]() -> std::optional<long long> {
    long long v = 0;
    auto [p, ec] = std::from_chars(header.data(), header.data() + header.size(), v);
    if (ec != std::errc{} || p != header.data() + header.size()) return std::nullopt;
    return v;
  };
  auto aggregate = [&](long long count) -> bool {
    if (static_cast<unsigned long long>(count) > text.size()) return false;
    n.elements.reserve(static_cast<std::size_t>(count));
    for (long long i = 0; i < count; ++i) {
      auto element = parse(text, pos, depth + 1);
      if (!element) return false;
      n.elements.push_back(std::move(*element));
    }
    return true;
  };
  switch (n.type) {
    case '+':
    case '-':
    case ':':
      n.payload = header;
      break;
    case ',': // RESP3 double and big number: the number's text
    case '(':
      if (header.empty()) return std::nullopt;
      n.payload = header;
      break;
    case '#':
      if (header != "t" && header != "f") return std::nullopt;
      n.payload = header;
      break;
    case '_':
      if (!header.empty()) return std::nullopt;
      n.null = true;
      break;
    case '$':
    case '=': {
      auto length = number();
      if (!length) return std::nullopt;
      if (*length < 0) {
        if (n.type == '=') return std::nullopt;
        n.null = true;
        break;
      }
      const auto size = static_cast<std::size_t>(*length);
      if (text.size() - pos < size + 2 || text.substr(pos + size, 2) != "\r\n") return std::nullopt;
      n.payload = text.substr(pos, size);
      if (n.type == '=' && (size < 4 || n.payload[3] != ':')) return std::nullopt;
      pos += size + 2;
      break;
    }
    case '*': {
      auto count = number();
      if (!count) return std::nullopt;
      if (*count < 0) {
        n.null = true;
        break;
      }
      if (!aggregate(*count)) return std::nullopt;
      break;
    }
    case '~':
    case '%': { // RESP3 set and map (a map's elements are its keys and values in turn)
      auto count = number();
      if (!count || *count < 0) return std::nullopt;
      if (n.type == '%' && static_cast<unsigned long long>(*count) > text.size())
        return std::nullopt;
      if (!aggregate(n.type == '%' ? 2 * *count : *count)) return std::nullopt;
      break;
    }
    default:
      return std::nullopt;
  }
  n.raw = text.substr(start, pos - start);
  return n;
}

/// How to write an aggregate: as an array, a map (pairs) or a set. `children` decides the
/// elements' own forms (nullptr: plain all the way down).
struct form;
using form_of_child = form (*)(const node& parent, std::size_t index, const form& self);

struct form {
  char aggregate = '*'; ///< '*', '%' or '~'
  bool verbatim = false;
  form_of_child children = nullptr;
  const std::vector<resp3_shape>* queued = nullptr; ///< EXEC
  bool as_double = false;  ///< a bulk string is a double (sorted set scores)
  bool as_pairs = false;   ///< a flat array of member, score, ... becomes [member, double] pairs
  bool pair_double = true; ///< with as_pairs: the second of each pair is a double
  bool keyed_map = false;  ///< an array of [key, value] arrays becomes a map (XREAD)
};

void write(std::string& out, const node& n, const form& f);

void write_header(std::string& out, char type, std::size_t count) {
  out += type;
  out += std::to_string(count);
  out += "\r\n";
}

void write(std::string& out, const node& n, const form& f) {
  if (n.null) {
    out += "_\r\n";
    return;
  }
  if (n.type == '$' && f.as_double) {
    out += ',';
    out += n.payload;
    out += "\r\n";
    return;
  }
  if (n.type == '*' && f.as_pairs && n.elements.size() % 2 == 0) {
    write_header(out, '*', n.elements.size() / 2);
    for (std::size_t i = 0; i < n.elements.size(); i += 2) {
      write_header(out, '*', 2);
      write(out, n.elements[i], form{});
      write(out, n.elements[i + 1], form{'*', false, nullptr, nullptr, f.pair_double, false});
    }
    return;
  }
  if (n.type == '*' && f.keyed_map &&
      std::all_of(n.elements.begin(), n.elements.end(),
                  [](const node& e) { return e.type == '*' && e.elements.size() == 2; })) {
    write_header(out, '%', n.elements.size());
    for (const node& pair : n.elements) {
      write(out, pair.elements[0], form{});
      write(out, pair.elements[1], form{});
    }
    return;
  }
  if (n.type == '$' && f.verbatim) {
    write_header(out, '=', n.payload.size() + 4);
    out += "txt:";
    out += n.payload;
    out += "\r\n";
    return;
  }
  if (n.type == '%' || n.type == '~') { // a script's RESP3 map or set: kept, nulls inside converted
    write_header(out, n.type, n.type == '%' ? n.elements.size() / 2 : n.elements.size());
    for (const node& element : n.elements)
      write(out, element, form{});
    return;
  }
  if (n.type != '*') {
    out += n.raw;
    return;
  }
  // A map needs pairs; an odd list (never produced for a map command) stays an array.
  const char type = f.aggregate == '%' && n.elements.size() % 2 != 0 ? '*' : f.aggregate;
  write_header(out, type, type == '%' ? n.elements.size() / 2 : n.elements.size());
  for (std::size_t i = 0; i < n.elements.size(); ++i)
    write(out, n.elements[i], f.children ? f.children(n, i, f) : form{});
}

form form_for(resp3_shape shape, const std::vector<resp3_shape>* queued);

// --- COMMAND INFO and COMMAND DOCS, whose replies nest ------------------------------------------

form command_info_entry(const node&, std::size_t index, const form&) {
  // name, arity, flags, first key, last key, step, ACL categories, tips, key specs, subcommands
  const bool set = index == 2 || index == 6 || index == 7 || index == 8 || index == 9;
  return form{set ? '~' : '*', false, nullptr, nullptr};
}

form command_info_list(const node&, std::size_t, const form&) {
  return form{'*', false, &command_info_entry, nullptr};
}

form doc_argument(const node& parent, std::size_t index, const form&);

/// The value after key `index - 1` in a flat key/value list.
std::string_view key_before(const node& parent, std::size_t index) {
  if (index % 2 == 0 || parent.elements[index - 1].type != '$') return {};
  return parent.elements[index - 1].payload;
}

form doc_argument_list(const node&, std::size_t, const form&) {
  return form{'%', false, &doc_argument, nullptr};
}

form doc_argument(const node& parent, std::size_t index, const form&) {
  const auto key = key_before(parent, index);
  if (key == "flags") return form{'~', false, nullptr, nullptr};
  if (key == "arguments") return form{'*', false, &doc_argument_list, nullptr};
  return form{};
}

form doc_fields(const node& parent, std::size_t index, const form&);

form doc_subcommands(const node&, std::size_t index, const form&) {
  return index % 2 == 1 ? form{'%', false, &doc_fields, nullptr} : form{};
}

form doc_fields(const node& parent, std::size_t index, const form&) {
  const auto key = key_before(parent, index);
  if (key == "arguments") return form{'*', false, &doc_argument_list, nullptr};
  if (key == "subcommands") return form{'%', false, &doc_subcommands, nullptr};
  return form{};
}

form command_docs_top(const node&, std::size_t index, const form&) {
  return index % 2 == 1 ? form{'%', false, &doc_fields, nullptr} : form{};
}

// --- sorted sets
// ----------------------------------------------------------------------------------

form double_element(const node&, std::size_t, const form&) {
  return form{'*', false, nullptr, nullptr, true, false};
}

form second_is_double(const node&, std::size_t index, const form&) {
  return form{'*', false, nullptr, nullptr, index == 1, false};
}

form third_is_double(const node&, std::size_t index, const form&) {
  return form{'*', false, nullptr, nullptr, index == 2, false};
}

form pair_with_double(const node&, std::size_t, const form&) {
  return form{'*', false, &second_is_double, nullptr};
}

/// ZMPOP's [key, [[member, score], ...]]: the scores are doubles.
form zmpop_element(const node&, std::size_t index, const form&) {
  return index == 1 ? form{'*', false, &pair_with_double, nullptr} : form{};
}

/// Whether a WITHSCORES option appears in argv[from..].
bool with_scores_from(const std::vector<std::string>& argv, std::size_t from) {
  for (std::size_t i = from; i < argv.size(); ++i)
    if (lowercase(argv[i]) == "withscores") return true;
  return false;
}

/// The shape of a sorted set command's reply; plain for any other command.
resp3_shape zset_shape_of(const std::string& name, const std::vector<std::string>& argv) {
  if (name == "zscore" || name == "zincrby") return resp3_shape::score;
  if (name == "zadd") {
    // Options come before the first score; a member named "incr" cannot be mistaken for one
    // (its reply is then an integer, which the shape leaves alone).
    for (std::size_t i = 2; i < argv.size(); ++i)
      if (lowercase(argv[i]) == "incr") return resp3_shape::score;
    return resp3_shape::plain;
  }
  if (name == "zmscore") return resp3_shape::scores;
  if (name == "zpopmin" || name == "zpopmax")
    return argv.size() > 2 ? resp3_shape::scored_pairs : resp3_shape::scored_pair;
  if (name == "zmpop" || name == "bzmpop") return resp3_shape::zmpop;
  if (name == "bzpopmin" || name == "bzpopmax") return resp3_shape::keyed_score;
  if (name == "zrandmember")
    return argv.size() == 4 && lowercase(argv[3]) == "withscores" ? resp3_shape::scored_pairs
                                                                  : resp3_shape::plain;
  if (name == "zrange" || name == "zrevrange" || name == "zrangebyscore" ||
      name == "zrevrangebyscore")
    return with_scores_from(argv, 4) ? resp3_shape::scored_pairs : resp3_shape::plain;
  if (name == "zunion" || name == "zinter" || name == "zdiff") {
    // WITHSCORES comes after the numkeys keys (a key may be named "withscores").
    long long numkeys = 0;
    const std::string& text = argv.size() > 1 ? argv[1] : std::string();
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), numkeys);
    if (ec != std::errc{} || end != text.data() + text.size() || numkeys < 1 ||
        static_cast<unsigned long long>(numkeys) > argv.size())
      return resp3_shape::plain;
    return with_scores_from(argv, 2 + static_cast<std::size_t>(numkeys)) ? resp3_shape::scored_pairs
                                                                         : resp3_shape::plain;
  }
  return resp3_shape::plain;
}

// --- streams ------------------------------------------------------------------------------------

form map_element(const node&, std::size_t, const form&) {
  return form{'%', false, nullptr, nullptr};
}

form stream_group_field(const node& parent, std::size_t index, const form&) {
  return key_before(parent, index) == "consumers" ? form{'*', false, &map_element, nullptr}
                                                  : form{};
}

form stream_group_element(const node&, std::size_t, const form&) {
  return form{'%', false, &stream_group_field, nullptr};
}

/// XINFO STREAM's fields: FULL's "groups" is an array of maps (an integer without FULL).
form stream_info_field(const node& parent, std::size_t index, const form&) {
  return key_before(parent, index) == "groups" ? form{'*', false, &stream_group_element, nullptr}
                                               : form{};
}

// --- EXEC ---------------------------------------------------------------------------------------

form exec_element(const node&, std::size_t index, const form& exec) {
  if (exec.queued == nullptr || index >= exec.queued->size()) return form{};
  return form_for((*exec.queued)[index], nullptr);
}

form form_for(resp3_shape shape, const std::vector<resp3_shape>* queued) {
  switch (shape) {
    case resp3_shape::map:
      return form{'%', false, nullptr, nullptr};
    case resp3_shape::set:
      return form{'~', false, nullptr, nullptr};
    case resp3_shape::verbatim:
      return form{'*', true, nullptr, nullptr};
    case resp3_shape::command_info:
      return form{'*', false, &command_info_list, nullptr};
    case resp3_shape::command_docs:
      return form{'%', false, &command_docs_top, nullptr};
    case resp3_shape::exec:
      return form{'*', false, &exec_element, queued};
    case resp3_shape::score:
      return form{'*', false, nullptr, nullptr, true, false};
    case resp3_shape::scores:
      return form{'*', false, &double_element, nullptr};
    case resp3_shape::scored_pairs:
      return form{'*', false, nullptr, nullptr, false, true};
    case resp3_shape::pairs:
      return form{'*', false, nullptr, nullptr, false, true, false};
    case resp3_shape::scored_pair:
      return form{'*', false, &second_is_double, nullptr};
    case resp3_shape::zmpop:
      return form{'*', false, &zmpop_element, nullptr};
    case resp3_shape::keyed_score:
      return form{'*', false, &third_is_double, nullptr};
    case resp3_shape::keyed_map: {
      form f;
      f.keyed_map = true;
      return f;
    }
    case resp3_shape::map_list:
      return form{'*', false, &map_element, nullptr};
    case resp3_shape::stream_info:
      return form{'%', false, &stream_info_field, nullptr};
    case resp3_shape::script: // its RESP3 types are written through, nulls become `_`
    case resp3_shape::plain:
      break;
  }
  return form{};
}

/// Writes `n` in RESP2 (to_resp2).
void downgrade(std::string& out, const node& n) {
  auto bulk = [&](std::string_view text) {
    write_header(out, '$', text.size());
    out += text;
    out += "\r\n";
  };
  switch (n.type) {
    case '_':
      out += "$-1\r\n";
      return;
    case '#':
      out += n.payload == "t" ? ":1\r\n" : ":0\r\n";
      return;
    case ',':
    case '(':
      return bulk(n.payload);
    case '=':
      return bulk(n.payload.substr(4));
    case '%':
    case '~':
    case '*':
      if (n.null) break;
      write_header(out, '*', n.elements.size());
      for (const node& element : n.elements)
        downgrade(out, element);
      return;
    default:
      break;
  }
  out += n.raw;
}

} // namespace

resp3_shape resp3_shape_of(const std::vector<std::string>& argv) {
  if (argv.empty()) return resp3_shape::plain;
  const auto name = lowercase(argv[0]);
  const auto sub = argv.size() > 1 ? lowercase(argv[1]) : std::string();
  if (name == "hgetall" || name == "hello" || (name == "config" && sub == "get"))
    return resp3_shape::map;
  if (name == "xinfo" && sub == "stream") return resp3_shape::stream_info;
  if (name == "xinfo" && (sub == "groups" || sub == "consumers")) return resp3_shape::map_list;
  if (name == "xread" || name == "xreadgroup") return resp3_shape::keyed_map;
  // LCS ... IDX answers {matches, len}: a map in RESP3.
  if (name == "lcs" && std::any_of(argv.begin() + 1, argv.end(),
                                   [](const std::string& arg) { return lowercase(arg) == "idx"; }))
    return resp3_shape::map;
  // HRANDFIELD key count WITHVALUES: [field, value] pairs, as Redis 7 answers in RESP3.
  if (name == "hrandfield" && argv.size() == 4 && lowercase(argv[3]) == "withvalues")
    return resp3_shape::pairs;
  if (name == "smembers" || name == "sinter" || name == "sunion" || name == "sdiff" ||
      (name == "spop" && argv.size() > 2))
    return resp3_shape::set;
  if (name == "info" || (name == "client" && (sub == "info" || sub == "list")))
    return resp3_shape::verbatim;
  if (name == "command" && (sub.empty() || sub == "info")) return resp3_shape::command_info;
  if (name == "command" && sub == "docs") return resp3_shape::command_docs;
  if (name == "exec") return resp3_shape::exec;
  if (name == "eval" || name == "evalsha" || name == "eval_ro" || name == "evalsha_ro" ||
      name == "fcall" || name == "fcall_ro")
    return resp3_shape::script;
  return zset_shape_of(name, argv);
}

std::string to_resp3(std::string_view resp2, resp3_shape shape,
                     const std::vector<resp3_shape>& queued) {
  std::size_t pos = 0;
  auto root = parse(resp2, pos);
  if (!root || pos != resp2.size()) return std::string(resp2);
  std::string out;
  out.reserve(resp2.size());
  write(out, *root, form_for(shape, &queued));
  return out;
}

bool may_hold_resp3(resp3_shape shape, const std::vector<resp3_shape>& queued) {
  if (shape == resp3_shape::script) return true;
  return shape == resp3_shape::exec &&
         std::find(queued.begin(), queued.end(), resp3_shape::script) != queued.end();
}

std::string to_resp2(std::string_view reply) {
  // Only an aggregate or a RESP3 type changes; most script replies are a plain RESP2 scalar.
  if (reply.empty() || reply[0] == '+' || reply[0] == '-' || reply[0] == ':' || reply[0] == '$')
    return std::string(reply);
  std::size_t pos = 0;
  auto root = parse(reply, pos);
  if (!root || pos != reply.size()) return std::string(reply);
  std::string out;
  out.reserve(reply.size());
  downgrade(out, *root);
  return out;
}

std::optional<resp2_reply> parse_resp2_reply(std::string_view text) {
  std::size_t pos = 0;
  auto reply = parse(text, pos);
  if (!reply || pos != text.size()) return std::nullopt;
  return reply;
}

} // namespace prez
