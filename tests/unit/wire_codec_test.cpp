// Peer frame codec: round trips, every refusal class, and seeded mutations of valid frames.

#include <catch2/catch.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "config/limits.hpp"
#include "messages/wire_codec.hpp"

using namespace prez;

namespace {

/// splitmix64, so the mutation loop is reproducible from its seed.
struct test_rng {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
};

const std::string binary_data("a\0b\0\0\xff\xc1\x80", 8);

log_entry make_entry(std::uint64_t term, std::uint64_t index, std::string data) {
  log_entry entry;
  entry.term = term;
  entry.index = index;
  entry.type = static_cast<std::uint8_t>(entry_type::command);
  entry.data = std::move(data);
  return entry;
}

raft_message make_raft(raft_payload payload) {
  return raft_message{"node-a", "node-b", std::move(payload)};
}

std::vector<frame_body> sample_bodies() {
  append_entries_request append{7, 41, 6, {}, 40, 99};
  append.entries.push_back(make_entry(6, 42, binary_data));
  append.entries.push_back(make_entry(7, 43, ""));
  append.entries.push_back(make_entry(7, 44, std::string(300, '\0')));
  client_command command{
      123456789012345ULL, 17, 1700000000000ULL, {"SET", "k\0ey", binary_data}, {}, {}};
  command.argv[1] = std::string("k\0ey", 4);
  return {
      make_raft(vote_request{5, 10, 4, false}),
      make_raft(vote_request{6, 10, 4, true}),
      make_raft(vote_response{5, true, false}),
      make_raft(vote_response{9, false, true}),
      make_raft(append),
      make_raft(append_entries_request{3, 0, 0, {}, 0, 1}),
      make_raft(append_entries_response{7, true, 44, 0, 0, 99}),
      make_raft(append_entries_response{7, false, 0, 12, 3, 100}),
      forward_request{1, command},
      forward_request{2, client_command{}},
      forward_response{1, static_cast<std::uint8_t>(forward_status::ok), "+OK\r\n"},
      forward_response{2, static_cast<std::uint8_t>(forward_status::unknown), binary_data},
      link_ack_request{0},
      link_ack_request{0xffffffffffffffffULL},
      link_ack_response{4096},
      forward_request_batch{{forward_request{3, command}, forward_request{4, client_command{}}}},
      forward_request_batch{},
      forward_response_batch{
          {forward_response{3, static_cast<std::uint8_t>(forward_status::ok), binary_data},
           forward_response{4, static_cast<std::uint8_t>(forward_status::refused), ""}}},
      forward_response_batch{},
  };
}

frame_decode_result decode(const std::vector<char>& bytes) {
  return decode_frame(bytes.data(), bytes.size());
}

/// Builds a frame by hand so refusals can be provoked field by field.
template <typename Body>
std::vector<char> handmade_frame(std::uint64_t version, std::uint64_t kind, const Body& body) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer(buffer);
  packer.pack_array(6);
  packer.pack(version);
  packer.pack(kind);
  packer.pack(std::string("node-a"));
  packer.pack(std::uint64_t{42});
  packer.pack(std::string("h:1"));
  packer.pack(body);
  return std::vector<char>(buffer.data(), buffer.data() + buffer.size());
}

/// A valid frame with `body_bytes` (already msgpack) spliced in as the body.
std::vector<char> frame_with_raw_body(std::uint8_t kind, const std::vector<char>& body_bytes) {
  std::vector<char> bytes = {static_cast<char>(0x96), 0x01, static_cast<char>(kind)};
  msgpack::sbuffer buffer;
  msgpack::pack(buffer, std::string("node-a"));
  msgpack::pack(buffer, std::uint64_t{42});
  msgpack::pack(buffer, std::string("h:1"));
  bytes.insert(bytes.end(), buffer.data(), buffer.data() + buffer.size());
  bytes.insert(bytes.end(), body_bytes.begin(), body_bytes.end());
  return bytes;
}

