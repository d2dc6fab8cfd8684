// Segmented WAL and hard-state file (docs/architecture.md §5). See log_store.hpp for the on-disk
// format.
//
// Recovery rules, in one place:
//   - segments are read in index order; each record's length must be in [1, log_record_bytes_max],
//     its CRC must match, its payload must decode to a log_entry whose index is the previous one
//     plus one (across segments too; the first segment starts at the index in its name, which
//     is 1 or, after compaction or reset, any index >= 1) and whose term is >= 1 and never below
//     the previous term. A segment's name must equal its first record's index.
//   - sync marks (log_store.hpp) tell a torn group commit from damage to synced data. In the LAST
//     segment, a bad record with a valid sync mark anywhere after it is corruption: a mark is
//     written only after an fdatasync covering every byte before it. A bad record after the last
//     mark on disk is a torn tail, whatever follows it (a power loss can persist a batch's pages
//     out of order): the only acknowledged bytes after that mark are the batch its missing
//     successor would have marked, already durable, so a crash cannot have damaged them. (Media
//     corruption there is the one case taken for a torn tail.) The file is cut at the bad record
//     and the dropped byte count reported.
//   - a LAST segment with no valid mark before the bad record and none after it (written before
//     marks existed, or its first mark lost) is judged as before marks: the bad record is a torn
//     tail when nothing that could have been acknowledged follows it: the header itself is
//     incomplete; or the CRC fails and the record ends exactly at end of file; or the length is
//     implausible / runs past the end of file and no valid later record can be found at any
//     following offset (so a bit flip in a length field cannot silently hide the records after
//     it).
//   - a valid sync mark must record its own offset; anything else is corruption.
//   - everything else is corruption: refuse to start, naming the file, the offset and why.
//     Known limit: the searches for a later valid record or sync mark also look inside the torn
//     record's own payload, so a client value that embeds a forged record or mark image with a
//     matching CRC could make a crash-torn tail look like corruption. The failure is a loud
//     refusal, never loss.

#include "actors/storage/log_store.hpp"

#include "actors/storage/file_io.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/assert.hpp"

namespace prez::storage {

namespace {

void put_u32(std::string& out, std::uint32_t value) {
  put_le(out, value, 4);
}

std::uint32_t get_u32(const char* bytes) {
  return static_cast<std::uint32_t>(get_le(bytes, 4));
}

constexpr std::size_t record_header_bytes = 8;
/// Smallest payload a log_entry encodes to: fixarray(4) and four one-byte fields.
constexpr std::size_t entry_payload_bytes_min = 5;
/// First byte of every log_entry payload (fixarray of 4): a cheap filter for the search for a
/// valid record after a bad one.
constexpr unsigned char entry_payload_first_byte = 0x94;
/// Payload of a sync mark: msgpack uint64 in its fixed 9-byte form (0xcf, then 8 bytes big-endian),
/// the offset the mark itself starts at. Its first byte tells it from a log_entry (0x94).
constexpr std::size_t mark_payload_bytes = 9;
constexpr unsigned char mark_payload_first_byte = 0xcf;
constexpr std::uint64_t mark_record_bytes = record_header_bytes + mark_payload_bytes;
/// A segment holds at most segment_bytes_max bytes unless a single record (with the segment's
/// first and last sync marks) is larger.
constexpr std::uint64_t segment_file_bytes_max = limits::segment_bytes_recovery_max +
                                                 limits::log_record_bytes_max +
                                                 record_header_bytes + 2 * mark_record_bytes;
constexpr const char* hard_state_name = "hard-state";
constexpr const char* hard_state_temp_name = "hard-state.tmp";
constexpr const char* lock_name = "LOCK";
constexpr const char* refusal = "; refusing to start (data would be lost)";

constexpr std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc & 1u) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    table[i] = crc;
  }
  return table;
}

constexpr std::array<std::uint32_t, 256> crc_table = make_crc_table();

/// Appends one framed record: [u32 length][u32 crc32c][payload].
void frame_record(std::string& out, const char* payload, std::size_t size) {
  put_u32(out, static_cast<std::uint32_t>(size));
  put_u32(out, crc32c(payload, size));
  out.append(payload, size);
}

/// The framed sync mark record for a mark at offset `mark_offset`.
std::string encode_mark(std::uint64_t mark_offset) {
  std::string payload(1, static_cast<char>(mark_payload_first_byte));
  for (int shift = 56; shift >= 0; shift -= 8)
    payload.push_back(static_cast<char>((mark_offset >> shift) & 0xffu));
  std::string record;
  frame_record(record, payload.data(), payload.size());
  return record;
}

