// Peer frame codec. Decoding is strict, in three steps, each of which can only refuse:
//   1. a size check against limits::peer_frame_bytes_max;
//   2. a structural scan that walks the msgpack bytes without allocating and checks that every
//      element an array or map declares is actually present (each element takes at least one
//      byte). msgpack-c allocates an array's element table as soon as it reads the header, so
//      without this scan a 5-byte header declaring a million elements would allocate 16 MiB, at
//      every nesting level. After the scan, what msgpack allocates is proportional to the bytes
//      received;
//   3. msgpack::unpack with default_unpack_limit(), conversion to the struct for the kind, and a
//      canonical check: the decoded frame must re-encode to exactly the bytes received. That one
//      check refuses extra or missing struct fields, non-minimal integers, bin where str is
//      expected, and anything else a lenient msgpack conversion would silently accept, so the
//      fuzz property "every accepted frame re-encodes to the same bytes" holds by construction.
//
// Body encoding: the body is a nested msgpack object (not a bin holding a second msgpack
// document), so a frame is parsed in one pass under one set of limits.

#include "messages/wire_codec.hpp"

#include <cstring>
#include <exception>
#include <new>
#include <string_view>

#include "config/limits.hpp"

namespace prez {

namespace {

/// Where a structural scan ended: `end` is the offset just past the first object, valid when
/// `error` is null.
struct scan_result {
  std::size_t end = 0;
  const char* error = nullptr;
};

std::uint64_t read_big_endian(const unsigned char* bytes, std::size_t width) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < width; ++i)
    value = (value << 8) | bytes[i];
  return value;
}

/// How one msgpack header byte continues: a length field of `length_bytes` bytes may follow;
/// then `skip_bytes` payload bytes (plus the length when `length_is_skip`), and `children`
/// nested elements (for array16/32 and map16/32: the length times `children_per_count`).
struct header_shape {
  std::size_t length_bytes = 0;
  std::uint64_t skip_bytes = 0;
  bool length_is_skip = false;
  std::uint64_t children = 0;
  std::uint64_t children_per_count = 0; // 1 for arrays, 2 for maps, 0 otherwise
  bool valid = true;
};

header_shape fixed(std::uint64_t skip_bytes) {
  header_shape s;
  s.skip_bytes = skip_bytes;
  return s;
}

header_shape length_prefixed(std::size_t length_bytes, std::uint64_t extra_bytes) {
  header_shape s;
  s.length_bytes = length_bytes;
  s.length_is_skip = true;
  s.skip_bytes = extra_bytes;
  return s;
}

header_shape container(std::size_t length_bytes, std::uint64_t children_per_count,
                       std::uint64_t inline_count) {
  header_shape s;
  s.length_bytes = length_bytes;
  s.children_per_count = children_per_count;
  s.children = inline_count * children_per_count;
  return s;
}

/// The msgpack format table (msgpack spec, "Formats"), grouped by ranges.
header_shape shape_of(unsigned char b) {
  const auto width = [b](unsigned first) { return std::size_t{1} << (b - first); }; // 1, 2, 4...
  if (b <= 0x7f || b >= 0xe0) return fixed(0);                         // positive / negative fixint
  if (b <= 0x8f) return container(0, 2, b & 0x0fu);                    // fixmap
  if (b <= 0x9f) return container(0, 1, b & 0x0fu);                    // fixarray
  if (b <= 0xbf) return fixed(b & 0x1fu);                              // fixstr
  if (b == 0xc0 || b == 0xc2 || b == 0xc3) return fixed(0);            // nil, false, true
  if (b >= 0xc4 && b <= 0xc6) return length_prefixed(width(0xc4), 0);  // bin 8/16/32
  if (b >= 0xc7 && b <= 0xc9) return length_prefixed(width(0xc7), 1);  // ext 8/16/32 + type
  if (b == 0xca || b == 0xcb) return fixed(4 * width(0xca));           // float 32/64
  if (b >= 0xcc && b <= 0xcf) return fixed(width(0xcc));               // uint 8..64
  if (b >= 0xd0 && b <= 0xd3) return fixed(width(0xd0));               // int 8..64
  if (b >= 0xd4 && b <= 0xd8) return fixed(1 + width(0xd4));           // fixext 1..16 + type
  if (b >= 0xd9 && b <= 0xdb) return length_prefixed(width(0xd9), 0);  // str 8/16/32
  if (b == 0xdc || b == 0xdd) return container(2 * width(0xdc), 1, 0); // array 16/32
  if (b == 0xde || b == 0xdf) return container(2 * width(0xde), 2, 0); // map 16/32
  header_shape invalid;                                                // 0xc1 is never used
  invalid.valid = false;
  return invalid;
}

