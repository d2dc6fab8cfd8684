#pragma once
// RESP2 reply encoding (server -> client), the one writer every reply is built with (the state
// machine's commands, the gateway's own commands), plus a reply scanner used by tests and by
// request forwarding to find where one reply ends. Pure: no I/O (docs/architecture.md §6).

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace prez {

/// Appends `+<text>\r\n`. CR and LF in `text` are replaced by spaces (as Redis does for status
/// and error replies), so the reply stays one line.
void append_simple_string(std::string& out, std::string_view text);

/// Appends `-ERR <message>\r\n` (CR/LF in `message` replaced by spaces).
void append_error(std::string& out, std::string_view message);

/// Appends `-<code> <message>\r\n` for errors with their own code, e.g. `CLUSTERDOWN`, `MOVED`,
/// `WRONGTYPE` (CR/LF in either part replaced by spaces).
void append_error_code(std::string& out, std::string_view code, std::string_view message);

/// Appends `-<message>\r\n`, where `message` starts with its code ("ERR ...", "WRONGTYPE ...");
/// CR/LF in it are replaced by spaces.
void append_error_message(std::string& out, std::string_view message);

/// Appends `:<value>\r\n`.
void append_integer(std::string& out, std::int64_t value);

/// Appends `$<size>\r\n<bytes>\r\n` (binary safe).
void append_bulk(std::string& out, std::string_view bytes);

/// Appends the null bulk string `$-1\r\n`.
void append_null_bulk(std::string& out);

/// Appends `*<count>\r\n`; the caller then appends `count` replies.
void append_array_header(std::string& out, std::size_t count);

/// Appends the null array `*-1\r\n`.
void append_null_array(std::string& out);

/// Appends `argv` as a multibulk request (`*N` then N bulks), the form a client sends. Used to
/// forward commands and in tests.
void append_command(std::string& out, const std::vector<std::string>& argv);

/// The same encoders returning the reply, for replies written in one expression.
namespace resp {
inline std::string simple(std::string_view text) {
  std::string out;
  append_simple_string(out, text);
  return out;
}
inline std::string ok() {
  return "+OK\r\n";
}
/// `message` starts with its code ("ERR ...", "UNKNOWN ...").
inline std::string error(std::string_view message) {
  std::string out;
  append_error_message(out, message);
  return out;
}
inline std::string bulk(std::string_view bytes) {
  std::string out;
  append_bulk(out, bytes);
  return out;
}
inline std::string null_bulk() {
  return "$-1\r\n";
}
inline std::string integer(std::int64_t value) {
  std::string out;
  append_integer(out, value);
  return out;
}
inline std::string array_header(std::size_t count) {
  std::string out;
  append_array_header(out, count);
  return out;
}
inline std::string null_array() {
  return "*-1\r\n";
}
/// An array of simple strings (the HELP replies).
template <class Range>
std::string simple_array(const Range& lines) {
  std::string out;
  append_array_header(out, std::size(lines));
  for (const auto& line : lines)
    append_simple_string(out, line);
  return out;
}
/// An array of bulk strings.
template <class Range>
std::string bulk_array(const Range& items) {
  std::string out;
  append_array_header(out, items.size());
  for (const auto& item : items)
    append_bulk(out, item);
  return out;
}
} // namespace resp

/// Outcome of scanning the front of a reply stream.
enum class resp_scan_status { complete, incomplete, malformed };

/// Result of scan_resp_reply.
struct resp_scan_result {
  resp_scan_status status;
  std::size_t length = 0; ///< bytes of the first reply when status == complete, else 0
};

/// Scans the first RESP2 reply in `bytes` (simple string, error, integer, bulk, null bulk, array,
/// null array, nested arrays to any depth; iterative, no recursion). Malformed: an unknown type
/// byte, a bad number, a line without `\r\n`, or a bulk not followed by `\r\n`.
resp_scan_result scan_resp_reply(std::string_view bytes);

/// Byte length of the one complete reply at the front of `bytes`; nullopt if it is incomplete or
/// malformed (use scan_resp_reply to tell which).
std::optional<std::size_t> resp_reply_length(std::string_view bytes);

} // namespace prez
