// LCS: the longest common subsequence of two strings, by the textbook O(n*m) dynamic program, with
// Redis 7.0's reply shapes (the string, LEN, or IDX's match ranges from the end backwards). The
// table is bounded by limits::lcs_table_bytes_max so one command cannot exhaust a node's memory.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "actors/state_machine/kv_commands.hpp"
#include "config/limits.hpp"

namespace prez::kv {

namespace {

struct lcs_options {
  bool len = false;
  bool idx = false;
  bool with_match_len = false;
  long long min_match_len = 0;
};

/// The options after the two keys; nullopt with `error` set on a bad one.
std::optional<lcs_options> parse_lcs_options(const argv_type& argv, std::string& error) {
  lcs_options o;
  for (std::size_t i = 3; i < argv.size(); ++i) {
    if (is_word(argv[i], "idx")) {
      o.idx = true;
    } else if (is_word(argv[i], "len")) {
      o.len = true;
    } else if (is_word(argv[i], "withmatchlen")) {
      o.with_match_len = true;
    } else if (is_word(argv[i], "minmatchlen") && i + 1 < argv.size()) {
      const auto n = parse_integer(argv[++i]);
      if (!n) {
        error = error_reply(not_integer);
        return std::nullopt;
      }
      o.min_match_len = std::max(*n, 0LL);
    } else {
      error = error_reply(syntax_error);
      return std::nullopt;
    }
  }
  if (o.idx && o.len) {
    error = error_reply("ERR If you want both the length and indexes, please just use IDX.");
    return std::nullopt;
  }
  return o;
}

/// table[i * (b.size() + 1) + j] is the LCS length of a[0, i) and b[0, j).
std::vector<std::uint32_t> lcs_table(std::string_view a, std::string_view b) {
  const std::size_t width = b.size() + 1;
  std::vector<std::uint32_t> table((a.size() + 1) * width, 0);
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j)
      table[i * width + j] = a[i - 1] == b[j - 1]
                                 ? table[(i - 1) * width + j - 1] + 1
                                 : std::max(table[(i - 1) * width + j], table[i * width + j - 1]);
  return table;
}

/// One run of matching bytes: a[a_start, a_end] == b[b_start, b_end] (inclusive, as Redis shows).
struct match_range {
  std::size_t a_start, a_end, b_start, b_end;
};

/// Walks the table back from (a.size(), b.size()) as Redis does (on a tie, drop a byte of b), and
/// returns the common subsequence and its runs of contiguous matches, last run first.
std::pair<std::string, std::vector<match_range>> walk_back(std::string_view a, std::string_view b,
                                                           const std::vector<std::uint32_t>& t) {
  const std::size_t width = b.size() + 1;
  std::string common(t.back(), '\0');
  std::size_t filled = common.size();
  std::vector<match_range> ranges;
  std::optional<match_range> open;
  std::size_t i = a.size(), j = b.size();
  while (i > 0 && j > 0) {
    if (a[i - 1] == b[j - 1]) {
      common[--filled] = a[i - 1];
      if (open && open->a_start == i && open->b_start == j) {
        --open->a_start; // the run extends backwards
        --open->b_start;
      } else {
        if (open) ranges.push_back(*open);
        open = match_range{i - 1, i - 1, j - 1, j - 1};
      }
      --i;
      --j;
    } else {
      if (t[(i - 1) * width + j] > t[i * width + j - 1])
        --i;
      else
        --j;
      if (open) ranges.push_back(*open);
      open.reset();
    }
  }
  if (open) ranges.push_back(*open);
  return {std::move(common), std::move(ranges)};
}

std::string idx_reply(const std::vector<match_range>& ranges, const lcs_options& o,
                      std::uint32_t length) {
  std::string matches;
  std::size_t count = 0;
  for (const auto& r : ranges) {
    const std::size_t match_len = r.a_end - r.a_start + 1;
    if (o.min_match_len != 0 && match_len < static_cast<std::size_t>(o.min_match_len)) continue;
    ++count;
    matches += array_header(o.with_match_len ? 3 : 2);
    matches += array_header(2) + integer(static_cast<long long>(r.a_start)) +
               integer(static_cast<long long>(r.a_end));
    matches += array_header(2) + integer(static_cast<long long>(r.b_start)) +
               integer(static_cast<long long>(r.b_end));
    if (o.with_match_len) matches += integer(static_cast<long long>(match_len));
  }
  // A map in RESP3 (resp3_shape::map): matches, then len.
  return array_header(4) + bulk("matches") + array_header(count) + matches + bulk("len") +
         integer(length);
}

} // namespace

std::string lcs_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  std::string_view texts[2];
  for (std::size_t k = 0; k < 2; ++k) {
    const entry* e = keys.find_visible(argv[1 + k], now_ms);
    if (e == nullptr) continue; // an absent key is the empty string
    const auto* text = std::get_if<std::string>(&e->data);
    if (text == nullptr) return error_reply("ERR The specified keys must contain string values");
    texts[k] = *text;
  }
  std::string error;
  const auto o = parse_lcs_options(argv, error);
  if (!o) return error;
  const std::string_view a = texts[0], b = texts[1];
  // (n + 1) * (m + 1) cells of 4 bytes; each factor is at most 512 MiB, so no overflow in 64 bits.
  const std::uint64_t table_bytes = (std::uint64_t{a.size()} + 1) * (b.size() + 1) * 4;
  if (table_bytes > limits::lcs_table_bytes_max)
    return error_reply("ERR Insufficient memory, transient memory for LCS exceeds prez's limit "
                       "(lcs-table-bytes-max 128 MiB)");
  const auto table = lcs_table(a, b);
  const std::uint32_t length = table.back();
  if (o->len) return integer(length);
  auto [common, ranges] = walk_back(a, b, table);
  return o->idx ? idx_reply(ranges, *o, length) : bulk(common);
}

} // namespace prez::kv
