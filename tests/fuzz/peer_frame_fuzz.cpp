// libFuzzer target for the peer wire codec (docs/architecture.md §9): decode_frame and
// decode_command on arbitrary bytes. Properties, each a trap when broken:
//   - decoding never crashes, never throws, and a refusal always carries a reason;
//   - every accepted frame re-encodes (encode_frame with its from, incarnation, client_address
//     and body) to exactly the input bytes, and decoding that again gives the same frame;
//   - every accepted command re-encodes (encode_command) to exactly the input bytes.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "config/limits.hpp"
#include "messages/wire_codec.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

bool same_bytes(const std::vector<char>& bytes, const char* data, std::size_t size) {
  return bytes.size() == size && (size == 0 || std::memcmp(bytes.data(), data, size) == 0);
}

void check_frame(const char* data, std::size_t size) {
  const prez::frame_decode_result result = prez::decode_frame(data, size);
  if (!result.frame) {
    FUZZ_CHECK(!result.error.empty());
    return;
  }
  FUZZ_CHECK(result.error.empty());
  const prez::peer_frame& frame = *result.frame;
  FUZZ_CHECK(frame.from.size() <= prez::limits::node_name_bytes_max);
  const std::vector<char> encoded =
      prez::encode_frame(frame.from, frame.incarnation, frame.client_address, frame.body);
  FUZZ_CHECK(same_bytes(encoded, data, size));

  const prez::frame_decode_result again = prez::decode_frame(encoded.data(), encoded.size());
  FUZZ_CHECK(again.frame.has_value());
  FUZZ_CHECK(again.frame->from == frame.from);
  FUZZ_CHECK(again.frame->incarnation == frame.incarnation);
  FUZZ_CHECK(again.frame->client_address == frame.client_address);
  FUZZ_CHECK(again.frame->body == frame.body);
}

void check_command(const char* data, std::size_t size) {
  const std::optional<prez::client_command> command = prez::decode_command(data, size);
  if (!command) return;
  const std::string encoded = prez::encode_command(*command);
  // The six-field form that logs written before through_log/after_seq existed hold (0x96: a
  // fixarray of six; decode_command accepts only its canonical bytes) decodes as a command through
  // the log with no ordering constraint and re-encodes in the current form, not byte for byte.
  const bool six_field_form = size > 0 && static_cast<unsigned char>(data[0]) == 0x96;
  if (six_field_form)
    FUZZ_CHECK(command->through_log && command->after_seq == 0);
  else
    FUZZ_CHECK(encoded.size() == size &&
               (size == 0 || std::memcmp(encoded.data(), data, size) == 0));
  const std::optional<prez::client_command> again =
      prez::decode_command(encoded.data(), encoded.size());
  FUZZ_CHECK(again.has_value() && *again == *command);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const char* bytes = reinterpret_cast<const char*>(data);
  check_frame(bytes, size);
  check_command(bytes, size);
  return 0;
}
