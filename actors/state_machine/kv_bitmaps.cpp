// Bitmaps: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO. A bitmap is a string;
// bit 0 is the most significant bit of byte 0, as in Redis. Answers and errors follow Redis 7.

#include <algorithm>
#include <bit>

#include "actors/state_machine/kv_commands.hpp"
#include "config/limits.hpp"

namespace prez::kv {

namespace {

const std::string_view bad_offset = "ERR bit offset is not an integer or out of range";
const std::string_view bad_bit = "ERR bit is not an integer or out of range";

/// SETBIT/GETBIT's offset: 0 <= offset and offset / 8 < 512 MiB (Redis's proto-max-bulk-len).
std::optional<std::uint64_t> parse_offset(std::string_view text) {
  auto offset = parse_integer(text);
  if (!offset || *offset < 0) return std::nullopt;
  if ((static_cast<std::uint64_t>(*offset) >> 3) >= limits::string_value_bytes_max)
    return std::nullopt;
  return static_cast<std::uint64_t>(*offset);
}

std::uint64_t popcount(std::string_view bytes) {
  std::uint64_t count = 0;
  for (unsigned char c : bytes)
    count += static_cast<std::uint64_t>(std::popcount(c));
  return count;
}

/// A BITCOUNT/BITPOS range once Redis's rules were applied: bytes [first, last] of the string,
/// with the bits outside a BIT range masked off at both edges.
struct byte_range {
  long long first = 0;
  long long last = -1;
  unsigned char first_mask = 0; ///< bits of byte `first` outside the range
  unsigned char last_mask = 0;  ///< bits of byte `last` outside the range
};

/// Redis's range arithmetic: negative indexes count from the end, then clamp; in BIT units the
/// edges become masks. `length` is the string's length in bytes.
byte_range clamp_range(long long start, long long end, bool bits, long long length) {
  const long long total = bits ? length * 8 : length;
  byte_range range;
  if (start < 0) start += total;
  if (end < 0) end += total;
  start = std::max(start, 0LL);
  end = std::max(end, 0LL);
  if (end >= total) end = total - 1;
  if (bits && start <= end) {
    range.first_mask = static_cast<unsigned char>(~((1u << (8 - (start & 7))) - 1) & 0xFF);
    range.last_mask = static_cast<unsigned char>((1u << (7 - (end & 7))) - 1);
    start >>= 3;
    end >>= 3;
  }
  range.first = start;
  range.last = end;
  return range;
}

/// BYTE or BIT; nullopt for anything else.
std::optional<bool> parse_unit(std::string_view word) {
  if (is_word(word, "bit")) return true;
  if (is_word(word, "byte")) return false;
  return std::nullopt;
}

/// The bytes of `range` with the masked-off edge bits set to `fill` (so they never match).
std::string masked_copy(std::string_view text, const byte_range& range, bool fill_ones) {
  std::string bytes(text.substr(static_cast<std::size_t>(range.first),
                                static_cast<std::size_t>(range.last - range.first + 1)));
  auto apply = [&](char& c, unsigned char mask) {
    auto v = static_cast<unsigned char>(c);
    v = fill_ones ? static_cast<unsigned char>(v | mask) : static_cast<unsigned char>(v & ~mask);
    c = static_cast<char>(v);
  };
  apply(bytes.front(), range.first_mask);
  apply(bytes.back(), range.last_mask);
  return bytes;
}

} // namespace

std::string setbit_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  const auto offset = parse_offset(argv[2]);
  if (!offset) return error_reply(bad_offset);
  const auto on = parse_integer(argv[3]);
  if (!on || (*on & ~1LL) != 0) return error_reply(bad_bit);
  entry* e = keys.find_live(argv[1], time_ms);
  const auto* text = e == nullptr ? nullptr : std::get_if<std::string>(&e->data);
  if (e != nullptr && text == nullptr) return wrong_type_reply();
  const auto byte = static_cast<std::size_t>(*offset >> 3);
  const auto mask = static_cast<unsigned char>(1u << (7 - (*offset & 7)));
  std::string updated = text == nullptr ? std::string() : *text;
  if (updated.size() < byte + 1) updated.resize(byte + 1, '\0');
  auto value = static_cast<unsigned char>(updated[byte]);
  const bool was = (value & mask) != 0;
  value = *on != 0 ? static_cast<unsigned char>(value | mask)
                   : static_cast<unsigned char>(value & ~mask);
  updated[byte] = static_cast<char>(value);
  if (e == nullptr)
    keys.insert(argv[1], std::move(updated));
  else
    replace_text(keys, *e, std::move(updated));
  keys.notify(notify::string, "setbit", argv[1]);
  return integer(was ? 1 : 0);
}