/// The offset a sync mark payload records; nullopt when the payload is not a sync mark.
std::optional<std::uint64_t> decode_mark(const char* payload, std::size_t size) {
  if (size != mark_payload_bytes ||
      static_cast<unsigned char>(payload[0]) != mark_payload_first_byte)
    return std::nullopt;
  std::uint64_t value = 0;
  for (std::size_t i = 1; i < mark_payload_bytes; ++i)
    value = (value << 8) | static_cast<unsigned char>(payload[i]);
  return value;
}

std::string encode_entry(const log_entry& entry) {
  msgpack::sbuffer buffer;
  msgpack::pack(buffer, entry);
  return std::string(buffer.data(), buffer.size());
}

/// Decodes a record payload into a log_entry; nullopt when it is anything else. Tight unpack
/// limits (one array of 4, no maps, no nesting) keep allocation proportional to the payload.
std::optional<log_entry> decode_entry(const char* payload, std::size_t size) {
  try {
    msgpack::object_handle handle;
    std::size_t offset = 0;
    msgpack::unpack(handle, payload, size, offset, nullptr, nullptr,
                    msgpack::unpack_limit(4, 0, size, size, 0, 1));
    const msgpack::object& root = handle.get();
    if (offset != size || root.type != msgpack::type::ARRAY || root.via.array.size != 4)
      return std::nullopt;
    return root.as<log_entry>();
  } catch (const std::exception&) { // unpack_error, type_error (a bad_cast), bad_alloc
    return std::nullopt;
  }
}

/// The contents of a file, or why it could not be read. `missing` is set when it does not exist.
struct file_contents {
  std::string bytes;
  std::optional<std::string> error;
  bool missing = false;
};

file_contents read_file(const std::string& path, std::uint64_t size_max) {
  file_contents result;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    result.missing = errno == ENOENT;
    result.error = errno_text("cannot open", path);
    return result;
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    result.error = errno_text("cannot stat", path);
  } else if (static_cast<std::uint64_t>(info.st_size) > size_max) {
    result.error = path + ": file of " + std::to_string(info.st_size) +
                   " bytes is larger than any valid one (" + std::to_string(size_max) + ")";
  } else {
    result.bytes.resize(static_cast<std::size_t>(info.st_size));
    std::size_t done = 0;
    while (done < result.bytes.size()) {
      const ssize_t got = ::read(fd, result.bytes.data() + done, result.bytes.size() - done);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      done += static_cast<std::size_t>(got);
    }
    if (done != result.bytes.size()) result.error = errno_text("cannot read", path);
  }
  ::close(fd);
  return result;
}

std::string segment_name(std::uint64_t first_index) {
  char name[64];
  std::snprintf(name, sizeof name, "log-%020" PRIu64 ".seg", first_index);
  return name;
}

