// The metrics port's HTTP parsing and responses (http_request.hpp). Pure.
#include "actors/gateway/http_request.hpp"

#include <algorithm>

#include "config/assert.hpp"

namespace prez::http {

namespace {

/// RFC 9110 §5.6.2 tchar.
bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), is_token_char);
}

/// Visible ASCII (no space, no control, no 8-bit): what a request target may hold.
bool is_visible(char c) {
  return c > ' ' && c < 0x7f;
}

/// A header value: visible ASCII, spaces and tabs (obs-text, 8-bit, is tolerated as RFC 9110
/// allows); no other control character.
bool is_field_value(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= ' ' && u != 0x7f);
  });
}

/// One line without its end: a CRLF's CR is dropped; a CR anywhere else is an error (returns
/// false).
bool strip_line_end(std::string_view& line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line.find('\r') == std::string_view::npos;
}

/// Checks the request line; fills method and path, or returns the reason it is wrong.
std::string check_request_line(std::string_view line, request_head& out) {
  if (!strip_line_end(line)) return "stray CR in the request line";
  const auto first = line.find(' ');
  const auto second = first == std::string_view::npos ? first : line.find(' ', first + 1);
  if (second == std::string_view::npos || line.find(' ', second + 1) != std::string_view::npos)
    return "the request line must be 'METHOD /path HTTP/1.1'";
  const auto method = line.substr(0, first);
  const auto target = line.substr(first + 1, second - first - 1);
  const auto version = line.substr(second + 1);
  if (!is_token(method)) return "invalid method";
  if (target.empty() || target[0] != '/' || !std::all_of(target.begin(), target.end(), is_visible))
    return "invalid request target";
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return "unsupported HTTP version";
  out.method = std::string(method);
  out.path = std::string(target.substr(0, target.find('?')));
  return {};
}

/// Checks one header line (`name: value`), or returns the reason it is wrong.
std::string check_header_line(std::string_view line) {
  if (!strip_line_end(line)) return "stray CR in a header";
  if (line[0] == ' ' || line[0] == '\t') return "obsolete header line folding";
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || !is_token(line.substr(0, colon)))
    return "invalid header line";
  if (!is_field_value(line.substr(colon + 1))) return "invalid header value";
  return {};
}

request_head malformed(std::string reason) {
  request_head out;
  out.state = head_state::malformed;
  out.error = std::move(reason);
  return out;
}

} // namespace

request_head parse_request_head(std::string_view buffer, std::size_t header_bytes_max) {
  request_head out;
  const auto window = buffer.substr(0, header_bytes_max);
  const auto first_end = window.find('\n');
  if (first_end == std::string_view::npos) {
    if (buffer.size() > header_bytes_max) return malformed("request header too large");
    return out;
  }
  if (auto reason = check_request_line(window.substr(0, first_end), out); !reason.empty())
    return malformed(std::move(reason));
  std::size_t start = first_end + 1;
  while (true) {
    const auto end = window.find('\n', start);
    if (end == std::string_view::npos) {
      if (buffer.size() > header_bytes_max) return malformed("request header too large");
      out.state = head_state::incomplete;
      return out;
    }
    auto line = window.substr(start, end - start);
    if (line.empty() || line == "\r") { // the blank line: the head is whole
      out.state = head_state::complete;
      return out;
    }
    if (auto reason = check_header_line(line); !reason.empty()) return malformed(std::move(reason));
    start = end + 1;
  }
}

route route_of(const request_head& head) {
  PREZ_ASSERT(head.state != head_state::incomplete);
  if (head.state == head_state::malformed) return route::bad_request;
  if (head.method != "GET") return route::method_not_allowed;
  if (head.path == "/metrics") return route::metrics;
  if (head.path == "/health") return route::health;
  return route::not_found;
}

namespace {

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

} // namespace

std::string format_response(int status, std::string_view content_type, std::string_view body) {
  PREZ_ASSERT(status >= 100 && status <= 999);
  std::string out = "HTTP/1.1 " + std::to_string(status) + " ";
  out += reason_phrase(status);
  out += "\r\nContent-Type: ";
  out += content_type;
  out += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n";
  if (status == 405) out += "Allow: GET\r\n";
  out += "\r\n";
  out += body;
  return out;
}

std::string error_response(route r, std::string_view detail) {
  switch (r) {
    case route::not_found:
      return format_response(404, "text/plain; charset=utf-8",
                             "not found: try GET /metrics or GET /health\n");
    case route::method_not_allowed:
      return format_response(405, "text/plain; charset=utf-8", "method not allowed: use GET\n");
    case route::bad_request: {
      std::string body = "bad request";
      if (!detail.empty()) body += ": " + std::string(detail);
      return format_response(400, "text/plain; charset=utf-8", body + "\n");
    }
    default:
      PREZ_ASSERT(false);
      return {};
  }
}

} // namespace prez::http
