// libFuzzer target for prez::resp_parser (docs/architecture.md §9). Properties, each a trap when
// broken:
//   - feeding the input at once, in chunk sizes drawn from a PRNG seeded by the input, and one
//     byte at a time gives the same commands and the same error state;
//   - after every successful feed, buffered_bytes() <= limits::query_buffer_bytes_max, and
//     allocated_bytes() grows only with the bytes fed (a declared count or length never allocates
//     more than limits::declared_reserve_bytes_max up front);
//   - every command is non-empty, and once failed, feed() refuses everything;
//   - every accepted command, re-encoded with append_command and parsed again, gives the same
//     argv (one at a time and all pipelined together).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "actors/gateway/resp_parser.hpp"
#include "actors/gateway/resp_writer.hpp"
#include "config/limits.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

struct parse_outcome {
  std::vector<prez::resp_command> commands;
  bool failed = false;
  std::string error;
};

/// Bytes `allocated_bytes()` may reach after `fed` bytes: the up-front reservation plus a
/// constant factor per byte received (string growth doubles; an empty bulk argument is 6 input
/// bytes but one std::string slot plus its small-string capacity).
std::size_t allocation_bound(std::size_t fed) {
  return 2 * prez::limits::declared_reserve_bytes_max + 24 * fed + 1024;
}

/// SplitMix64: the chunk sizes come from the input's hash, so a run is reproducible.
std::uint64_t next_random(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::uint64_t hash_bytes(std::string_view bytes) {
  std::uint64_t hash = 0xcbf29ce484222325ull; // FNV-1a
  for (char c : bytes)
    hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return hash;
}

/// Feeds `input` in chunks whose sizes `chunk_size()` picks (never above read_chunk_bytes, as
/// feed() asks), checking the limits after every feed.
template <typename ChunkSize>
parse_outcome parse_in_chunks(std::string_view input, ChunkSize chunk_size) {
  parse_outcome outcome;
  prez::resp_parser parser;
  std::size_t fed = 0;
  while (fed < input.size()) {
    std::size_t size = chunk_size();
    if (size < 1) size = 1;
    if (size > prez::limits::read_chunk_bytes) size = prez::limits::read_chunk_bytes;
    if (size > input.size() - fed) size = input.size() - fed;
    const std::size_t commands_before = outcome.commands.size();
    const bool ok = parser.feed(input.substr(fed, size), outcome.commands);
    fed += size;
    FUZZ_CHECK(ok == !parser.failed());
    FUZZ_CHECK(parser.allocated_bytes() <= allocation_bound(fed));
    for (std::size_t i = commands_before; i < outcome.commands.size(); ++i)
      FUZZ_CHECK(!outcome.commands[i].empty());
    if (!ok) {
      // A failed parser refuses everything from now on, and adds no command.
      const std::size_t commands_at_failure = outcome.commands.size();
      FUZZ_CHECK(!parser.feed("PING\r\n", outcome.commands));
      FUZZ_CHECK(outcome.commands.size() == commands_at_failure);
      break;
    }
    FUZZ_CHECK(parser.buffered_bytes() <= prez::limits::query_buffer_bytes_max);
  }
  outcome.failed = parser.failed();
  outcome.error = parser.error();
  FUZZ_CHECK(outcome.failed == !outcome.error.empty());
  return outcome;
}

void check_same(const parse_outcome& a, const parse_outcome& b, std::size_t input_size) {
  FUZZ_CHECK(a.commands == b.commands);
  FUZZ_CHECK(a.failed == b.failed);
  // A header line longer than inline_line_bytes_max fails as "too big ..." while it is still
  // arriving but as "invalid ... length" when its newline came in the same feed: only the error
  // state is the same then, not the message. Shorter inputs must give the same message.
  if (input_size <= prez::limits::inline_line_bytes_max) FUZZ_CHECK(a.error == b.error);
}

void check_round_trip(const std::vector<prez::resp_command>& commands) {
  std::string pipelined;
  for (const prez::resp_command& command : commands) {
    std::string encoded;
    prez::append_command(encoded, command);
    pipelined += encoded;
    const parse_outcome again =
        parse_in_chunks(encoded, [] { return prez::limits::read_chunk_bytes; });
    FUZZ_CHECK(!again.failed);
    FUZZ_CHECK(again.commands.size() == 1);
    FUZZ_CHECK(again.commands[0] == command);
  }
  const parse_outcome all =
      parse_in_chunks(pipelined, [] { return prez::limits::read_chunk_bytes; });
  FUZZ_CHECK(!all.failed);
  FUZZ_CHECK(all.commands == commands);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  const parse_outcome at_once =
      parse_in_chunks(input, [] { return prez::limits::read_chunk_bytes; });

  std::uint64_t state = hash_bytes(input);
  const parse_outcome random_chunks = parse_in_chunks(input, [&state] {
    // Mostly small chunks, sometimes large ones.
    const std::uint64_t r = next_random(state);
    return static_cast<std::size_t>((r & 3) == 0 ? 1 + (r >> 8) % 4096 : 1 + (r >> 8) % 16);
  });
  check_same(at_once, random_chunks, size);

  const parse_outcome byte_by_byte = parse_in_chunks(input, [] { return std::size_t{1}; });
  check_same(at_once, byte_by_byte, size);

  check_round_trip(at_once.commands);
  return 0;
}