/// Parses "log-<20 digits>.seg"; nullopt for any other name.
std::optional<std::uint64_t> parse_segment_name(const std::string& name) {
  constexpr std::size_t digits = 20;
  if (name.size() != 4 + digits + 4 || name.compare(0, 4, "log-") != 0 ||
      name.compare(4 + digits, 4, ".seg") != 0)
    return std::nullopt;
  std::uint64_t value = 0;
  for (std::size_t i = 4; i < 4 + digits; ++i) {
    const char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    const std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

// --- recovery -----------------------------------------------------------------------------------

/// Why a record could not be read. Only the first four can be a torn tail.
enum class record_problem {
  none,
  header_incomplete,
  bad_length,
  payload_incomplete,
  crc_mismatch,
  not_an_entry,
};

struct record_view {
  record_problem problem = record_problem::none;
  std::uint32_t length = 0;
  /// Set for a sync mark (then `entry` is empty): the offset the mark records.
  std::optional<std::uint64_t> mark;
  log_entry entry;
};

record_view read_record(const std::string& bytes, std::size_t offset) {
  record_view view;
  const std::size_t remaining = bytes.size() - offset;
  if (remaining < record_header_bytes) {
    view.problem = record_problem::header_incomplete;
    return view;
  }
  view.length = get_u32(bytes.data() + offset);
  if (view.length < entry_payload_bytes_min || view.length > limits::log_record_bytes_max) {
    view.problem = record_problem::bad_length;
  } else if (view.length > remaining - record_header_bytes) {
    view.problem = record_problem::payload_incomplete;
  } else {
    const char* payload = bytes.data() + offset + record_header_bytes;
    if (crc32c(payload, view.length) != get_u32(bytes.data() + offset + 4)) {
      view.problem = record_problem::crc_mismatch;
    } else if (auto mark = decode_mark(payload, view.length)) {
      view.mark = mark;
    } else if (auto entry = decode_entry(payload, view.length)) {
      view.entry = std::move(*entry);
    } else {
      view.problem = record_problem::not_an_entry;
    }
  }
  return view;
}

/// Offset of the first valid record after `from` holding an index above `index_min`, or nullopt.
/// Used only after a bad record, to tell a torn tail from a damaged record with data after it.
std::optional<std::size_t> find_later_record(const std::string& bytes, std::size_t from,
                                             std::uint64_t index_min) {
  for (std::size_t offset = from; offset + record_header_bytes < bytes.size(); ++offset) {
    if (static_cast<unsigned char>(bytes[offset + record_header_bytes]) != entry_payload_first_byte)
      continue;
    const record_view view = read_record(bytes, offset);
    if (view.problem == record_problem::none && !view.mark && view.entry.index > index_min)
      return offset;
  }
  return std::nullopt;
}

/// Offset of the first valid sync mark after `from`, or nullopt. Any such mark, whatever offset it
/// records, means the bytes before it were synced once.
std::optional<std::size_t> find_later_mark(const std::string& bytes, std::size_t from) {
  for (std::size_t offset = from; offset + mark_record_bytes <= bytes.size(); ++offset) {
    if (get_u32(bytes.data() + offset) != mark_payload_bytes ||
        static_cast<unsigned char>(bytes[offset + record_header_bytes]) != mark_payload_first_byte)
      continue;
    if (read_record(bytes, offset).mark) return offset;
  }
  return std::nullopt;
}

/// What is wrong with a bad record, for a refusal message.
std::string describe(const record_view& view) {
  switch (view.problem) {
    case record_problem::header_incomplete:
      return "incomplete record header";
    case record_problem::bad_length:
      return "invalid record length " + std::to_string(view.length);
    case record_problem::payload_incomplete:
      return "record length " + std::to_string(view.length) + " runs past the end of the file";
    case record_problem::crc_mismatch:
      return "CRC mismatch";
    case record_problem::not_an_entry:
      return "record with a valid CRC is not a log entry";
    case record_problem::none:
      break;
  }
  return "valid record";
}

/// A segment as found on disk, with where its valid records end.
struct scanned_segment {
  std::uint64_t first_index = 0;
  std::string path;
  std::uint64_t file_bytes = 0;
  std::uint64_t valid_bytes = 0;
  std::vector<std::uint64_t> record_offsets;
  std::vector<std::uint64_t> record_terms;
  /// End of the last valid sync mark read; 0 when none was.
  std::uint64_t marks_end_bytes = 0;
};

/// Running state of recovery across segments.
struct recovery_cursor {
  std::uint64_t last_index = 0;
  std::uint64_t last_term = 0;
};

std::string corruption(const std::string& path, std::uint64_t offset, const std::string& reason) {
  return path + ": offset " + std::to_string(offset) + ": " + reason + refusal;
}

/// Decides what a bad record at `offset` means. Returns an error for corruption, nothing for a
/// torn tail (which the caller cuts off). `marked` is whether a sync mark precedes it.
std::optional<std::string> judge_bad_record(const std::string& bytes, std::size_t offset,
                                            const record_view& view, bool last_segment, bool marked,
                                            std::uint64_t expected_index, const std::string& path) {
  const std::uint64_t after = bytes.size() - offset;
  if (view.problem == record_problem::not_an_entry) return corruption(path, offset, describe(view));
  if (last_segment) {
    // Sync marks: see the recovery rules at the top of this file.
    if (auto mark = find_later_mark(bytes, offset + 1))
      return corruption(path, offset,
                        describe(view) + " before the sync mark at offset " +
                            std::to_string(*mark) + " (synced data is damaged)");
    if (marked) return std::nullopt;
  }
  switch (view.problem) {
    case record_problem::not_an_entry:
      return corruption(path, offset, describe(view));
    case record_problem::header_incomplete:
      if (last_segment) return std::nullopt;
      return corruption(path, offset, "incomplete record header in a segment that is not the last");
    case record_problem::crc_mismatch: {
      const std::uint64_t record_end = record_header_bytes + std::uint64_t{view.length};
      if (last_segment && record_end == after) return std::nullopt;
      return corruption(path, offset,
                        "CRC mismatch in a record followed by " +
                            std::to_string(after - record_end) + " more bytes");
    }
    case record_problem::bad_length:
    case record_problem::payload_incomplete: {
      const std::string what =
          view.problem == record_problem::bad_length
              ? "invalid record length " + std::to_string(view.length)
              : "record length " + std::to_string(view.length) + " runs past the end of the file";
      if (!last_segment)
        return corruption(path, offset, what + " in a segment that is not the last");
      if (auto later = find_later_record(bytes, offset + 1, expected_index))
        return corruption(path, offset,
                          what + " but a valid record follows at offset " + std::to_string(*later));
      return std::nullopt;
    }
    case record_problem::none:
      break;
  }
  assert_fail("judge_bad_record called for a good record", __FILE__, __LINE__);
}

/// Reads one segment's records into `entries`. On a torn tail, `segment.valid_bytes` <
/// `segment.file_bytes`; on corruption, returns the error.
std::optional<std::string> scan_segment(const std::string& bytes, bool last_segment,
                                        scanned_segment& segment, recovery_cursor& cursor,
                                        std::vector<log_entry>& entries) {
  std::size_t offset = 0;
  while (offset < bytes.size()) {
    const std::uint64_t expected_index = cursor.last_index + 1;
    record_view view = read_record(bytes, offset);
    if (view.problem != record_problem::none) {
      if (auto error = judge_bad_record(bytes, offset, view, last_segment,
                                        segment.marks_end_bytes > 0, expected_index, segment.path))
        return error;
      break; // torn tail: keep the prefix
    }
    if (view.mark) {
      if (*view.mark != offset)
        return corruption(segment.path, offset,
                          "sync mark records offset " + std::to_string(*view.mark));
      offset += mark_record_bytes;
      segment.marks_end_bytes = offset;
      continue;
    }
    const log_entry& entry = view.entry;
    if (entry.index != expected_index)
      return corruption(segment.path, offset,
                        "index " + std::to_string(entry.index) + " where " +
                            std::to_string(expected_index) + " was expected");
    if (entry.term == 0 || entry.term < cursor.last_term)
      return corruption(segment.path, offset,
                        "term " + std::to_string(entry.term) + " after term " +
                            std::to_string(cursor.last_term) + " (terms must not decrease)");
    segment.record_offsets.push_back(offset);
    segment.record_terms.push_back(entry.term);
    cursor.last_index = entry.index;
    cursor.last_term = entry.term;
    offset += record_header_bytes + view.length;
    entries.push_back(std::move(view.entry));
  }
  segment.valid_bytes = offset;
  return std::nullopt;
}

/// Cuts a torn tail off (durable once open() syncs the last segment).
std::optional<std::string> cut_torn_tail(const scanned_segment& segment) {
  if (::truncate(segment.path.c_str(), static_cast<off_t>(segment.valid_bytes)) != 0)
    return errno_text("cannot truncate torn tail of", segment.path);
  return std::nullopt;
}

/// Segment files in `dir`, sorted by first index.
std::variant<std::vector<scanned_segment>, std::string> list_segments(const std::string& dir) {
  std::vector<scanned_segment> segments;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (auto first_index = parse_segment_name(name)) {
      scanned_segment segment;
      segment.first_index = *first_index;
      segment.path = it->path().string();
      segments.push_back(std::move(segment));
    }
  }
  if (ec) return "cannot list " + dir + ": " + ec.message();
  std::sort(segments.begin(), segments.end(),
            [](const auto& a, const auto& b) { return a.first_index < b.first_index; });
  return segments;
}

/// Reads and checks every segment; fills `out.entries` and `out.truncated_tail_bytes`.
std::optional<std::string> recover_segments(std::vector<scanned_segment>& segments,
                                            recovered_state& out) {
  recovery_cursor cursor;
  if (!segments.empty()) {
    // After compact_to() or reset() the log starts above 1; index 0 is never valid.
    if (segments.front().first_index == 0)
      return corruption(segments.front().path, 0, "segment starts at index 0");
    cursor.last_index = segments.front().first_index - 1;
    out.first_index = segments.front().first_index;
  }
  for (std::size_t i = 0; i < segments.size(); ++i) {
    scanned_segment& segment = segments[i];
    const bool last_segment = i + 1 == segments.size();
    if (segment.first_index != cursor.last_index + 1)
      return corruption(segment.path, 0,
                        "segment starts at index " + std::to_string(segment.first_index) + " but " +
                            std::to_string(cursor.last_index + 1) + " was expected");
    file_contents file = read_file(segment.path, segment_file_bytes_max);
    if (file.error) return *file.error;
    segment.file_bytes = file.bytes.size();
    if (file.bytes.empty() && !last_segment)
      return corruption(segment.path, 0, "empty segment before the last one");
    if (auto error = scan_segment(file.bytes, last_segment, segment, cursor, out.entries))
      return error;
    if (segment.valid_bytes < segment.file_bytes) {
      out.truncated_tail_bytes = segment.file_bytes - segment.valid_bytes;
      if (auto error = cut_torn_tail(segment)) return error;
      segment.file_bytes = segment.valid_bytes;
    }
  }
  return std::nullopt;
}

std::variant<hard_state_record, std::string> load_hard_state(const std::string& dir) {
  const std::string path = dir + "/" + hard_state_name;
  file_contents file = read_file(path, limits::hard_state_bytes_max);
  if (file.missing) return hard_state_record{};
  if (file.error) return *file.error;
  const std::string& bytes = file.bytes;
  if (bytes.size() < record_header_bytes || get_u32(bytes.data()) != bytes.size() - 8)
    return path + ": not a hard-state record (" + std::to_string(bytes.size()) + " bytes)" +
           refusal;
  if (crc32c(bytes.data() + 8, bytes.size() - 8) != get_u32(bytes.data() + 4))
    return path + ": CRC mismatch" + refusal;
  try {
    msgpack::object_handle handle;
    std::size_t offset = 0;
    const std::size_t size = bytes.size() - 8;
    msgpack::unpack(handle, bytes.data() + 8, size, offset, nullptr, nullptr,
                    msgpack::unpack_limit(2, 0, size, size, 0, 1));
    const msgpack::object& root = handle.get();
    if (offset == size && root.type == msgpack::type::ARRAY && root.via.array.size == 2)
      return root.as<hard_state_record>();
  } catch (const std::exception&) { // falls through to the refusal below
  }
  return path + ": record is not [term, voted_for]" + refusal;
}

} // namespace

