#pragma once
// The metrics port's HTTP/1.1: what a connection's bytes amount to, and the response text. Pure:
// no CAF, no sockets. Written by hand because prez needs only a request line and headers read
// under a hard size limit (two GET targets, no bodies, one request per connection), which is
// less code than adapting a general HTTP library to CAF's brokers.

#include <cstddef>
#include <string>
#include <string_view>

namespace prez::http {

/// How far a connection's buffered bytes go.
enum class head_state {
  incomplete, ///< no blank line yet, and nothing wrong so far: read more
  complete,   ///< request line and headers, ended by a blank line, all well formed
  malformed,  ///< cannot become a valid request (or is over the size limit): answer 400, close
};

/// The request line and headers at the start of a connection's bytes.
struct request_head {
  head_state state = head_state::incomplete;
  std::string method; ///< when complete: the method token, as sent (case-sensitive)
  std::string path;   ///< when complete: the target without its query string
  std::string error;  ///< when malformed: why, for the log and the 400 body
};

/// Reads the request line and headers at the start of `buffer` (RFC 9112 §2-§5, strictly: one
/// space between the three parts of the request line, HTTP/1.0 or HTTP/1.1, `name: value` header
/// lines with token names, CRLF or bare LF line ends, no obsolete line folding). Anything after
/// the blank line (a body, a pipelined request) is ignored: the connection closes after one
/// response. The head may be at most `header_bytes_max` bytes including the blank line; a request
/// line that is already wrong is reported at once, before the blank line arrives.
request_head parse_request_head(std::string_view buffer, std::size_t header_bytes_max);

/// What the server does with a request.
enum class route {
  metrics,            ///< GET /metrics
  health,             ///< GET /health
  not_found,          ///< GET of any other path: 404
  method_not_allowed, ///< any other method: 405 (checked before the path)
  bad_request,        ///< malformed: 400
};

/// The route of a complete or malformed head. Precondition: head.state != incomplete.
route route_of(const request_head& head);

/// A whole HTTP/1.1 response that closes the connection: status line (with the standard reason
/// phrase), Content-Type, Content-Length, `Connection: close`, `Allow: GET` on a 405, the body.
std::string format_response(int status, std::string_view content_type, std::string_view body);

/// The 400, 404 or 405 response for `r` (a short text/plain body naming what went wrong; `detail`
/// is appended to a 400's). Precondition: r is not_found, method_not_allowed or bad_request.
std::string error_response(route r, std::string_view detail = {});

} // namespace prez::http