void require_refused(const std::vector<char>& bytes, const std::string& reason_part) {
  const auto result = decode(bytes);
  CHECK_FALSE(result.frame.has_value());
  CHECK_THAT(result.error, Catch::Matchers::Contains(reason_part));
}

} // namespace

TEST_CASE("every frame kind round-trips, binary data included", "[wire_codec]") {
  for (const auto& body : sample_bodies()) {
    const auto bytes = encode_frame("node-a", 0xfedcba9876543210ULL, "10.0.0.1:9000", body);
    const auto result = decode(bytes);
    INFO("body variant index " << body.index() << ", error: " << result.error);
    REQUIRE(result.frame.has_value());
    CHECK(result.error.empty());
    CHECK(result.frame->from == "node-a");
    CHECK(result.frame->incarnation == 0xfedcba9876543210ULL);
    CHECK(result.frame->client_address == "10.0.0.1:9000");
    CHECK(result.frame->body == body);
  }
}

TEST_CASE("a sender name with NUL bytes survives", "[wire_codec]") {
  const node_name odd("a\0b", 3);
  const auto result = decode(encode_frame(odd, 1, "", forward_response{}));
  REQUIRE(result.frame.has_value());
  CHECK(result.frame->from == odd);
}

TEST_CASE("sender names over node_name_bytes_max are refused", "[wire_codec]") {
  const node_name longest(limits::node_name_bytes_max, 'n');
  CHECK(decode(encode_frame(longest, 1, "", forward_response{})).frame.has_value());
  require_refused(encode_frame(longest + "n", 1, "", forward_response{}), "sender name");
}

TEST_CASE("frames over the size limit are refused before parsing", "[wire_codec]") {
  std::vector<char> huge(limits::peer_frame_bytes_max + 1, '\0');
  require_refused(huge, "exceeds the limit");
}

TEST_CASE("empty, truncated and trailing bytes are refused", "[wire_codec]") {
  const auto bytes = encode_frame("node-a", 1, "h:1", sample_bodies()[4]);
  require_refused({}, "truncated");
  for (std::size_t cut = 0; cut < bytes.size(); ++cut)
    require_refused(std::vector<char>(bytes.begin(), bytes.begin() + cut), "truncated");
  auto longer = bytes;
  longer.push_back('\0');
  require_refused(longer, "trailing bytes");
}

TEST_CASE("wrong version, unknown kind and wrong shape are refused", "[wire_codec]") {
  const forward_response body{1, 0, "x"};
  CHECK(decode(handmade_frame(1, 3, body)).frame.has_value());
  require_refused(handmade_frame(2, 3, body), "unsupported wire version 2");
  require_refused(handmade_frame(0, 3, body), "unsupported wire version 0");
  require_refused(handmade_frame(1, 0, body), "unknown frame kind 0");
  require_refused(handmade_frame(1, 8, body), "unknown frame kind 8");
  // A batch kind with a single forward's body, and the other way round.
  require_refused(handmade_frame(1, 7, body), "wrong types");
  require_refused(handmade_frame(1, 3, forward_response_batch{{body}}), "wrong types");
  CHECK_FALSE(decode(handmade_frame(1, 4, body)).frame.has_value()); // not a link_ack_request
  require_refused(handmade_frame(1, 255, body), "unknown frame kind 255");
  require_refused(handmade_frame(1, 256, body), "wrong types");   // kind is a u8
  require_refused(handmade_frame(70000, 3, body), "wrong types"); // version is a u16
  // A body that is not the struct its kind names.
  require_refused(handmade_frame(1, 1, body), "wrong types");
  require_refused(handmade_frame(1, 2, std::string("hello")), "wrong types");
  // Not a 5-element array.
  msgpack::sbuffer buffer;
  msgpack::pack(buffer, std::vector<int>{1, 3, 4, 5, 6});
  require_refused(std::vector<char>(buffer.data(), buffer.data() + buffer.size()),
                  "not an array of 6");
  require_refused({static_cast<char>(0xa1), 'x'}, "not an array of 6");
}