std::uint32_t crc32c_extend(std::uint32_t crc, const void* data, std::size_t size) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  crc ^= 0xFFFFFFFFu; // undo the previous final xor: continue from the raw register
  for (std::size_t i = 0; i < size; ++i)
    crc = crc_table[(crc ^ bytes[i]) & 0xffu] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

std::uint32_t crc32c(const void* data, std::size_t size) {
  return crc32c_extend(0, data, size);
}

// --- open ---------------------------------------------------------------------------------------

log_store::log_store(std::string dir, std::size_t segment_bytes_max, int dir_fd, int lock_fd,
                     sync_observer observer)
    : dir_(std::move(dir)), segment_bytes_max_(segment_bytes_max), dir_fd_(dir_fd),
      lock_fd_(lock_fd), observer_(std::move(observer)) {}

log_store::~log_store() {
  if (segment_fd_ >= 0) ::close(segment_fd_);
  if (dir_fd_ >= 0) ::close(dir_fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_); // releases the flock
}

std::variant<std::unique_ptr<log_store>, std::string> log_store::open(const std::string& dir,
                                                                      recovered_state& out,
                                                                      std::size_t segment_bytes_max,
                                                                      sync_observer observer) {
  out = recovered_state{};
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return "cannot create data directory " + dir + ": " + ec.message();
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return errno_text("cannot open data directory", dir);
  const std::string lock_path = dir + "/" + lock_name;
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  // From here the store owns both descriptors and closes them on every return.
  std::unique_ptr<log_store> store(
      new log_store(dir, segment_bytes_max, dir_fd, lock_fd, std::move(observer)));
  if (lock_fd < 0) return errno_text("cannot open", lock_path);
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0)
    return "data directory " + dir + " is in use by another process (" +
           errno_text("flock", lock_path) + ")";
  if (::unlink((dir + "/" + hard_state_temp_name).c_str()) != 0 && errno != ENOENT)
    return errno_text("cannot remove stale", dir + "/" + hard_state_temp_name);

  auto hard = load_hard_state(dir);
  if (auto* error = std::get_if<std::string>(&hard)) return *error;
  out.hard = std::get<hard_state_record>(hard);

  auto listed = list_segments(dir);
  if (auto* error = std::get_if<std::string>(&listed)) return *error;
  auto& scanned = std::get<std::vector<scanned_segment>>(listed);
  if (auto error = recover_segments(scanned, out)) return *error;

  for (auto& found : scanned)
    store->segments_.push_back(segment{found.first_index, std::move(found.path), found.file_bytes,
                                       std::move(found.record_offsets),
                                       std::move(found.record_terms), found.marks_end_bytes});
  store->recompute_last();
  PREZ_ASSERT(store->first_index() == out.first_index);
  PREZ_ASSERT(store->last_index_ + 1 == out.first_index + out.entries.size());
  if (auto error = store->sync_recovered()) return *error;
  if (auto error = store->open_last_segment_for_append()) return *error;
  return store;
}

