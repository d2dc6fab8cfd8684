#pragma once
// Incremental parser for client -> server RESP2 traffic. Pure: bytes in, commands out
// (docs/architecture.md §6).
//
// Two request forms, told apart by the first byte of each command (as Redis does):
//   - multibulk: `*<count>\r\n` then `count` times `$<len>\r\n<len bytes>\r\n` (binary safe);
//   - inline: one line ending in `\n` (a `\r` before it is dropped), split into arguments with
//     Redis's sdssplitargs rules (see split_inline_args).
// `*0`, `*-1` and empty inline lines yield no command, like Redis.
//
// Every input is bounded by config/limits.hpp: inline line, multibulk count, bulk length and the
// bytes held per client (unparsed bytes plus the arguments of the command being assembled). A
// declared count or length never allocates more than limits::declared_reserve_bytes_max up front;
// memory grows only as bytes arrive. Feeding the same bytes in any chunking gives the same
// commands, and each byte is scanned a bounded number of times (no O(n^2) on a slowly arriving
// bulk).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace prez {

/// One client command: its arguments, the command name first. Never empty.
using resp_command = std::vector<std::string>;

/// Splits an inline command line (without its line terminator) like Redis's sdssplitargs:
/// arguments are separated by whitespace; "double quotes" allow \n \r \t \b \a \\ \" and \xHH
/// escapes (any other `\c` is `c`); 'single quotes' allow only \'; a closing quote must be followed
/// by whitespace or the end of the line. A quote in the middle of an unquoted argument opens a
/// quoted part of the same argument (`a"b c"` is `ab c`). A NUL byte separates arguments.
/// Returns nullopt on unbalanced quotes.
std::optional<std::vector<std::string>> split_inline_args(std::string_view line);

/// Incremental RESP2 request parser, one per client connection (owned by that connection's
/// gateway broker).
class resp_parser {
public:
  /// Appends `size` bytes and parses as many complete commands as possible, appending them to
  /// `out`. Returns false on a protocol error: error() then holds the Redis-style message (e.g.
  /// "Protocol error: invalid bulk length"), the connection must be answered `-ERR <error()>` and
  /// closed, and every later feed() returns false at once. Commands appended to `out` before the
  /// error are complete and valid (Redis runs them before replying the error).
  /// The buffer limit is checked after parsing, so feed at most limits::read_chunk_bytes at once.
  bool feed(const char* data, std::size_t size, std::vector<resp_command>& out);

  /// Convenience overload of feed() for a string_view.
  bool feed(std::string_view data, std::vector<resp_command>& out) {
    return feed(data.data(), data.size(), out);
  }

  /// The protocol error message, empty while none occurred.
  const std::string& error() const { return error_; }

  /// True once a protocol error occurred.
  bool failed() const { return !error_.empty(); }

  /// Bytes held for the command being assembled: unparsed input plus the arguments already taken
  /// from it. Invariant after each feed(): <= limits::query_buffer_bytes_max (else feed failed).
  std::size_t buffered_bytes() const { return buffer_.size() - read_pos_ + args_bytes_; }

  /// Heap bytes the parser holds (buffer capacity, argument vector and argument capacities). Lets
  /// tests check that a declared size did not allocate.
  std::size_t allocated_bytes() const;

  /// Before a client authenticates (requirepass), Redis's tighter limits apply: at most
  /// limits::unauthenticated_multibulk_count_max arguments and
  /// limits::unauthenticated_bulk_bytes_max bytes per bulk.
  void set_authenticated(bool authenticated) { authenticated_ = authenticated; }

private:
  enum class step { progressed, need_more, failed };

  step parse_one(std::vector<resp_command>& out);
  step parse_inline(std::vector<resp_command>& out);
  step parse_multibulk_header();
  step parse_bulk(std::vector<resp_command>& out);
  /// Index of the next '\n' at or after read_pos_, or npos. Remembers how far it searched.
  std::size_t find_newline();
  /// Moves read_pos_ to `pos` (a position after the current one).
  void consume_to(std::size_t pos);
  /// Drops consumed bytes when that costs no more than the bytes consumed (amortised O(1)).
  void compact();
  step fail(std::string message);

  // Owned by the connection's broker; touched only through feed().
  std::string buffer_; ///< received bytes; [read_pos_, size) not yet parsed
  /// Invariant: read_pos_ <= newline_scan_pos_ <= buffer_.size().
  std::size_t read_pos_ = 0;
  /// No '\n' in [read_pos_, newline_scan_pos_): searching resumes here when more bytes arrive.
  std::size_t newline_scan_pos_ = 0;
  /// Arguments of the multibulk command being assembled.
  /// Invariant: args_.size() + multibulk_remaining_ <= limits::multibulk_count_max.
  resp_command args_;
  std::size_t args_bytes_ = 0;          ///< sum of args_[i].size()
  std::size_t multibulk_remaining_ = 0; ///< bulks still expected; 0 = at the start of a command
  /// Declared length of the bulk whose header was read, or nullopt when the next thing is a
  /// `$<len>` header. Invariant: has_value() implies multibulk_remaining_ > 0 and
  /// *bulk_len_ <= limits::bulk_bytes_max.
  std::optional<std::size_t> bulk_len_;
  std::string error_; ///< non-empty once failed; then the parser accepts nothing more
  bool authenticated_ = true;
};

} // namespace prez