TEST_CASE("a raft message with an unknown payload index is refused", "[wire_codec]") {
  msgpack::sbuffer body;
  msgpack::packer<msgpack::sbuffer> packer(body);
  packer.pack_array(4);
  packer.pack(std::string("a"));
  packer.pack(std::string("b"));
  packer.pack(std::uint8_t{9});
  packer.pack(vote_request{});
  require_refused(frame_with_raw_body(1, {body.data(), body.data() + body.size()}), "wrong types");
}

TEST_CASE("non-canonical encodings are refused", "[wire_codec]") {
  // forward_response with an extra field: msgpack's conversion would ignore it.
  msgpack::sbuffer extra;
  msgpack::packer<msgpack::sbuffer> packer(extra);
  packer.pack_array(4);
  packer.pack(1);
  packer.pack(0);
  packer.pack(std::string("x"));
  packer.pack(7);
  require_refused(frame_with_raw_body(3, {extra.data(), extra.data() + extra.size()}),
                  "non-canonical");
  // A missing field: conversion would leave it defaulted.
  require_refused(frame_with_raw_body(3, {static_cast<char>(0x92), 0x01, 0x00}), "non-canonical");
  // forward_id 1 as a uint64 (0xcf) instead of a fixint.
  std::vector<char> wide = {
      static_cast<char>(0x93), static_cast<char>(0xcf), 0, 0, 0, 0, 0, 0, 0, 1, 0x00,
      static_cast<char>(0xa0)};
  require_refused(frame_with_raw_body(3, wide), "non-canonical");
  // The reply as bin instead of str.
  require_refused(frame_with_raw_body(
                      3, {static_cast<char>(0x93), 0x01, 0x00, static_cast<char>(0xc4), 0x01, 'x'}),
                  "non-canonical");
}

TEST_CASE("msgpack that breaks the unpack limits is refused", "[wire_codec]") {
  SECTION("a declared count larger than the bytes that follow") {
    // array32 declaring 2^32-1 elements, then nothing: must not allocate 64 GiB.
    require_refused(frame_with_raw_body(3, {static_cast<char>(0xdd), -1, -1, -1, -1}),
                    "more elements than bytes remain");
    require_refused(frame_with_raw_body(3, {static_cast<char>(0xdf), 0, 0x10, 0, 0, 0x01}),
                    "more elements than bytes remain");
    // bin32 / str32 declaring 4 GiB.
    require_refused(frame_with_raw_body(3, {static_cast<char>(0xc6), -1, -1, -1, -1}), "truncated");
    require_refused(frame_with_raw_body(3, {static_cast<char>(0xdb), 0x7f, -1, -1, -1}),
                    "truncated");
  }
  SECTION("too deep") {
    std::vector<char> deep(limits::msgpack_depth_max + 4, static_cast<char>(0x91));
    deep.push_back(0x00);
    require_refused(frame_with_raw_body(3, deep), "limit exceeded");
  }
  SECTION("an array with more elements than msgpack_array_max, all present") {
    std::vector<char> wide = {static_cast<char>(0xdd)};
    const std::uint32_t count = limits::msgpack_array_max + 1;
    for (int shift = 24; shift >= 0; shift -= 8)
      wide.push_back(static_cast<char>((count >> shift) & 0xff));
    wide.resize(wide.size() + count, 0x00);
    require_refused(frame_with_raw_body(3, wide), "limit exceeded");
  }
  SECTION("a string longer than msgpack_str_max") {
    forward_response body{1, 0, std::string(limits::msgpack_str_max + 1, 'x')};
    require_refused(encode_frame("node-a", 1, "", body), "limit exceeded");
  }
  SECTION("any ext value") {
    require_refused(frame_with_raw_body(3, {static_cast<char>(0xd4), 0x01, 0x02}),
                    "limit exceeded");
  }
  SECTION("the never-used type byte 0xc1") {
    require_refused(frame_with_raw_body(3, {static_cast<char>(0xc1)}), "invalid msgpack");
  }
  SECTION("a map where a struct is expected") {
    require_refused(frame_with_raw_body(3, {static_cast<char>(0x81), 0x01, 0x02}), "wrong types");
  }
}