std::optional<std::string> log_store::sync_recovered() {
  // Segments before the last were fdatasynced before the next one was created (start_segment),
  // so only the last one can hold bytes a killed process wrote and never synced; the page cache
  // serves them to recovery all the same. A cut torn tail is in the last segment too.
  if (!segments_.empty())
    if (auto error = sync_path(segments_.back().path, false)) return error;
  // The hard state was fsynced before its rename, but the rename is durable only with the
  // directory; fsync the file too, whatever killed the last process.
  const std::string hard_state_path = dir_ + "/" + hard_state_name;
  std::error_code ec;
  if (std::filesystem::exists(hard_state_path, ec))
    if (auto error = sync_path(hard_state_path, false)) return error;
  if (ec) return "cannot stat " + hard_state_path + ": " + ec.message();
  // Segment creations and removals, the hard-state rename, the stale temp file's removal.
  if (!sync_fd(dir_fd_, dir_, false)) return errno_text("cannot fsync directory", dir_);
  return std::nullopt;
}

// --- writing ------------------------------------------------------------------------------------

bool log_store::sync_fd(int fd, const std::string& path, bool data_only) {
  if ((data_only ? ::fdatasync(fd) : ::fsync(fd)) != 0) return false;
  if (observer_) observer_(path);
  return true;
}