std::string getbit_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  const auto offset = parse_offset(argv[2]);
  if (!offset) return error_reply(bad_offset);
  const entry* e = keys.find_visible(argv[1], now_ms);
  if (e == nullptr) return integer(0);
  const auto* text = std::get_if<std::string>(&e->data);
  if (text == nullptr) return wrong_type_reply();
  const auto byte = static_cast<std::size_t>(*offset >> 3);
  if (byte >= text->size()) return integer(0);
  const auto mask = static_cast<unsigned char>(1u << (7 - (*offset & 7)));
  return integer((static_cast<unsigned char>((*text)[byte]) & mask) != 0 ? 1 : 0);
}

std::string bitcount_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  const entry* e = keys.find_visible(argv[1], now_ms);
  const auto* text = e == nullptr ? nullptr : std::get_if<std::string>(&e->data);
  if (argv.size() != 2 && argv.size() != 4 && argv.size() != 5) return error_reply(syntax_error);
  if (e != nullptr && text == nullptr) return wrong_type_reply();
  const std::string empty;
  const std::string& value = text == nullptr ? empty : *text;
  byte_range range{0, static_cast<long long>(value.size()) - 1, 0, 0};
  if (argv.size() >= 4) {
    const auto start = parse_integer(argv[2]);
    const auto end = parse_integer(argv[3]);
    if (!start || !end) return error_reply(not_integer);
    bool bits = false;
    if (argv.size() == 5) {
      const auto unit = parse_unit(argv[4]);
      if (!unit) return error_reply(syntax_error);
      bits = *unit;
    }
    if (e == nullptr) return integer(0);
    if (*start < 0 && *end < 0 && *start > *end) return integer(0);
    range = clamp_range(*start, *end, bits, static_cast<long long>(value.size()));
  }
  if (e == nullptr || range.first > range.last) return integer(0);
  auto bytes = masked_copy(value, range, false);
  return integer(static_cast<long long>(popcount(bytes)));
}

std::string bitpos_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  const auto bit = parse_integer(argv[2]);
  if (!bit) return error_reply(not_integer);
  if (*bit != 0 && *bit != 1) return error_reply("ERR The bit argument must be 1 or 0.");
  const entry* e = keys.find_visible(argv[1], now_ms);
  if (e == nullptr) return integer(*bit != 0 ? -1 : 0);
  const auto* text = std::get_if<std::string>(&e->data);
  if (text == nullptr) return wrong_type_reply();
  const auto length = static_cast<long long>(text->size());
  byte_range range{0, length - 1, 0, 0};
  bool end_given = false;
  if (argv.size() >= 4) {
    if (argv.size() > 6) return error_reply(syntax_error);
    const auto start = parse_integer(argv[3]);
    if (!start) return error_reply(not_integer);
    bool bits = false;
    if (argv.size() == 6) {
      const auto unit = parse_unit(argv[5]);
      if (!unit) return error_reply(syntax_error);
      bits = *unit;
    }
    long long end = bits ? length * 8 - 1 : length - 1;
    if (argv.size() >= 5) {
      const auto given = parse_integer(argv[4]);
      if (!given) return error_reply(not_integer);
      end = *given;
      end_given = true;
    }
    range = clamp_range(*start, end, bits, length);
  }
  if (range.first > range.last) return integer(-1);
  // Bits outside a BIT range are set to the opposite of the one looked for.
  const auto bytes = masked_copy(*text, range, *bit == 0);
  const auto want = static_cast<unsigned char>(*bit != 0 ? 0 : 0xFF);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c == want) continue;
    for (int b = 7; b >= 0; --b)
      if (((c >> b) & 1) == *bit)
        return integer(
            static_cast<long long>((range.first + static_cast<long long>(i)) * 8 + (7 - b)));
  }
  // Not found: no 1 is -1; a 0 is found just past the string (it continues with zeros) unless
  // the caller gave an end.
  if (*bit != 0 || end_given) return integer(-1);
  return integer((range.first + static_cast<long long>(bytes.size())) * 8);
}

