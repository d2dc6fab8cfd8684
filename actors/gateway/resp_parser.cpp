#include "actors/gateway/resp_parser.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <utility>

#include "config/limits.hpp"

namespace prez {

namespace {

/// Whitespace for inline commands: isspace's set plus NUL (see split_inline_args).
bool is_inline_space(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f' || c == '\0';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Reads one "double-quoted" part starting after the opening quote at `i`; appends to `arg`.
/// Returns false when the quote is not closed or not followed by whitespace.
bool read_double_quoted(std::string_view line, std::size_t& i, std::string& arg) {
  while (i < line.size()) {
    char c = line[i];
    if (c == '\\' && i + 3 < line.size() && line[i + 1] == 'x' && hex_value(line[i + 2]) >= 0 &&
        hex_value(line[i + 3]) >= 0) {
      arg += static_cast<char>(hex_value(line[i + 2]) * 16 + hex_value(line[i + 3]));
      i += 4;
    } else if (c == '\\' && i + 1 < line.size()) {
      char escaped = line[i + 1];
      switch (escaped) {
        case 'n':
          arg += '\n';
          break;
        case 'r':
          arg += '\r';
          break;
        case 't':
          arg += '\t';
          break;
        case 'b':
          arg += '\b';
          break;
        case 'a':
          arg += '\a';
          break;
        default:
          arg += escaped;
          break;
      }
      i += 2;
    } else if (c == '"') {
      ++i;
      return i == line.size() || is_inline_space(line[i]);
    } else {
      arg += c;
      ++i;
    }
  }
  return false;
}

/// Reads one 'single-quoted' part starting after the opening quote at `i`; appends to `arg`.
bool read_single_quoted(std::string_view line, std::size_t& i, std::string& arg) {
  while (i < line.size()) {
    char c = line[i];
    if (c == '\\' && i + 1 < line.size() && line[i + 1] == '\'') {
      arg += '\'';
      i += 2;
    } else if (c == '\'') {
      ++i;
      return i == line.size() || is_inline_space(line[i]);
    } else {
      arg += c;
      ++i;
    }
  }
  return false;
}

/// Parses a RESP length like Redis's string2ll: optional '-', digits, no leading zeros, no '+'.
std::optional<std::int64_t> parse_length(std::string_view text) {
  std::string_view digits = text.substr(!text.empty() && text[0] == '-' ? 1 : 0);
  if (digits.empty() || (digits[0] == '0' && text.size() > 1)) return std::nullopt;
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

/// `c` as it should appear in an error message: itself if printable, else `\xHH`.
std::string printable(char c) {
  auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x20 && byte < 0x7f) return std::string(1, c);
  static constexpr char digits[] = "0123456789abcdef";
  return std::string{'\\', 'x', digits[byte >> 4], digits[byte & 0xf]};
}

/// The header line [begin, newline) without its mandatory trailing '\r'; nullopt if it has none.
std::optional<std::string_view> header_digits(const std::string& buffer, std::size_t begin,
                                              std::size_t newline) {
  if (newline == begin || buffer[newline - 1] != '\r') return std::nullopt;
  return std::string_view(buffer).substr(begin, newline - 1 - begin);
}

} // namespace

std::optional<std::vector<std::string>> split_inline_args(std::string_view line) {
  std::vector<std::string> args;
  std::size_t i = 0;
  while (true) {
    while (i < line.size() && is_inline_space(line[i]))
      ++i;
    if (i == line.size()) return args;
    std::string arg;
    while (i < line.size() && !is_inline_space(line[i])) {
      char c = line[i++];
      if (c == '"') {
        if (!read_double_quoted(line, i, arg)) return std::nullopt;
      } else if (c == '\'') {
        if (!read_single_quoted(line, i, arg)) return std::nullopt;
      } else {
        arg += c;
      }
    }
    args.push_back(std::move(arg));
  }
}

bool resp_parser::feed(const char* data, std::size_t size, std::vector<resp_command>& out) {
  if (failed()) return false;
  buffer_.append(data, size);
  step result = step::progressed;
  while (result == step::progressed)
    result = parse_one(out);
  if (result == step::failed) return false;
  compact();
  if (buffered_bytes() > limits::query_buffer_bytes_max) {
    fail("Protocol error: query buffer limit exceeded");
    return false;
  }
  return true;
}

std::size_t resp_parser::allocated_bytes() const {
  std::size_t bytes = buffer_.capacity() + args_.capacity() * sizeof(std::string);
  for (const std::string& arg : args_)
    bytes += arg.capacity();
  return bytes;
}

resp_parser::step resp_parser::parse_one(std::vector<resp_command>& out) {
  if (multibulk_remaining_ > 0) return parse_bulk(out);
  if (read_pos_ == buffer_.size()) return step::need_more;
  if (buffer_[read_pos_] == '*') return parse_multibulk_header();
  return parse_inline(out);
}

resp_parser::step resp_parser::parse_inline(std::vector<resp_command>& out) {
  std::size_t newline = find_newline();
  if (newline == std::string::npos) {
    if (buffer_.size() - read_pos_ > limits::inline_line_bytes_max)
      return fail("Protocol error: too big inline request");
    return step::need_more;
  }
  if (newline - read_pos_ > limits::inline_line_bytes_max)
    return fail("Protocol error: too big inline request");
  std::string_view line = std::string_view(buffer_).substr(read_pos_, newline - read_pos_);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  auto args = split_inline_args(line);
  if (!args) return fail("Protocol error: unbalanced quotes in request");
  consume_to(newline + 1);
  if (!args->empty()) out.push_back(std::move(*args));
  return step::progressed;
}

resp_parser::step resp_parser::parse_multibulk_header() {
  std::size_t newline = find_newline();
  if (newline == std::string::npos) {
    if (buffer_.size() - read_pos_ > limits::inline_line_bytes_max)
      return fail("Protocol error: too big mbulk count string");
    return step::need_more;
  }
  auto digits = header_digits(buffer_, read_pos_ + 1, newline);
  auto count = digits ? parse_length(*digits) : std::nullopt;
  if (!count || *count > static_cast<std::int64_t>(limits::multibulk_count_max))
    return fail("Protocol error: invalid multibulk length");
  if (!authenticated_ &&
      *count > static_cast<std::int64_t>(limits::unauthenticated_multibulk_count_max))
    return fail("Protocol error: unauthenticated multibulk length");
  consume_to(newline + 1);
  if (*count <= 0) return step::progressed; // `*0` and `*-1`: no command, as in Redis
  multibulk_remaining_ = static_cast<std::size_t>(*count);
  // Reserve for what may come, never for what is merely declared.
  args_.reserve(
      std::min(multibulk_remaining_, limits::declared_reserve_bytes_max / sizeof(std::string)));
  return step::progressed;
}

resp_parser::step resp_parser::parse_bulk(std::vector<resp_command>& out) {
  if (!bulk_len_) {
    std::size_t newline = find_newline();
    if (newline == std::string::npos) {
      if (buffer_.size() - read_pos_ > limits::inline_line_bytes_max)
        return fail("Protocol error: too big bulk count string");
      return step::need_more;
    }
    if (buffer_[read_pos_] != '$')
      return fail("Protocol error: expected '$', got '" + printable(buffer_[read_pos_]) + "'");
    auto digits = header_digits(buffer_, read_pos_ + 1, newline);
    auto length = digits ? parse_length(*digits) : std::nullopt;
    if (!length || *length < 0 || *length > static_cast<std::int64_t>(limits::bulk_bytes_max))
      return fail("Protocol error: invalid bulk length");
    if (!authenticated_ &&
        *length > static_cast<std::int64_t>(limits::unauthenticated_bulk_bytes_max))
      return fail("Protocol error: unauthenticated bulk length");
    consume_to(newline + 1);
    bulk_len_ = static_cast<std::size_t>(*length);
  }
  std::size_t length = *bulk_len_;
  if (buffer_.size() - read_pos_ < length + 2)
    return step::need_more; // O(1) per feed however slowly the bulk arrives
  if (buffer_[read_pos_ + length] != '\r' || buffer_[read_pos_ + length + 1] != '\n')
    return fail("Protocol error: bulk string not terminated by CRLF");
  args_.emplace_back(buffer_, read_pos_, length);
  args_bytes_ += length;
  consume_to(read_pos_ + length + 2);
  bulk_len_.reset();
  if (--multibulk_remaining_ == 0) {
    out.push_back(std::move(args_));
    args_ = resp_command{};
    args_bytes_ = 0;
  }
  return step::progressed;
}

std::size_t resp_parser::find_newline() {
  const char* begin = buffer_.data() + newline_scan_pos_;
  const void* found = std::memchr(begin, '\n', buffer_.size() - newline_scan_pos_);
  if (found == nullptr) {
    newline_scan_pos_ = buffer_.size();
    return std::string::npos;
  }
  newline_scan_pos_ = static_cast<std::size_t>(static_cast<const char*>(found) - buffer_.data());
  return newline_scan_pos_;
}

void resp_parser::consume_to(std::size_t pos) {
  read_pos_ = pos;
  newline_scan_pos_ = std::max(newline_scan_pos_, read_pos_);
}

void resp_parser::compact() {
  std::size_t unparsed = buffer_.size() - read_pos_;
  if (unparsed == 0) {
    // Give back what a big command grew; keep a normal buffer to avoid churn.
    if (buffer_.capacity() > 2 * limits::read_chunk_bytes) std::string{}.swap(buffer_);
    buffer_.clear();
    read_pos_ = 0;
    newline_scan_pos_ = 0;
  } else if (read_pos_ > 0 && read_pos_ >= unparsed) {
    // Moves at most as many bytes as were consumed: amortised O(1) per byte.
    buffer_.erase(0, read_pos_);
    newline_scan_pos_ -= read_pos_;
    read_pos_ = 0;
  }
}

resp_parser::step resp_parser::fail(std::string message) {
  error_ = std::move(message);
  return step::failed;
}

} // namespace prez