std::optional<std::string> log_store::sync_path(const std::string& path, bool data_only) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_text("cannot open", path);
  std::optional<std::string> error;
  if (!sync_fd(fd, path, data_only)) error = errno_text("cannot fsync", path);
  ::close(fd);
  return error;
}

std::optional<std::string> log_store::fail(std::string error) {
  if (!failed_) failed_ = std::move(error);
  return failed_;
}

std::uint64_t log_store::first_index() const {
  return segments_.empty() ? empty_next_index_ : segments_.front().first_index;
}

void log_store::recompute_last() {
  // Segments are contiguous (segments_'s invariant), so the last one alone gives the last index,
  // even when it holds no entry; the term comes from the last segment that holds one.
  last_index_ = segments_.empty()
                    ? empty_next_index_ - 1
                    : segments_.back().first_index + segments_.back().record_offsets.size() - 1;
  last_term_ = 0;
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    if (it->record_offsets.empty()) continue;
    PREZ_ASSERT(it->first_index + it->record_offsets.size() - 1 == last_index_);
    last_term_ = it->record_terms.back();
    return;
  }
}

std::optional<std::string> log_store::open_last_segment_for_append() {
  PREZ_ASSERT(segment_fd_ < 0);
  if (segments_.empty()) return std::nullopt;
  const std::string& path = segments_.back().path;
  segment_fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (segment_fd_ < 0) return fail(errno_text("cannot open", path));
  segment_dirty_ = false;
  return std::nullopt;
}

std::optional<std::string> log_store::start_segment(std::uint64_t first_index) {
  if (segment_fd_ >= 0) {
    // The closed segment's tail must be durable before entries after it can be: recovery only
    // forgives a torn tail in the last segment.
    // Its last sync mark too: an incomplete record is corruption in any segment but the last.
    if ((segment_dirty_ || mark_unsynced_) && !sync_fd(segment_fd_, segments_.back().path, true))
      return fail(errno_text("cannot fdatasync", segments_.back().path));
    ::close(segment_fd_);
    segment_fd_ = -1;
    segment_dirty_ = false;
    mark_unsynced_ = false;
  }
  const std::string path = dir_ + "/" + segment_name(first_index);
  segment_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (segment_fd_ < 0) return fail(errno_text("cannot create", path));
  // Every segment starts with a sync mark (trivially true: nothing precedes it), so recovery
  // judges it by sync marks even before its first sync completes.
  const std::string mark = encode_mark(0);
  if (!write_all(segment_fd_, mark.data(), mark.size(), 0))
    return fail(errno_text("cannot write", path));
  segments_.push_back(segment{first_index, path, mark_record_bytes, {}, {}, mark_record_bytes});
  segment_dirty_ = true;
  dir_dirty_ = true;
  return std::nullopt;
}