std::string bitop_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  enum class op { and_, or_, xor_, not_ };
  op what;
  if (is_word(argv[1], "and"))
    what = op::and_;
  else if (is_word(argv[1], "or"))
    what = op::or_;
  else if (is_word(argv[1], "xor"))
    what = op::xor_;
  else if (is_word(argv[1], "not"))
    what = op::not_;
  else
    return error_reply(syntax_error);
  if (what == op::not_ && argv.size() != 4)
    return error_reply("ERR BITOP NOT must be called with a single source key.");
  std::vector<std::string> sources;
  std::size_t longest = 0;
  for (std::size_t i = 3; i < argv.size(); ++i) {
    const entry* e = keys.peek_live(argv[i], time_ms);
    if (e == nullptr) {
      sources.emplace_back();
      continue;
    }
    const auto* text = std::get_if<std::string>(&e->data);
    if (text == nullptr) return wrong_type_reply();
    sources.push_back(*text);
    longest = std::max(longest, text->size());
  }
  std::string result(longest, '\0');
  for (std::size_t j = 0; j < longest; ++j) {
    auto byte_of = [&](const std::string& s) {
      return j < s.size() ? static_cast<unsigned char>(s[j]) : static_cast<unsigned char>(0);
    };
    unsigned char out = byte_of(sources[0]);
    if (what == op::not_) out = static_cast<unsigned char>(~out);
    for (std::size_t k = 1; k < sources.size(); ++k) {
      const auto b = byte_of(sources[k]);
      if (what == op::and_) out &= b;
      if (what == op::or_) out |= b;
      if (what == op::xor_) out ^= b;
    }
    result[j] = static_cast<char>(out);
  }
  if (longest == 0) {
    keys.maybe_expire(argv[2], time_ms);
    if (keys.erase(argv[2])) keys.notify(notify::generic, "del", argv[2]);
    return integer(0);
  }
  keys.put_string(argv[2], std::move(result));
  keys.notify(notify::string, "set", argv[2]);
  return integer(static_cast<long long>(longest));
}

// --- BITFIELD and BITFIELD_RO ---------------------------------------------------------------