/// Walks the first msgpack object in [data, data + size) without allocating. Refuses invalid
/// header bytes, truncation, and containers declaring more elements than bytes remain.
scan_result scan_msgpack(const char* data, std::size_t size) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(data);
  std::size_t offset = 0;
  // Elements still to read. Invariant (checked after every header): pending <= size - offset.
  std::uint64_t pending = 1;
  while (pending > 0) {
    if (offset >= size) return {0, "truncated msgpack"};
    const header_shape shape = shape_of(bytes[offset++]);
    --pending;
    if (!shape.valid) return {0, "invalid msgpack type byte"};
    std::uint64_t skip = shape.skip_bytes;
    std::uint64_t children = shape.children;
    if (shape.length_bytes > 0) {
      if (size - offset < shape.length_bytes) return {0, "truncated msgpack"};
      const std::uint64_t length = read_big_endian(bytes + offset, shape.length_bytes);
      offset += shape.length_bytes;
      if (shape.length_is_skip)
        skip += length;
      else
        children = length * shape.children_per_count; // length < 2^32: no overflow
    }
    if (skip > size - offset) return {0, "truncated msgpack"};
    offset += static_cast<std::size_t>(skip);
    pending += children;
    if (pending > size - offset)
      return {0, "truncated msgpack: a container declares more elements than bytes remain"};
  }
  return {offset, nullptr};
}

/// Scans, then unpacks exactly one object spanning all of [data, data + size) under
/// default_unpack_limit(). Returns an error string, empty on success.
std::string unpack_strict(const char* data, std::size_t size, msgpack::object_handle& out) {
  const scan_result scan = scan_msgpack(data, size);
  if (scan.error != nullptr) return scan.error;
  if (scan.end != size)
    return "trailing bytes after the msgpack object (" + std::to_string(size - scan.end) + ")";
  std::size_t offset = 0;
  msgpack::unpack(out, data, size, offset, nullptr, nullptr, default_unpack_limit());
  if (offset != size) return "trailing bytes after the msgpack object";
  return {};
}

frame_kind kind_of(const frame_body& body) {
  switch (body.index()) {
    case 0:
      return frame_kind::raft;
    case 1:
      return frame_kind::forward_request;
    case 2:
      return frame_kind::forward_response;
    case 3:
      return frame_kind::link_ack_request;
    case 4:
      return frame_kind::link_ack_response;
    case 5:
      return frame_kind::forward_request_batch;
    default:
      return frame_kind::forward_response_batch;
  }
}

/// Converts the body object for `kind`; throws msgpack::type_error on a mismatch.
std::optional<frame_body> convert_body(std::uint8_t kind, const msgpack::object& body) {
  switch (static_cast<frame_kind>(kind)) {
    case frame_kind::raft:
      return frame_body{body.as<raft_message>()};
    case frame_kind::forward_request:
      return frame_body{body.as<forward_request>()};
    case frame_kind::forward_response:
      return frame_body{body.as<forward_response>()};
    case frame_kind::link_ack_request:
      return frame_body{body.as<link_ack_request>()};
    case frame_kind::link_ack_response:
      return frame_body{body.as<link_ack_response>()};
    case frame_kind::forward_request_batch:
      return frame_body{body.as<forward_request_batch>()};
    case frame_kind::forward_response_batch:
      return frame_body{body.as<forward_response_batch>()};
  }
  return std::nullopt;
}

/// Everything after the bytes were found to be one well-formed msgpack object.
frame_decode_result convert_frame(const msgpack::object& root, const char* data, std::size_t size) {
  frame_decode_result result;
  if (root.type != msgpack::type::ARRAY || root.via.array.size != 6) {
    result.error = "frame is not an array of 6 elements";
    return result;
  }
  const msgpack::object* fields = root.via.array.ptr;
  const auto version = fields[0].as<std::uint16_t>();
  if (version != wire_version) {
    result.error = "unsupported wire version " + std::to_string(version);
    return result;
  }
  const auto kind = fields[1].as<std::uint8_t>();
  peer_frame frame;
  fields[2].convert(frame.from);
  if (frame.from.size() > limits::node_name_bytes_max) {
    result.error = "sender name longer than " + std::to_string(limits::node_name_bytes_max);
    return result;
  }
  fields[3].convert(frame.incarnation);
  fields[4].convert(frame.client_address);
  auto body = convert_body(kind, fields[5]);
  if (!body) {
    result.error = "unknown frame kind " + std::to_string(kind);
    return result;
  }
  frame.body = std::move(*body);
  const std::vector<char> canonical =
      encode_frame(frame.from, frame.incarnation, frame.client_address, frame.body);
  if (canonical.size() != size || std::memcmp(canonical.data(), data, size) != 0) {
    result.error = "non-canonical encoding (does not re-encode to the bytes received)";
    return result;
  }
  result.frame = std::move(frame);
  return result;
}

} // namespace