std::optional<std::string> log_store::append(const std::vector<log_entry>& entries) {
  if (failed_) return failed_;
  std::vector<std::string> payloads;
  payloads.reserve(entries.size());
  std::uint64_t index = last_index_;
  std::uint64_t term = last_term_;
  for (const log_entry& entry : entries) {
    PREZ_ASSERT(entry.index == index + 1);
    PREZ_ASSERT(entry.term >= 1 && entry.term >= term);
    index = entry.index;
    term = entry.term;
    payloads.push_back(encode_entry(entry));
    if (payloads.back().size() > limits::log_record_bytes_max)
      return "entry " + std::to_string(entry.index) + " encodes to " +
             std::to_string(payloads.back().size()) + " bytes, over log_record_bytes_max; " +
             "nothing was written";
  }
  std::string buffer; // records for segments_.back() not yet written
  auto flush = [&]() -> std::optional<std::string> {
    if (buffer.empty()) return std::nullopt;
    segment& open_segment = segments_.back();
    if (!write_all(segment_fd_, buffer.data(), buffer.size(), open_segment.size_bytes))
      return fail(errno_text("cannot write", open_segment.path));
    open_segment.size_bytes += buffer.size();
    segment_dirty_ = true;
    buffer.clear();
    return std::nullopt;
  };
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::uint64_t record_bytes = record_header_bytes + payloads[i].size();
    // Room is kept for the sync mark the next sync() writes after the record.
    const bool roll = segments_.empty() || (!segments_.back().record_offsets.empty() &&
                                            segments_.back().size_bytes + buffer.size() +
                                                    record_bytes + mark_record_bytes >
                                                segment_bytes_max_);
    if (roll) {
      if (auto error = flush()) return error;
      if (auto error = start_segment(entries[i].index)) return error;
    }
    segment& open_segment = segments_.back();
    open_segment.record_offsets.push_back(open_segment.size_bytes + buffer.size());
    open_segment.record_terms.push_back(entries[i].term);
    frame_record(buffer, payloads[i].data(), payloads[i].size());
  }
  if (auto error = flush()) return error;
  last_index_ = index;
  last_term_ = term;
  return std::nullopt;
}

std::optional<std::string> log_store::remove_last_segment() {
  PREZ_ASSERT(!segments_.empty());
  if (segment_fd_ >= 0) ::close(segment_fd_);
  segment_fd_ = -1;
  segment_dirty_ = false;
  mark_unsynced_ = false;
  const std::string path = segments_.back().path;
  if (::unlink(path.c_str()) != 0) return fail(errno_text("cannot remove", path));
  // Durable before the next removal or truncation: a crash must never leave a later segment
  // behind an earlier one that lost entries (recovery would see an index gap).
  if (!sync_fd(dir_fd_, dir_, false)) return fail(errno_text("cannot fsync directory", dir_));
  segments_.pop_back();
  return std::nullopt;
}

std::optional<std::string> log_store::truncate_from(std::uint64_t index) {
  if (failed_) return failed_;
  PREZ_ASSERT(index >= 1);
  if (index > last_index_) return std::nullopt;
  bool removed = false;
  while (!segments_.empty() && segments_.back().first_index >= index) {
    if (auto error = remove_last_segment()) return error;
    removed = true;
  }
  if (removed)
    if (auto error = open_last_segment_for_append()) return error;
  if (segments_.empty()) empty_next_index_ = index; // the next append starts a segment there
  if (!segments_.empty()) {
    segment& last = segments_.back();
    const std::uint64_t keep = index - last.first_index;
    if (keep < last.record_offsets.size()) {
      const std::uint64_t cut = last.record_offsets[keep];
      if (::ftruncate(segment_fd_, static_cast<off_t>(cut)) != 0)
        return fail(errno_text("cannot truncate", last.path));
      last.record_offsets.resize(keep);
      last.record_terms.resize(keep);
      last.size_bytes = cut;
      segment_dirty_ = true;
      if (cut < last.marks_end_bytes) {
        // A sync mark past the cut must not outlive it: records written over the cut and torn
        // by a crash would lie before the mark and look like damaged synced data. Truncating
        // below a mark happens only when a new leader overwrites synced entries, so rarely.
        if (!sync_fd(segment_fd_, last.path, true))
          return fail(errno_text("cannot fdatasync", last.path));
        segment_dirty_ = false;
        mark_unsynced_ = false;
        last.marks_end_bytes = cut;
      }
    }
  }
  recompute_last();
  PREZ_ASSERT(last_index_ == index - 1);
  return std::nullopt;
}