namespace {

__extension__ using wide = __int128; // exact sums of two 64-bit values

enum class bitfield_kind : std::uint8_t { get, set, incrby };
enum class overflow_rule : std::uint8_t { wrap, sat, fail };

/// One GET, SET or INCRBY of a BITFIELD, parsed.
struct bitfield_op {
  bitfield_kind kind = bitfield_kind::get;
  bool is_signed = false;
  unsigned bits = 0;        ///< 1..64 signed, 1..63 unsigned
  std::uint64_t offset = 0; ///< of the field's first (most significant) bit
  std::int64_t value = 0;   ///< SET's value or INCRBY's increment
  overflow_rule overflow = overflow_rule::wrap;
};

const std::string_view bad_type = "ERR Invalid bitfield type. Use something like i16 u8. Note "
                                  "that u64 is not supported but i64 is.";

/// "i<bits>" or "u<bits>", as Redis reads it (lowercase letter, decimal bits).
bool parse_field_type(std::string_view text, bitfield_op& op) {
  if (text.size() < 2 || (text[0] != 'i' && text[0] != 'u')) return false;
  const auto bits = parse_integer(text.substr(1));
  op.is_signed = text[0] == 'i';
  if (!bits || *bits < 1 || *bits > (op.is_signed ? 64 : 63)) return false;
  op.bits = static_cast<unsigned>(*bits);
  return true;
}

/// An offset in bits, or "#n": n fields of the op's width. Bounded as SETBIT's.
bool parse_field_offset(std::string_view text, bitfield_op& op) {
  const bool fields = !text.empty() && text[0] == '#';
  const auto number = parse_integer(fields ? text.substr(1) : text);
  if (!number || *number < 0) return false;
  const wide bit = static_cast<wide>(*number) * (fields ? op.bits : 1);
  if ((bit >> 3) >= static_cast<wide>(limits::string_value_bytes_max)) return false;
  op.offset = static_cast<std::uint64_t>(bit);
  return true;
}

/// Parses argv[2..] into `ops`; returns the error reply, empty when all parsed.
std::string parse_bitfield(const argv_type& argv, bool read_only, std::vector<bitfield_op>& ops) {
  overflow_rule overflow = overflow_rule::wrap;
  for (std::size_t i = 2; i < argv.size();) {
    const std::size_t left = argv.size() - i - 1;
    bitfield_op op;
    if (is_word(argv[i], "get") && left >= 2) {
      op.kind = bitfield_kind::get;
    } else if (is_word(argv[i], "set") && left >= 3) {
      op.kind = bitfield_kind::set;
    } else if (is_word(argv[i], "incrby") && left >= 3) {
      op.kind = bitfield_kind::incrby;
    } else if (is_word(argv[i], "overflow") && left >= 1) {
      if (is_word(argv[i + 1], "wrap"))
        overflow = overflow_rule::wrap;
      else if (is_word(argv[i + 1], "sat"))
        overflow = overflow_rule::sat;
      else if (is_word(argv[i + 1], "fail"))
        overflow = overflow_rule::fail;
      else
        return error_reply("ERR Invalid OVERFLOW type specified");
      i += 2;
      continue;
    } else {
      return error_reply(syntax_error);
    }
    if (!parse_field_type(argv[i + 1], op)) return error_reply(bad_type);
    if (!parse_field_offset(argv[i + 2], op)) return error_reply(bad_offset);
    if (op.kind != bitfield_kind::get) {
      const auto value = parse_integer(argv[i + 3]);
      if (!value) return error_reply(not_integer);
      op.value = *value;
    }
    if (read_only && op.kind != bitfield_kind::get)
      return error_reply("ERR BITFIELD_RO only supports the GET subcommand");
    op.overflow = overflow;
    ops.push_back(op);
    i += op.kind == bitfield_kind::get ? 3 : 4;
  }
  return {};
}

/// The field's bits as an unsigned number (bits past the end of `text` read 0).
std::uint64_t read_field(std::string_view text, std::uint64_t offset, unsigned bits) {
  std::uint64_t out = 0;
  for (unsigned i = 0; i < bits; ++i) {
    const std::uint64_t bit = offset + i;
    const std::size_t byte = static_cast<std::size_t>(bit >> 3);
    const unsigned on =
        byte < text.size() ? (static_cast<unsigned char>(text[byte]) >> (7 - (bit & 7))) & 1u : 0u;
    out = (out << 1) | on;
  }
  return out;
}

void write_field(std::string& text, std::uint64_t offset, unsigned bits, std::uint64_t value) {
  for (unsigned i = 0; i < bits; ++i) {
    const std::uint64_t bit = offset + i;
    auto& byte = text[static_cast<std::size_t>(bit >> 3)];
    const auto mask = static_cast<unsigned char>(1u << (7 - (bit & 7)));
    const bool on = (value >> (bits - 1 - i)) & 1u;
    byte = static_cast<char>(on ? static_cast<unsigned char>(byte) | mask
                                : static_cast<unsigned char>(byte) & ~mask);
  }
}

/// The field's value as a number: sign-extended when signed.
wide field_value(std::uint64_t raw, const bitfield_op& op) {
  if (op.is_signed && op.bits < 64 && ((raw >> (op.bits - 1)) & 1u))
    return static_cast<wide>(raw) - (static_cast<wide>(1) << op.bits);
  if (op.is_signed && op.bits == 64) return static_cast<std::int64_t>(raw);
  return static_cast<wide>(raw);
}

/// `target` fitted to the field under the op's overflow rule; nullopt when FAIL refuses it.
std::optional<wide> fit(wide target, const bitfield_op& op) {
  const wide max = op.is_signed ? (static_cast<wide>(1) << (op.bits - 1)) - 1
                                : (static_cast<wide>(1) << op.bits) - 1;
  const wide min = op.is_signed ? -max - 1 : 0;
  if (target >= min && target <= max) return target;
  switch (op.overflow) {
    case overflow_rule::fail:
      return std::nullopt;
    case overflow_rule::sat:
      return target > max ? max : min;
    case overflow_rule::wrap:
      break;
  }
  // Two's complement: keep the low bits, then read them back with the field's sign.
  __extension__ using uwide = unsigned __int128;
  const auto low = static_cast<std::uint64_t>(static_cast<uwide>(target) &
                                              ((static_cast<uwide>(1) << op.bits) - 1));
  return field_value(low, op);
}

/// The bits of a fitted value, as write_field takes them.
std::uint64_t raw_bits(wide value, unsigned bits) {
  __extension__ using uwide = unsigned __int128;
  return static_cast<std::uint64_t>(static_cast<uwide>(value) &
                                    ((static_cast<uwide>(1) << bits) - 1));
}

std::string run_bitfield(std::string& text, const std::vector<bitfield_op>& ops) {
  std::string reply = array_header(ops.size());
  for (const auto& op : ops) {
    const wide old = field_value(read_field(text, op.offset, op.bits), op);
    if (op.kind == bitfield_kind::get) {
      reply += integer(static_cast<long long>(old));
      continue;
    }
    // SET's value is taken as Redis takes it: an unsigned field sees its 64 bits as unsigned.
    const wide target = op.kind == bitfield_kind::incrby ? old + op.value
                        : op.is_signed                   ? static_cast<wide>(op.value)
                                       : static_cast<wide>(static_cast<std::uint64_t>(op.value));
    const auto fitted = fit(target, op);
    if (!fitted) {
      reply += null_bulk();
      continue;
    }
    write_field(text, op.offset, op.bits, raw_bits(*fitted, op.bits));
    reply += integer(static_cast<long long>(op.kind == bitfield_kind::set ? old : *fitted));
  }
  return reply;
}

} // namespace