TEST_CASE("the structural scan walks every msgpack format", "[wire_codec]") {
  // Each value is a well-formed body of the wrong type: the refusal must come from the type
  // check (or, for ext, msgpack's limit), never from the scan calling it truncated or invalid.
  std::vector<std::function<void(msgpack::packer<msgpack::sbuffer>&)>> writers = {
      [](auto& p) { p.pack_nil(); },
      [](auto& p) { p.pack_true(); },
      [](auto& p) { p.pack_false(); },
      [](auto& p) { p.pack_float(1.5f); },
      [](auto& p) { p.pack_double(2.5); },
      [](auto& p) { p.pack_fix_uint8(1); },
      [](auto& p) { p.pack_fix_uint16(1); },
      [](auto& p) { p.pack_fix_uint32(1); },
      [](auto& p) { p.pack_fix_uint64(1); },
      [](auto& p) { p.pack_fix_int8(-1); },
      [](auto& p) { p.pack_fix_int16(-1); },
      [](auto& p) { p.pack_fix_int32(-1); },
      [](auto& p) { p.pack_fix_int64(-1); },
      [](auto& p) { p.pack_int(-5); },
      [](auto& p) { p.pack(std::string(40, 's')); },
      [](auto& p) { p.pack(std::string(300, 's')); },
      [](auto& p) { p.pack(std::string(70000, 's')); },
      [](auto& p) {
        p.pack_bin(3);
        p.pack_bin_body("abc", 3);
      },
      [](auto& p) {
        p.pack_bin(300);
        p.pack_bin_body(std::string(300, 'b').data(), 300);
      },
      [](auto& p) {
        p.pack_bin(70000);
        p.pack_bin_body(std::string(70000, 'b').data(), 70000);
      },
      [](auto& p) { p.pack(std::vector<int>(20, 1)); },
      [](auto& p) { p.pack(std::vector<int>(70000, 1)); },
      [](auto& p) {
        p.pack(std::map<int, int>{{1, 2}});
      },
      [](auto& p) {
        p.pack_map(20);
        for (int i = 0; i < 20; ++i) {
          p.pack(i);
          p.pack(std::vector<int>{i});
        }
      },
  };
  for (std::size_t i = 0; i < writers.size(); ++i) {
    msgpack::sbuffer body;
    msgpack::packer<msgpack::sbuffer> packer(body);
    writers[i](packer);
    const auto result = decode(frame_with_raw_body(3, {body.data(), body.data() + body.size()}));
    INFO("writer " << i << ": " << result.error);
    CHECK_FALSE(result.frame.has_value());
    CHECK_THAT(result.error, Catch::Matchers::Contains("wrong types"));
  }
  for (std::size_t size : {1u, 2u, 4u, 8u, 16u, 3u, 300u, 70000u}) {
    msgpack::sbuffer body;
    msgpack::packer<msgpack::sbuffer> packer(body);
    packer.pack_ext(size, 7);
    const std::string payload(size, 'e');
    packer.pack_ext_body(payload.data(), payload.size());
    const auto result = decode(frame_with_raw_body(3, {body.data(), body.data() + body.size()}));
    INFO("ext of " << size << " bytes: " << result.error);
    CHECK_THAT(result.error, Catch::Matchers::Contains("limit exceeded"));
  }
}