msgpack::unpack_limit default_unpack_limit() {
  return msgpack::unpack_limit(limits::msgpack_array_max, limits::msgpack_map_max,
                               limits::msgpack_str_max, limits::msgpack_bin_max,
                               limits::msgpack_ext_max, limits::msgpack_depth_max);
}

std::vector<char> encode_frame(const node_name& from, std::uint64_t incarnation,
                               const std::string& client_address, const frame_body& body) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer(buffer);
  packer.pack_array(6);
  packer.pack(wire_version);
  packer.pack(static_cast<std::uint8_t>(kind_of(body)));
  packer.pack(from);
  packer.pack(incarnation);
  packer.pack(client_address);
  std::visit([&](const auto& message) { packer.pack(message); }, body);
  return std::vector<char>(buffer.data(), buffer.data() + buffer.size());
}

frame_decode_result decode_frame(const char* data, std::size_t size) {
  frame_decode_result result;
  if (size > limits::peer_frame_bytes_max) {
    result.error = "frame of " + std::to_string(size) + " bytes exceeds the limit of " +
                   std::to_string(limits::peer_frame_bytes_max);
    return result;
  }
  // Every failure below is bad input from a peer (docs/architecture.md §7, kind 2): turned into a
  // reason.
  try {
    msgpack::object_handle handle;
    result.error = unpack_strict(data, size, handle);
    if (!result.error.empty()) return result;
    return convert_frame(handle.get(), data, size);
  } catch (const msgpack::size_overflow& e) {
    result.error = std::string("msgpack limit exceeded: ") + e.what();
  } catch (const msgpack::unpack_error& e) {
    result.error = std::string("malformed msgpack: ") + e.what();
  } catch (const msgpack::type_error&) {
    result.error = "frame fields have the wrong types";
  } catch (const std::bad_alloc&) {
    result.error = "out of memory while decoding";
  } catch (const std::exception& e) {
    result.error = std::string("cannot decode frame: ") + e.what();
  }
  result.frame.reset();
  return result;
}

std::string encode_command(const client_command& command) {
  msgpack::sbuffer buffer;
  msgpack::pack(buffer, command);
  return std::string(buffer.data(), buffer.size());
}

namespace {

/// A command as logs written before `through_log` and `after_seq` existed hold it: every such
/// entry went through the log, with no ordering constraint.
struct client_command_v1 {
  std::uint64_t client_id = 0;
  std::uint64_t seq = 0;
  std::uint64_t time_ms = 0;
  std::vector<std::string> argv;
  std::vector<std::vector<std::string>> transaction;
  std::vector<std::pair<std::string, std::uint64_t>> watched;
  MSGPACK_DEFINE(client_id, seq, time_ms, argv, transaction, watched)
};

std::optional<client_command> decode_command_v1(const msgpack::object& root, const char* data,
                                                std::size_t size) {
  auto old = root.as<client_command_v1>();
  msgpack::sbuffer buffer;
  msgpack::pack(buffer, old);
  if (std::string_view(buffer.data(), buffer.size()) != std::string_view(data, size))
    return std::nullopt;
  client_command command{old.client_id,
                         old.seq,
                         old.time_ms,
                         std::move(old.argv),
                         std::move(old.transaction),
                         std::move(old.watched),
                         true,
                         0};
  return command;
}

} // namespace

std::optional<client_command> decode_command(const char* data, std::size_t size) {
  if (size > limits::peer_frame_bytes_max) return std::nullopt;
  try {
    msgpack::object_handle handle;
    if (!unpack_strict(data, size, handle).empty()) return std::nullopt;
    const msgpack::object& root = handle.get();
    if (root.type != msgpack::type::ARRAY) return std::nullopt;
    if (root.via.array.size == 6) return decode_command_v1(root, data, size);
    auto command = root.as<client_command>();
    // Canonical form only, as for frames: the bytes must be exactly what we would write.
    if (encode_command(command) != std::string_view(data, size)) return std::nullopt;
    return command;
  } catch (const std::exception&) { // msgpack errors, type_error (a bad_cast), bad_alloc
    return std::nullopt;
  }
}

} // namespace prez