std::string bitfield_command(keyspace& keys, const argv_type& argv, std::uint64_t time_ms) {
  std::vector<bitfield_op> ops;
  if (auto error = parse_bitfield(argv, false, ops); !error.empty()) return error;
  // As Redis: the string grows to cover every SET and INCRBY field first (even one that FAIL
  // refuses later); a BITFIELD of GETs alone creates nothing.
  std::uint64_t end_bit = 0;
  for (const auto& op : ops)
    if (op.kind != bitfield_kind::get) end_bit = std::max(end_bit, op.offset + op.bits);
  entry* e = keys.find_live(argv[1], time_ms);
  const auto* text = e == nullptr ? nullptr : std::get_if<std::string>(&e->data);
  if (e != nullptr && text == nullptr) return wrong_type_reply();
  std::string updated = text == nullptr ? std::string() : *text;
  if (end_bit == 0) return run_bitfield(updated, ops);
  const auto bytes = static_cast<std::size_t>((end_bit + 7) >> 3);
  if (updated.size() < bytes) updated.resize(bytes, '\0');
  std::string reply = run_bitfield(updated, ops);
  if (e == nullptr)
    keys.insert(argv[1], std::move(updated));
  else
    replace_text(keys, *e, std::move(updated));
  // Redis says "setbit" only when a SET or INCRBY changed something; prez writes the string
  // whenever one is given (an overflow FAIL still grows it), and says so.
  keys.notify(notify::string, "setbit", argv[1]);
  return reply;
}

std::string bitfield_ro_command(const keyspace& keys, const argv_type& argv, std::uint64_t now_ms) {
  std::vector<bitfield_op> ops;
  if (auto error = parse_bitfield(argv, true, ops); !error.empty()) return error;
  const entry* e = keys.find_visible(argv[1], now_ms);
  const auto* text = e == nullptr ? nullptr : std::get_if<std::string>(&e->data);
  if (e != nullptr && text == nullptr) return wrong_type_reply();
  std::string copy = text == nullptr ? std::string() : *text;
  return run_bitfield(copy, ops);
}

} // namespace prez::kv
