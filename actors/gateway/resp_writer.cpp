#include "actors/gateway/resp_writer.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

namespace prez {

namespace {

/// Appends `text` with CR and LF replaced by spaces, so a one-line reply stays one line.
void append_one_line(std::string& out, std::string_view text) {
  std::size_t start = out.size();
  out.append(text);
  std::replace_if(
      out.begin() + static_cast<std::ptrdiff_t>(start), out.end(),
      [](char c) { return c == '\r' || c == '\n'; }, ' ');
}

template <class Integer>
void append_number(std::string& out, Integer value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), value);
  (void)ec; // 24 chars hold any 64-bit integer
  out.append(digits, end);
}

void append_header(std::string& out, char type, std::size_t count) {
  out += type;
  append_number(out, count);
  out += "\r\n";
}

/// Parses a reply's number: optional '-', then digits (no other characters).
std::optional<std::int64_t> parse_reply_number(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

/// Largest array we accept while scanning: bounds the pending-element counter, far above any
/// real reply.
constexpr std::int64_t scan_array_count_max = std::int64_t{1} << 32;

} // namespace

void append_simple_string(std::string& out, std::string_view text) {
  out += '+';
  append_one_line(out, text);
  out += "\r\n";
}

void append_error(std::string& out, std::string_view message) {
  append_error_code(out, "ERR", message);
}

void append_error_code(std::string& out, std::string_view code, std::string_view message) {
  out += '-';
  append_one_line(out, code);
  out += ' ';
  append_one_line(out, message);
  out += "\r\n";
}

void append_error_message(std::string& out, std::string_view message) {
  out += '-';
  append_one_line(out, message);
  out += "\r\n";
}

void append_integer(std::string& out, std::int64_t value) {
  out += ':';
  append_number(out, value);
  out += "\r\n";
}

void append_bulk(std::string& out, std::string_view bytes) {
  append_header(out, '$', bytes.size());
  out.append(bytes);
  out += "\r\n";
}

void append_null_bulk(std::string& out) {
  out += resp::null_bulk();
}

void append_array_header(std::string& out, std::size_t count) {
  append_header(out, '*', count);
}

void append_null_array(std::string& out) {
  out += resp::null_array();
}

void append_command(std::string& out, const std::vector<std::string>& argv) {
  append_array_header(out, argv.size());
  for (const std::string& arg : argv)
    append_bulk(out, arg);
}

resp_scan_result scan_resp_reply(std::string_view bytes) {
  constexpr resp_scan_result incomplete{resp_scan_status::incomplete, 0};
  constexpr resp_scan_result malformed{resp_scan_status::malformed, 0};
  std::size_t pos = 0;
  std::uint64_t pending = 1; // replies still to scan; arrays add their elements
  while (pending > 0) {
    if (pos >= bytes.size()) return incomplete;
    char type = bytes[pos];
    if (type != '+' && type != '-' && type != ':' && type != '$' && type != '*') return malformed;
    std::size_t cr = bytes.find('\r', pos + 1);
    if (cr == std::string_view::npos || cr + 1 >= bytes.size()) return incomplete;
    if (bytes[cr + 1] != '\n') return malformed;
    std::string_view line = bytes.substr(pos + 1, cr - pos - 1);
    pos = cr + 2;
    --pending;
    if (type == '+' || type == '-') continue;
    auto number = parse_reply_number(line);
    if (!number) return malformed;
    if (type == ':') continue;
    if (*number == -1) continue; // null bulk or null array
    if (*number < -1) return malformed;
    if (type == '*') {
      if (*number > scan_array_count_max) return malformed;
      pending += static_cast<std::uint64_t>(*number);
      continue;
    }
    auto length = static_cast<std::uint64_t>(*number);
    if (bytes.size() - pos < length + 2) return incomplete;
    if (bytes[pos + length] != '\r' || bytes[pos + length + 1] != '\n') return malformed;
    pos += length + 2;
  }
  return resp_scan_result{resp_scan_status::complete, pos};
}

std::optional<std::size_t> resp_reply_length(std::string_view bytes) {
  resp_scan_result result = scan_resp_reply(bytes);
  if (result.status != resp_scan_status::complete) return std::nullopt;
  return result.length;
}

} // namespace prez
