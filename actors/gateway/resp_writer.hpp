#pragma once
// RESP2 reply encoding (server -> client), plus a reply scanner used by tests and by request
// forwarding to find where one reply ends. Pure: no I/O (STYLE §1).

#include <cstddef>
#include <cstdint>
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
