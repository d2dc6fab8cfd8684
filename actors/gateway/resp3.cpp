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
  switch (n.type) {
    case '+':
    case '-':
    case ':':
      n.payload = header;
      break;
    case '$': {
      auto length = number();
      if (!length) return std::nullopt;
      if (*length < 0) {
        n.null = true;
        break;
      }
      const auto size = static_cast<std::size_t>(*length);
      if (text.size() - pos < size + 2 || text.substr(pos + size, 2) != "\r\n") return std::nullopt;
      n.payload = text.substr(pos, size);
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
      if (static_cast<std::size_t>(*count) > text.size()) return std::nullopt;
      n.elements.reserve(static_cast<std::size_t>(*count));
      for (long long i = 0; i < *count; ++i) {
        auto element = parse(text, pos, depth + 1);
        if (!element) return std::nullopt;
        n.elements.push_back(std::move(*element));
      }
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
  if (n.type == '$' && f.verbatim) {
    write_header(out, '=', n.payload.size() + 4);
    out += "txt:";
    out += n.payload;
    out += "\r\n";
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
    case resp3_shape::plain:
      break;
  }
  return form{};
}

} // namespace

resp3_shape resp3_shape_of(const std::vector<std::string>& argv) {
  if (argv.empty()) return resp3_shape::plain;
  const auto name = lowercase(argv[0]);
  const auto sub = argv.size() > 1 ? lowercase(argv[1]) : std::string();
  if (name == "hgetall" || name == "hello" || (name == "config" && sub == "get"))
    return resp3_shape::map;
  // LCS ... IDX answers {matches, len}: a map in RESP3.
  if (name == "lcs" && std::any_of(argv.begin() + 1, argv.end(),
                                   [](const std::string& arg) { return lowercase(arg) == "idx"; }))
    return resp3_shape::map;
  if (name == "smembers" || name == "sinter" || name == "sunion" || name == "sdiff" ||
      (name == "spop" && argv.size() > 2))
    return resp3_shape::set;
  if (name == "info" || (name == "client" && (sub == "info" || sub == "list")))
    return resp3_shape::verbatim;
  if (name == "command" && (sub.empty() || sub == "info")) return resp3_shape::command_info;
  if (name == "command" && sub == "docs") return resp3_shape::command_docs;
  if (name == "exec") return resp3_shape::exec;
  return resp3_shape::plain;
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

std::optional<resp2_reply> parse_resp2_reply(std::string_view text) {
  std::size_t pos = 0;
  auto reply = parse(text, pos);
  if (!reply || pos != text.size()) return std::nullopt;
  return reply;
}

} // namespace prez
