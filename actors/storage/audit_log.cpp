#include "actors/storage/audit_log.hpp"

#include <charconv>

#include "config/assert.hpp"

namespace prez::audit {

namespace {

constexpr std::string_view snapshot_comment_prefix = "# snapshot ";
constexpr std::string_view at_index_word = " at index ";

void append_number(std::string& out, std::uint64_t value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  PREZ_ASSERT(ec == std::errc{});
  out.append(digits, end);
}

/// Parses the decimal number at the start of `text`; nullopt without one.
std::optional<std::uint64_t> leading_number(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end == text.data()) return std::nullopt;
  return value;
}

void append_line(std::string& out, std::uint64_t index, std::uint64_t term, std::uint64_t time_ms,
                 const std::vector<std::string>& argv) {
  append_number(out, index);
  out += ' ';
  append_number(out, term);
  out += ' ';
  append_number(out, time_ms);
  for (const auto& arg : argv) {
    out += ' ';
    append_quoted(out, arg);
  }
  out += '\n';
}

/// The part of a command line after its three numbers (`"MULTI"` for a transaction's first line).
std::string_view arguments_of(std::string_view line) {
  for (int field = 0; field < 3; ++field) {
    const auto space = line.find(' ');
    if (space == std::string_view::npos) return {};
    line.remove_prefix(space + 1);
  }
  return line;
}

/// One complete line of a window: [start, end) without its '\n'.
struct line_span {
  std::size_t start = 0;
  std::size_t end = 0;
};

/// The complete line that ends (its '\n' included) at `end` > 0; nullopt if its start is not in
/// the window.
std::optional<line_span> line_before(std::string_view window, std::size_t end, bool at_file_start) {
  PREZ_ASSERT(end > 0 && window[end - 1] == '\n');
  const std::size_t previous = end >= 2 ? window.rfind('\n', end - 2) : std::string_view::npos;
  if (previous == std::string_view::npos && !at_file_start) return std::nullopt;
  const std::size_t start = previous == std::string_view::npos ? 0 : previous + 1;
  return line_span{start, end - 1};
}

} // namespace

void append_quoted(std::string& out, std::string_view arg) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (const char c : arg) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      default: {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte < 0x7f) {
          out += c;
        } else {
          out += "\\x";
          out += hex[byte >> 4];
          out += hex[byte & 0xf];
        }
      }
    }
  }
  out += '"';
}

std::string command_line(std::uint64_t index, std::uint64_t term, std::uint64_t time_ms,
                         const std::vector<std::string>& argv) {
  std::string out;
  append_line(out, index, term, time_ms, argv);
  return out;
}

audit_line entry_lines(std::uint64_t index, std::uint64_t term, const client_command& command) {
  audit_line line{index, {}};
  if (!command.is_transaction()) {
    append_line(line.text, index, term, command.time_ms, command.argv);
    return line;
  }
  append_line(line.text, index, term, command.time_ms, {"MULTI"});
  for (const auto& queued : command.transaction)
    append_line(line.text, index, term, command.time_ms, queued);
  append_line(line.text, index, term, command.time_ms, {"EXEC"});
  return line;
}

audit_line snapshot_comment(std::uint64_t index, std::uint64_t term, bool installed) {
  audit_line line{index, std::string(snapshot_comment_prefix)};
  line.text += installed ? "installed" : "loaded";
  line.text += at_index_word;
  append_number(line.text, index);
  line.text += " term ";
  append_number(line.text, term);
  line.text += ": entries up to ";
  append_number(line.text, index);
  line.text += " are not listed\n";
  return line;
}

audit_line lost_comment(std::uint64_t first, std::uint64_t last, std::string_view reason) {
  audit_line line{last, "# audit log: the commands of entries "};
  append_number(line.text, first);
  line.text += "..";
  append_number(line.text, last);
  line.text += " are not listed: ";
  line.text += reason;
  line.text += '\n';
  return line;
}

std::optional<std::uint64_t> line_index(std::string_view line) {
  if (line.starts_with(snapshot_comment_prefix)) {
    const auto at = line.find(at_index_word);
    if (at == std::string_view::npos) return std::nullopt;
    return leading_number(line.substr(at + at_index_word.size()));
  }
  if (line.empty() || line[0] < '0' || line[0] > '9') return std::nullopt;
  auto index = leading_number(line);
  if (!index || arguments_of(line).empty()) return std::nullopt;
  return index;
}

tail_scan scan_tail(std::string_view window, bool at_file_start) {
  tail_scan out;
  const std::size_t last_newline = window.rfind('\n');
  if (last_newline == std::string_view::npos) {
    // No complete line: the whole window is a torn line; it began before the window unless the
    // window is the file.
    out.decided = at_file_start;
    out.keep_bytes = at_file_start ? 0 : window.size();
    return out;
  }
  out.keep_bytes = last_newline + 1;
  // The last line that names an index.
  std::size_t end = out.keep_bytes;
  std::optional<line_span> last;
  std::optional<std::uint64_t> index;
  while (end > 0 && !index) {
    last = line_before(window, end, at_file_start);
    if (!last) {
      out.decided = false;
      return out;
    }
    index = line_index(window.substr(last->start, last->end - last->start));
    end = last->start;
  }
  if (!index) return out; // the whole file lists no index
  out.last_index = index;
  const std::string_view last_text = window.substr(last->start, last->end - last->start);
  if (last_text[0] == '#' || arguments_of(last_text) == "\"EXEC\"") return out;
  // A command line: the first line of its entry (the lines before it with the same index) is a
  // MULTI line only if the transaction was cut before its EXEC line (a crash mid-write).
  line_span first = *last;
  while (first.start > 0) {
    auto before = line_before(window, first.start, at_file_start);
    if (!before) {
      out.decided = false;
      return out;
    }
    if (line_index(window.substr(before->start, before->end - before->start)) != index) break;
    first = *before;
  }
  if (first.start == 0 && !at_file_start) {
    out.decided = false;
    return out;
  }
  if (arguments_of(window.substr(first.start, first.end - first.start)) == "\"MULTI\"") {
    out.keep_bytes = first.start;
    out.last_index = *index - 1;
  }
  return out;
}

bool should_rotate(std::uint64_t file_bytes, std::uint64_t batch_bytes, std::uint64_t max_bytes) {
  if (max_bytes == 0 || file_bytes == 0) return false;
  return file_bytes + batch_bytes > max_bytes;
}

std::string rotated_path(const std::string& path, unsigned n) {
  PREZ_ASSERT(n >= 1);
  return path + "." + std::to_string(n);
}

} // namespace prez::audit