TEST_CASE("mutated and truncated frames never crash", "[wire_codec][fuzz]") {
  const std::uint64_t seed = 20240611;
  INFO("seed=" << seed);
  test_rng random{seed};
  std::vector<std::vector<char>> valid;
  for (const auto& body : sample_bodies())
    valid.push_back(encode_frame("node-a", random.next(), "127.0.0.1:7000", body));
  std::size_t accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    auto bytes = valid[random.below(valid.size())];
    const std::size_t edits = 1 + random.below(4);
    for (std::size_t e = 0; e < edits && !bytes.empty(); ++e) {
      const std::size_t at = random.below(bytes.size());
      switch (random.below(5)) {
        case 0:
          bytes[at] = static_cast<char>(bytes[at] ^ (1u << random.below(8)));
          break;
        case 1:
          bytes[at] = static_cast<char>(random.next());
          break;
        case 2:
          bytes.resize(at);
          break;
        case 3:
          bytes.insert(bytes.begin() + at, static_cast<char>(random.next()));
          break;
        default:
          bytes.erase(bytes.begin() + at);
          break;
      }
    }
    const auto result = decode(bytes);
    REQUIRE(result.frame.has_value() == result.error.empty());
    if (result.frame) {
      ++accepted;
      // Whatever is accepted re-encodes to exactly the same bytes.
      REQUIRE(encode_frame(result.frame->from, result.frame->incarnation,
                           result.frame->client_address, result.frame->body) == bytes);
    }
  }
  CHECK(accepted > 0); // some single-bit flips in integers and strings stay valid
}

TEST_CASE("random bytes never crash", "[wire_codec][fuzz]") {
  test_rng random{7};
  for (int round = 0; round < 20000; ++round) {
    std::vector<char> bytes(random.below(64));
    for (auto& b : bytes)
      b = static_cast<char>(random.next());
    if (!bytes.empty() && random.below(2) == 0) bytes[0] = static_cast<char>(0x96);
    const auto result = decode(bytes);
    REQUIRE(result.frame.has_value() == result.error.empty());
  }
}

TEST_CASE("client commands round-trip and garbage is refused", "[wire_codec]") {
  const client_command command{1, 2, 3, {"SET", std::string("k\0", 2), binary_data}, {}, {}};
  const std::string data = encode_command(command);
  const auto decoded = decode_command(data.data(), data.size());
  REQUIRE(decoded.has_value());
  CHECK(*decoded == command);
  const client_command empty{};
  const std::string empty_data = encode_command(empty);
  CHECK(decode_command(empty_data.data(), empty_data.size()) == empty);

  CHECK_FALSE(decode_command(nullptr, 0).has_value());
  CHECK_FALSE(decode_command("\xc1", 1).has_value());
  CHECK_FALSE(decode_command("\x91\x01", 2).has_value()); // wrong field count
  CHECK_FALSE(decode_command("\xdd\xff\xff\xff\xff", 5).has_value());
  const std::string trailing = data + "x";
  CHECK_FALSE(decode_command(trailing.data(), trailing.size()).has_value());
  for (std::size_t cut = 0; cut < data.size(); ++cut)
    CHECK_FALSE(decode_command(data.data(), cut).has_value());
  test_rng random{99};
  for (int round = 0; round < 5000; ++round) {
    std::string bytes = data;
    bytes[random.below(bytes.size())] = static_cast<char>(random.next());
    const auto result = decode_command(bytes.data(), bytes.size()); // must not crash
    if (result) CHECK(result->argv.size() <= 3);
  }
}

TEST_CASE("a command in the six-field form of older logs decodes as a write with no order") {
  // [client_id, seq, time_ms, argv, transaction, watched], as logs written before through_log
  // and after_seq existed hold it.
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> out(buffer);
  out.pack_array(6);
  out.pack(std::uint64_t{7});
  out.pack(std::uint64_t{3});
  out.pack(std::uint64_t{1000});
  out.pack(std::vector<std::string>{"SET", "k", "v"});
  out.pack(std::vector<std::vector<std::string>>{});
  out.pack(std::vector<std::pair<std::string, std::uint64_t>>{});
  auto command = decode_command(buffer.data(), buffer.size());
  REQUIRE(command);
  CHECK(command->client_id == 7);
  CHECK(command->seq == 3);
  CHECK(command->argv == std::vector<std::string>{"SET", "k", "v"});
  CHECK(command->through_log);
  CHECK(command->after_seq == 0);
  // The current form round-trips byte for byte.
  auto current = encode_command(*command);
  auto again = decode_command(current.data(), current.size());
  REQUIRE(again);
  CHECK(*again == *command);
  CHECK(encode_command(*again) == current);
}