std::optional<std::string> log_store::compact_to(std::uint64_t index) {
  if (failed_) return failed_;
  // segments_[1].first_index - 1 is the front segment's last index (contiguity). The front one
  // goes when it is all <= index, is not the last segment and does not hold the last entry
  // (a later segment does), so last_index_ and last_term_ stay what they are.
  while (segments_.size() > 1 && segments_[1].first_index - 1 <= index &&
         segments_[1].first_index <= last_index_) {
    const std::string path = segments_.front().path;
    if (::unlink(path.c_str()) != 0) return fail(errno_text("cannot remove", path));
    // Durable before the next removal: a crash must leave a suffix of the log, never a kept
    // segment before a removed one (recovery would see an index gap and refuse to start).
    if (!sync_fd(dir_fd_, dir_, false)) return fail(errno_text("cannot fsync directory", dir_));
    segments_.erase(segments_.begin());
  }
  PREZ_ASSERT(segments_.empty() || segments_.front().first_index <= last_index_ + 1);
  return std::nullopt;
}

std::optional<std::string> log_store::reset(std::uint64_t next_index) {
  if (failed_) return failed_;
  PREZ_ASSERT(next_index >= 1);
  // Newest first, each removal durable before the next (remove_last_segment): a crash leaves a
  // prefix of the old log, never a gap.
  while (!segments_.empty())
    if (auto error = remove_last_segment()) return error;
  empty_next_index_ = next_index;
  if (auto error = start_segment(next_index)) return error;
  recompute_last();
  PREZ_ASSERT(last_index_ == next_index - 1);
  PREZ_ASSERT(last_term_ == 0);
  // The new segment (its opening sync mark) and its directory entry.
  return sync();
}

std::optional<std::string> log_store::sync() {
  if (failed_) return failed_;
  if (segment_dirty_ && segment_fd_ >= 0) {
    if (!sync_fd(segment_fd_, segments_.back().path, true))
      return fail(errno_text("cannot fdatasync", segments_.back().path));
    segment_dirty_ = false;
  }
  if (dir_dirty_) {
    if (!sync_fd(dir_fd_, dir_, false)) return fail(errno_text("cannot fsync directory", dir_));
    dir_dirty_ = false;
  }
  return maybe_write_mark();
}

std::optional<std::string> log_store::maybe_write_mark() {
  // Everything in the open segment is durable now. Mark it, without a second fdatasync: the mark
  // becomes durable with the next sync, and recovery only needs a lower bound of what was ever
  // acknowledged (log_store.hpp).
  if (segment_fd_ < 0 || segment_dirty_) return std::nullopt;
  segment& open_segment = segments_.back();
  if (open_segment.size_bytes <= open_segment.marks_end_bytes) return std::nullopt;
  const std::string mark = encode_mark(open_segment.size_bytes);
  if (!write_all(segment_fd_, mark.data(), mark.size(), open_segment.size_bytes))
    return fail(errno_text("cannot write", open_segment.path));
  open_segment.size_bytes += mark.size();
  open_segment.marks_end_bytes = open_segment.size_bytes;
  mark_unsynced_ = true;
  return std::nullopt;
}

std::optional<std::string> log_store::save_hard_state(const hard_state_record& hard) {
  if (failed_) return failed_;
  msgpack::sbuffer buffer;
  msgpack::pack(buffer, hard);
  std::string record;
  frame_record(record, buffer.data(), buffer.size());
  const std::string temp_path = dir_ + "/" + hard_state_temp_name;
  const std::string path = dir_ + "/" + hard_state_name;
  const int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(errno_text("cannot create", temp_path));
  const bool written = write_all(fd, record.data(), record.size(), 0);
  const bool synced = written && sync_fd(fd, temp_path, false);
  const std::string error = errno_text(written ? "cannot fsync" : "cannot write", temp_path);
  ::close(fd);
  if (!synced) return fail(error);
  if (::rename(temp_path.c_str(), path.c_str()) != 0)
    return fail(errno_text("cannot rename to", path));
  if (!sync_fd(dir_fd_, dir_, false)) return fail(errno_text("cannot fsync directory", dir_));
  return std::nullopt;
}

} // namespace prez::storage
