// The segmented WAL: durability round trips, segment rollover, truncation, torn tails,
// corruption refusals, the hard-state file, and arbitrary bytes on disk.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "actors/storage/log_store.hpp"
#include "tests/temp_dir.hpp"

using namespace prez;
using namespace prez::storage;
namespace fs = std::filesystem;

namespace {

/// A fresh directory under /tmp, removed with everything in it at scope exit.
struct temp_dir : prez::testing::temp_dir {
  temp_dir() : prez::testing::temp_dir("prez-log-store") {}
};

std::string segment_file(std::uint64_t first_index) {
  char name[64];
  std::snprintf(name, sizeof name, "log-%020llu.seg", static_cast<unsigned long long>(first_index));
  return name;
}

log_entry make_entry(std::uint64_t index, std::uint64_t term, std::string data = {}) {
  log_entry entry;
  entry.index = index;
  entry.term = term;
  entry.type = static_cast<std::uint8_t>(entry_type::command);
  entry.data = data.empty() ? "value-" + std::to_string(index) + std::string("\0\x01", 2) : data;
  return entry;
}

std::vector<log_entry> make_entries(std::uint64_t first, std::uint64_t count, std::uint64_t term) {
  std::vector<log_entry> entries;
  for (std::uint64_t i = 0; i < count; ++i)
    entries.push_back(make_entry(first + i, term));
  return entries;
}

std::unique_ptr<log_store> open_ok(const temp_dir& dir, recovered_state& state,
                                   std::size_t segment_bytes = limits::segment_bytes_max) {
  auto opened = log_store::open(dir.path, state, segment_bytes);
  if (auto* error = std::get_if<std::string>(&opened)) FAIL("open failed: " << *error);
  return std::move(std::get<std::unique_ptr<log_store>>(opened));
}

std::string open_error(const temp_dir& dir, std::size_t segment_bytes = limits::segment_bytes_max) {
  recovered_state state;
  auto opened = log_store::open(dir.path, state, segment_bytes);
  if (std::holds_alternative<std::unique_ptr<log_store>>(opened)) return {};
  return std::get<std::string>(opened);
}

/// Writes `entries` into a fresh store in `dir` and syncs it.
void write_log(const temp_dir& dir, const std::vector<log_entry>& entries,
               std::size_t segment_bytes = limits::segment_bytes_max) {
  recovered_state state;
  auto store = open_ok(dir, state, segment_bytes);
  REQUIRE_FALSE(store->append(entries).has_value());
  REQUIRE_FALSE(store->sync().has_value());
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// A sync mark record (log_store.hpp): length 9, payload 0xcf + 8 bytes.
constexpr std::size_t mark_bytes = 17;

bool is_mark_at(const std::string& bytes, std::size_t offset) {
  return offset + mark_bytes <= bytes.size() && bytes.compare(offset, 4, "\x09\0\0\0", 4) == 0 &&
         static_cast<unsigned char>(bytes[offset + 8]) == 0xcf;
}

/// Byte offset of each record in a segment file, by walking the length fields: the log entries
/// (`marks` false) or the sync marks (`marks` true).
std::vector<std::size_t> record_offsets(const std::string& bytes, bool marks = false) {
  std::vector<std::size_t> offsets;
  std::size_t offset = 0;
  while (offset + 8 <= bytes.size()) {
    if (is_mark_at(bytes, offset) == marks) offsets.push_back(offset);
    std::uint32_t length = 0;
    for (int i = 3; i >= 0; --i)
      length =
          (length << 8) | static_cast<unsigned char>(bytes[offset + static_cast<std::size_t>(i)]);
    offset += 8 + length;
  }
  return offsets;
}

std::vector<std::size_t> mark_offsets(const std::string& bytes) {
  return record_offsets(bytes, true);
}

/// The same segment as written before sync marks existed: every mark removed.
std::string without_marks(const std::string& bytes) {
  std::string stripped = bytes;
  const auto marks = mark_offsets(bytes);
  for (auto it = marks.rbegin(); it != marks.rend(); ++it)
    stripped.erase(*it, mark_bytes);
  return stripped;
}

/// Appends `entries` to the store in `dir` and closes it without a sync: the process "dies"
/// with them written but not synced (a group commit in flight).
void append_unsynced(const temp_dir& dir, const std::vector<log_entry>& entries) {
  recovered_state state;
  auto store = open_ok(dir, state);
  REQUIRE_FALSE(store->append(entries).has_value());
}

void flip_bit(std::string& bytes, std::size_t at) {
  bytes[at] = static_cast<char>(bytes[at] ^ 0x01);
}

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

} // namespace

TEST_CASE("crc32c matches the Castagnoli check value", "[log_store]") {
  CHECK(crc32c("123456789", 9) == 0xE3069283u);
  CHECK(crc32c("", 0) == 0u);
}

TEST_CASE("crc32c_extend continues a checksum over pieces", "[log_store]") {
  const std::string text = "123456789";
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    const std::uint32_t head = crc32c(text.data(), cut);
    CHECK(crc32c_extend(head, text.data() + cut, text.size() - cut) == 0xE3069283u);
  }
  CHECK(crc32c_extend(0, text.data(), text.size()) == 0xE3069283u);
  CHECK(crc32c_extend(0xE3069283u, nullptr, 0) == 0xE3069283u);
}

TEST_CASE("an empty directory opens as an empty log with zero hard state", "[log_store]") {
  temp_dir dir;
  recovered_state state;
  auto store = open_ok(dir, state);
  CHECK(state.entries.empty());
  CHECK(state.hard == hard_state_record{});
  CHECK(state.truncated_tail_bytes == 0);
  CHECK(store->last_index() == 0);
  CHECK(store->last_term() == 0);
  CHECK(store->segment_count() == 0);
  CHECK_FALSE(store->sync().has_value());
}

TEST_CASE("a missing data directory is created", "[log_store]") {
  temp_dir dir;
  recovered_state state;
  auto opened = log_store::open(dir.file("a/b"), state);
  CHECK(std::holds_alternative<std::unique_ptr<log_store>>(opened));
  CHECK(fs::is_directory(dir.file("a/b")));
}

TEST_CASE("appended entries survive a reopen, binary data included", "[log_store]") {
  temp_dir dir;
  auto entries = make_entries(1, 10, 1);
  entries.push_back(make_entry(11, 3, std::string("\0\0\xff\r\n", 5)));
  entries.push_back(make_entry(12, 3, std::string(100000, 'x')));
  log_entry noop = make_entry(13, 4);
  noop.type = static_cast<std::uint8_t>(entry_type::noop);
  noop.data.clear();
  entries.push_back(noop);
  {
    recovered_state state;
    auto store = open_ok(dir, state);
    REQUIRE_FALSE(store->append({entries.begin(), entries.begin() + 5}).has_value());
    REQUIRE_FALSE(store->append({entries.begin() + 5, entries.end()}).has_value());
    CHECK(store->last_index() == 13);
    CHECK(store->last_term() == 4);
    REQUIRE_FALSE(store->sync().has_value());
  }
  recovered_state state;
  auto store = open_ok(dir, state);
  CHECK(state.entries == entries);
  CHECK(state.truncated_tail_bytes == 0);
  CHECK(store->last_index() == 13);
  CHECK(store->last_term() == 4);
  // Appending continues the log after a reopen.
  REQUIRE_FALSE(store->append({make_entry(14, 4)}).has_value());
  REQUIRE_FALSE(store->sync().has_value());
  store.reset();
  recovered_state again;
  open_ok(dir, again);
  REQUIRE(again.entries.size() == 14);
  CHECK(again.entries.back() == make_entry(14, 4));
}

TEST_CASE("open makes what it recovered durable before the log counts as persisted",
          "[log_store]") {
  // A node killed after write(2) but before fdatasync restarts with its tail in the page cache
  // only; the server then reports every recovered entry as persisted, so open must sync it.
  temp_dir dir;
  {
    recovered_state state;
    auto store = open_ok(dir, state);
    REQUIRE_FALSE(store->save_hard_state({2, "node-a"}).has_value());
    REQUIRE_FALSE(store->append(make_entries(1, 3, 2)).has_value());
    // No sync(): the process "dies" here.
  }
  std::vector<std::string> synced;
  recovered_state state;
  auto opened = log_store::open(dir.path, state, limits::segment_bytes_max,
                                [&](const std::string& path) { synced.push_back(path); });
  REQUIRE(std::holds_alternative<std::unique_ptr<log_store>>(opened));
  CHECK(state.entries.size() == 3);
  auto was_synced = [&](const std::string& path) {
    return std::find(synced.begin(), synced.end(), path) != synced.end();
  };
  INFO("synced: " << synced.size() << " paths");
  CHECK(was_synced(dir.file(segment_file(1))));
  CHECK(was_synced(dir.file("hard-state")));
  CHECK(was_synced(dir.path));
}

TEST_CASE("open makes a cut torn tail durable", "[log_store]") {
  temp_dir dir;
  write_log(dir, make_entries(1, 3, 1));
  const std::string path = dir.file(segment_file(1));
  write_bytes(path, read_bytes(path).substr(0, fs::file_size(path) - 3));
  std::vector<std::string> synced;
  recovered_state state;
  auto opened =
      log_store::open(dir.path, state, limits::segment_bytes_max,
                      [&](const std::string& synced_path) { synced.push_back(synced_path); });
  REQUIRE(std::holds_alternative<std::unique_ptr<log_store>>(opened));
  CHECK(state.truncated_tail_bytes > 0);
  CHECK(std::find(synced.begin(), synced.end(), path) != synced.end());
  CHECK(std::find(synced.begin(), synced.end(), dir.path) != synced.end());
}

TEST_CASE("a second open of the same directory is refused while the first is open", "[log_store]") {
  temp_dir dir;
  recovered_state state;
  auto store = open_ok(dir, state);
  CHECK_THAT(open_error(dir), Catch::Matchers::Contains("in use"));
  store.reset();
  CHECK(open_error(dir).empty());
}

TEST_CASE("truncate then append then reopen", "[log_store]") {
  temp_dir dir;
  {
    recovered_state state;
    auto store = open_ok(dir, state);
    REQUIRE_FALSE(store->append(make_entries(1, 10, 1)).has_value());
    REQUIRE_FALSE(store->truncate_from(11).has_value()); // past the end: no-op
    CHECK(store->last_index() == 10);
    REQUIRE_FALSE(store->truncate_from(6).has_value());
    CHECK(store->last_index() == 5);
    CHECK(store->last_term() == 1);
    REQUIRE_FALSE(store->append(make_entries(6, 3, 2)).has_value());
    REQUIRE_FALSE(store->sync().has_value());
  }
  recovered_state state;
  auto store = open_ok(dir, state);
  auto expected = make_entries(1, 5, 1);
  for (auto& entry : make_entries(6, 3, 2))
    expected.push_back(entry);
  CHECK(state.entries == expected);
  CHECK(store->last_term() == 2);
}

TEST_CASE("segments roll over at the size limit and recover in order", "[log_store]") {
  temp_dir dir;
  const std::size_t segment_bytes = 200; // each record is about 30 bytes
  const auto entries = make_entries(1, 50, 1);
  std::size_t segments = 0;
  {
    recovered_state state;
    auto store = open_ok(dir, state, segment_bytes);
    for (const auto& entry : entries)
      REQUIRE_FALSE(store->append({entry}).has_value());
    REQUIRE_FALSE(store->sync().has_value());
    segments = store->segment_count();
    CHECK(segments > 5);
  }
  CHECK(fs::exists(dir.file(segment_file(1))));
  std::size_t files = 0;
  for (const auto& item : fs::directory_iterator(dir.path)) {
    const auto name = item.path().filename().string();
    if (name.rfind("log-", 0) == 0) {
      ++files;
      CHECK(fs::file_size(item.path()) <= segment_bytes);
    }
  }
  CHECK(files == segments);
  recovered_state state;
  auto store = open_ok(dir, state, segment_bytes);
  CHECK(state.entries == entries);
  CHECK(store->segment_count() == segments);

  SECTION("one big batch rolls over the same way") {
    temp_dir other;
    write_log(other, entries, segment_bytes);
    recovered_state other_state;
    auto other_store = open_ok(other, other_state, segment_bytes);
    CHECK(other_state.entries == entries);
    CHECK(other_store->segment_count() == segments);
  }
  SECTION("a record bigger than a segment gets a segment of its own") {
    REQUIRE_FALSE(store->append({make_entry(51, 2, std::string(1000, 'b'))}).has_value());
    REQUIRE_FALSE(store->append({make_entry(52, 2)}).has_value());
    REQUIRE_FALSE(store->sync().has_value());
    CHECK(store->segment_count() == segments + 2);
    store.reset();
    recovered_state reopened;
    open_ok(dir, reopened, segment_bytes);
    CHECK(reopened.entries.size() == 52);
  }
}

TEST_CASE("truncation across segments deletes whole segments", "[log_store]") {
  temp_dir dir;
  const std::size_t segment_bytes = 200;
  write_log(dir, make_entries(1, 50, 1), segment_bytes);
  for (std::uint64_t cut : {45u, 30u, 7u, 2u, 1u}) {
    recovered_state state;
    auto store = open_ok(dir, state, segment_bytes);
    REQUIRE(state.entries.size() == 50);
    REQUIRE_FALSE(store->truncate_from(cut).has_value());
    CHECK(store->last_index() == cut - 1);
    CHECK(store->last_term() == (cut == 1 ? 0u : 1u));
    auto tail = make_entries(cut, 51 - cut, 2);
    REQUIRE_FALSE(store->append(tail).has_value());
    REQUIRE_FALSE(store->sync().has_value());
    store.reset();
    recovered_state reopened;
    store = open_ok(dir, reopened, segment_bytes);
    REQUIRE(reopened.entries.size() == 50);
    CHECK(reopened.entries[cut - 1] == make_entry(cut, 2));
    if (cut > 1) CHECK(reopened.entries[cut - 2].term == 1);
    // Back to all-term-1 for the next round.
    REQUIRE_FALSE(store->truncate_from(1).has_value());
    CHECK(store->segment_count() == 0);
    REQUIRE_FALSE(store->append(make_entries(1, 50, 1)).has_value());
    REQUIRE_FALSE(store->sync().has_value());
  }
}

TEST_CASE("a torn last record is cut at every possible byte", "[log_store]") {
  temp_dir dir;
  const auto entries = make_entries(1, 4, 1);
  write_log(dir, entries);
  const std::string path = dir.file(segment_file(1));
  const std::string intact = read_bytes(path);
  const auto offsets = record_offsets(intact);
  REQUIRE(offsets.size() == 4);
  // The segment ends with the sync mark written after the last sync.
  const std::size_t last_mark = mark_offsets(intact).back();
  REQUIRE(last_mark + mark_bytes == intact.size());
  for (std::size_t cut = offsets.back(); cut < intact.size(); ++cut) {
    INFO("cut at " << cut);
    write_bytes(path, intact.substr(0, cut));
    recovered_state state;
    auto store = open_ok(dir, state);
    if (cut >= last_mark) { // only the mark is torn: every entry stays
      CHECK(state.entries == entries);
      CHECK(state.truncated_tail_bytes == cut - last_mark);
      CHECK(fs::file_size(path) == last_mark);
      continue;
    }
    CHECK(state.entries == std::vector<log_entry>(entries.begin(), entries.begin() + 3));
    CHECK(state.truncated_tail_bytes == cut - offsets.back());
    CHECK(fs::file_size(path) == offsets.back());
    // The log continues cleanly after the cut.
    REQUIRE_FALSE(store->append({entries[3]}).has_value());
    REQUIRE_FALSE(store->sync().has_value());
    store.reset();
    recovered_state reopened;
    open_ok(dir, reopened);
    CHECK(reopened.entries == entries);
    CHECK(reopened.truncated_tail_bytes == 0);
  }
}

TEST_CASE("a torn first record leaves an empty last segment that is reused", "[log_store]") {
  temp_dir dir;
  write_log(dir, make_entries(1, 1, 1));
  const std::string path = dir.file(segment_file(1));
  write_bytes(path, read_bytes(path).substr(0, 5));
  recovered_state state;
  auto store = open_ok(dir, state);
  CHECK(state.entries.empty());
  CHECK(state.truncated_tail_bytes == 5);
  REQUIRE_FALSE(store->append(make_entries(1, 2, 1)).has_value());
  REQUIRE_FALSE(store->sync().has_value());
  CHECK(store->segment_count() == 1);
}

TEST_CASE("a bit flip in the last record's payload with nothing after it is a torn tail",
          "[log_store]") {
  temp_dir dir;
  const auto entries = make_entries(1, 5, 1);
  write_log(dir, {entries.begin(), entries.begin() + 4});
  append_unsynced(dir, {entries[4]});
  const std::string path = dir.file(segment_file(1));
  std::string bytes = read_bytes(path);
  const auto offsets = record_offsets(bytes);
  REQUIRE(offsets.size() == 5);
  bytes[bytes.size() - 2] = static_cast<char>(bytes[bytes.size() - 2] ^ 0x10);
  write_bytes(path, bytes);
  recovered_state state;
  open_ok(dir, state);
  CHECK(state.entries == std::vector<log_entry>(entries.begin(), entries.begin() + 4));
  CHECK(state.truncated_tail_bytes == bytes.size() - offsets.back());
}

TEST_CASE("zeros after the last record are a torn tail", "[log_store]") {
  temp_dir dir;
  write_log(dir, make_entries(1, 3, 1));
  const std::string path = dir.file(segment_file(1));
  write_bytes(path, read_bytes(path) + std::string(4096, '\0'));
  recovered_state state;
  open_ok(dir, state);
  CHECK(state.entries.size() == 3);
  CHECK(state.truncated_tail_bytes == 4096);
}

TEST_CASE("corruption before the tail refuses to start with file, offset and reason",
          "[log_store]") {
  temp_dir dir;
  write_log(dir, make_entries(1, 5, 1));
  const std::string path = dir.file(segment_file(1));
  const std::string intact = read_bytes(path);
  const auto offsets = record_offsets(intact);

  const std::size_t last_mark = mark_offsets(intact).back();

  SECTION("a CRC mismatch in a middle record") {
    std::string bytes = intact;
    bytes[offsets[2] + 12] = static_cast<char>(bytes[offsets[2] + 12] ^ 0x01);
    write_bytes(path, bytes);
    const std::string error = open_error(dir);
    CHECK_THAT(error, Catch::Matchers::Contains(segment_file(1) + ": offset " +
                                                std::to_string(offsets[2]) +
                                                ": CRC mismatch before the sync mark at offset " +
                                                std::to_string(last_mark)));
    CHECK_THAT(error, Catch::Matchers::Contains("refusing to start"));
  }
  SECTION("a length field bit flip that runs past the end of the file") {
    std::string bytes = intact;
    bytes[offsets[1] + 2] = static_cast<char>(0x01); // length += 65536
    write_bytes(path, bytes);
    const std::string error = open_error(dir);
    CHECK_THAT(error, Catch::Matchers::Contains(": offset " + std::to_string(offsets[1]) +
                                                ": record length"));
    CHECK_THAT(error, Catch::Matchers::Contains("runs past the end of the file before the sync "
                                                "mark at offset " +
                                                std::to_string(last_mark)));
  }
  SECTION("an absurd length followed by valid records") {
    std::string bytes = intact;
    bytes[offsets[3] + 3] = static_cast<char>(0x7f);
    write_bytes(path, bytes);
    CHECK_THAT(open_error(dir), Catch::Matchers::Contains("invalid record length"));
  }
  SECTION("a record is removed from the middle") {
    write_bytes(path, intact.substr(0, offsets[1]) + intact.substr(offsets[2]));
    CHECK_THAT(open_error(dir), Catch::Matchers::Contains(": offset " + std::to_string(offsets[1]) +
                                                          ": index 3 where 2 was expected"));
  }
  SECTION("a term lower than the one before") {
    temp_dir other;
    write_log(other, {make_entry(1, 2)});
    const std::string path_other = other.file(segment_file(1));
    const std::string second =
        intact.substr(offsets[1], offsets[2] - offsets[1]); // index 2, term 1
    write_bytes(path_other, read_bytes(path_other) + second);
    CHECK_THAT(open_error(other), Catch::Matchers::Contains("terms must not decrease"));
  }
  SECTION("the file survives a refusal untouched") {
    std::string bytes = intact;
    bytes[offsets[0] + 9] = static_cast<char>(bytes[offsets[0] + 9] ^ 0x40);
    write_bytes(path, bytes);
    CHECK_FALSE(open_error(dir).empty());
    CHECK(read_bytes(path) == bytes);
  }
}

TEST_CASE("a damaged record in the unsynced tail with intact records after it is a torn group "
          "commit",
          "[log_store]") {
  // A power loss during a group commit can persist the batch's pages out of order: a record in
  // the middle is garbage while later ones made it. None of them was acknowledged (no sync
  // finished), so recovery cuts the tail at the first bad record and starts.
  temp_dir dir;
  const auto entries = make_entries(1, 10, 1);
  write_log(dir, {entries.begin(), entries.begin() + 5}); // synced: a mark follows entry 5
  append_unsynced(dir, {entries.begin() + 5, entries.end()});
  const std::string path = dir.file(segment_file(1));
  const std::string written = read_bytes(path);
  const auto offsets = record_offsets(written);
  REQUIRE(offsets.size() == 10);

  SECTION("a CRC mismatch in the middle of the tail") {
    std::string bytes = written;
    flip_bit(bytes, offsets[6] + 12);
    write_bytes(path, bytes);
    recovered_state state;
    auto store = open_ok(dir, state);
    CHECK(state.entries == std::vector<log_entry>(entries.begin(), entries.begin() + 6));
    CHECK(state.truncated_tail_bytes == written.size() - offsets[6]);
    CHECK(fs::file_size(path) == offsets[6]);
    // The log goes on from the cut, and the next open finds it clean.
    REQUIRE_FALSE(store->append({entries.begin() + 6, entries.end()}).has_value());
    REQUIRE_FALSE(store->sync().has_value());
    store.reset();
    recovered_state again;
    open_ok(dir, again);
    CHECK(again.entries == entries);
    CHECK(again.truncated_tail_bytes == 0);
  }
  SECTION("a page of zeros in the middle of the tail") {
    std::string bytes = written;
    std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(offsets[6]),
              bytes.begin() + static_cast<std::ptrdiff_t>(offsets[8]), '\0');
    write_bytes(path, bytes);
    recovered_state state;
    open_ok(dir, state);
    CHECK(state.entries == std::vector<log_entry>(entries.begin(), entries.begin() + 6));
    CHECK(state.truncated_tail_bytes == written.size() - offsets[6]);
  }
  SECTION("the last sync mark itself did not reach the disk") {
    // The mark after a sync is made durable by the next sync only; the records it covers were
    // synced, so only what follows them can be torn.
    const auto marks = mark_offsets(written);
    REQUIRE(marks.size() == 2); // the segment's first mark, and the one after the sync
    REQUIRE(marks.back() == offsets[5] - mark_bytes);
    std::string bytes = written;
    std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(marks.back()),
              bytes.begin() + static_cast<std::ptrdiff_t>(offsets[7]), '\0');
    write_bytes(path, bytes);
    recovered_state state;
    open_ok(dir, state);
    CHECK(state.entries == std::vector<log_entry>(entries.begin(), entries.begin() + 5));
    CHECK(state.truncated_tail_bytes == written.size() - marks.back());
  }
}

TEST_CASE("damage before the last sync mark is corruption and refuses to start", "[log_store]") {
  temp_dir dir;
  const auto entries = make_entries(1, 12, 1);
  write_log(dir, {entries.begin(), entries.begin() + 5});
  write_log(dir, {entries.begin() + 5, entries.begin() + 10});
  append_unsynced(dir, {entries.begin() + 10, entries.end()});
  const std::string path = dir.file(segment_file(1));
  const std::string written = read_bytes(path);
  const auto offsets = record_offsets(written);
  REQUIRE(offsets.size() == 12);
  const auto marks = mark_offsets(written);
  REQUIRE(marks.size() == 3);
  REQUIRE(marks.back() == offsets[10] - mark_bytes);

  for (std::size_t damaged : {2u, 6u, 9u}) {
    INFO("damaged entry " << damaged + 1);
    std::string bytes = written;
    flip_bit(bytes, offsets[damaged] + 10);
    write_bytes(path, bytes);
    CHECK_THAT(open_error(dir),
               Catch::Matchers::Contains(segment_file(1) + ": offset " +
                                         std::to_string(offsets[damaged]) +
                                         ": CRC mismatch before the sync mark at offset "));
    CHECK(read_bytes(path) == bytes); // a refusal changes nothing
  }
  SECTION("a damaged sync mark with a later one after it") {
    std::string bytes = written;
    flip_bit(bytes, marks[1] + 12);
    write_bytes(path, bytes);
    CHECK_THAT(open_error(dir),
               Catch::Matchers::Contains(": offset " + std::to_string(marks[1]) +
                                         ": CRC mismatch before the sync mark at offset " +
                                         std::to_string(marks[2])));
  }
  SECTION("a sync mark that records another offset") {
    temp_dir other;
    write_log(other, {entries[0]});
    const std::string other_path = other.file(segment_file(1));
    // The segment's first mark (offset 0) copied to the end, where it is at the wrong place.
    write_bytes(other_path, read_bytes(other_path) + read_bytes(other_path).substr(0, mark_bytes));
    CHECK_THAT(open_error(other), Catch::Matchers::Contains("sync mark records offset 0"));
  }
}

TEST_CASE("a segment without sync marks is judged as before them", "[log_store]") {
  // Segments written before sync marks existed: a bad record is a torn tail only when nothing
  // valid follows it.
  temp_dir dir;
  const auto entries = make_entries(1, 5, 1);
  write_log(dir, entries);
  const std::string path = dir.file(segment_file(1));
  const std::string intact = without_marks(read_bytes(path));
  REQUIRE(mark_offsets(intact).empty());
  const auto offsets = record_offsets(intact);
  REQUIRE(offsets.size() == 5);
  write_bytes(path, intact);
  {
    recovered_state state;
    open_ok(dir, state);
    CHECK(state.entries == entries);
  }
  SECTION("a CRC mismatch in a middle record is corruption") {
    std::string bytes = intact;
    flip_bit(bytes, offsets[2] + 12);
    write_bytes(path, bytes);
    CHECK_THAT(open_error(dir),
               Catch::Matchers::Contains(
                   segment_file(1) + ": offset " + std::to_string(offsets[2]) +
                   ": CRC mismatch in a record followed by " +
                   std::to_string(intact.size() - offsets[3]) + " more bytes; refusing to start"));
  }
  SECTION("a length that runs past the end with a valid record after it is corruption") {
    std::string bytes = intact;
    bytes[offsets[1] + 2] = static_cast<char>(0x01); // length += 65536
    write_bytes(path, bytes);
    CHECK_THAT(open_error(dir),
               Catch::Matchers::Contains("runs past the end of the file but a valid record "
                                         "follows at offset " +
                                         std::to_string(offsets[2])));
  }
  SECTION("a bit flip in the last record is a torn tail") {
    std::string bytes = intact;
    flip_bit(bytes, bytes.size() - 2);
    write_bytes(path, bytes);
    recovered_state state;
    auto store = open_ok(dir, state);
    CHECK(state.entries == std::vector<log_entry>(entries.begin(), entries.begin() + 4));
    CHECK(state.truncated_tail_bytes == intact.size() - offsets.back());
    // Appending goes on in the same segment; the next sync marks it.
    REQUIRE_FALSE(store->append({entries[4]}).has_value());
    REQUIRE_FALSE(store->sync().has_value());
    CHECK(mark_offsets(read_bytes(path)).size() == 1);
  }
}

TEST_CASE("a sync costs one fdatasync; its mark waits for the next one", "[log_store]") {
  temp_dir dir;
  const std::string path = dir.file(segment_file(1));
  std::size_t segment_syncs = 0;
  recovered_state state;
  auto opened =
      log_store::open(dir.path, state, limits::segment_bytes_max, [&](const std::string& synced) {
        if (synced == path) ++segment_syncs;
      });
  auto store = std::move(std::get<std::unique_ptr<log_store>>(opened));
  for (std::uint64_t index = 1; index <= 5; ++index) {
    REQUIRE_FALSE(store->append({make_entry(index, 1)}).has_value());
    REQUIRE_FALSE(store->sync().has_value());
    CHECK(segment_syncs == index);
    CHECK(mark_offsets(read_bytes(path)).size() == index + 1); // the first mark, one per sync
  }
  // Nothing new: no fdatasync, no mark.
  REQUIRE_FALSE(store->sync().has_value());
  CHECK(segment_syncs == 5);
  CHECK(mark_offsets(read_bytes(path)).size() == 6);

  SECTION("truncating below a mark makes the cut durable at once") {
    REQUIRE_FALSE(store->truncate_from(3).has_value());
    CHECK(segment_syncs == 6);
    CHECK(mark_offsets(read_bytes(path)).size() == 3);
    REQUIRE_FALSE(store->append(make_entries(3, 2, 2)).has_value());
    REQUIRE_FALSE(store->sync().has_value());
    store.reset();
    recovered_state again;
    open_ok(dir, again);
    REQUIRE(again.entries.size() == 4);
    CHECK(again.entries[3] == make_entry(4, 2));
  }
}

TEST_CASE("damage in a segment that is not the last refuses to start", "[log_store]") {
  temp_dir dir;
  const std::size_t segment_bytes = 200;
  write_log(dir, make_entries(1, 30, 1), segment_bytes);
  const std::string first = dir.file(segment_file(1));
  const std::string intact = read_bytes(first);

  SECTION("a bit flip in its last record") {
    std::string bytes = intact;
    bytes[bytes.size() - 1] = static_cast<char>(bytes[bytes.size() - 1] ^ 0x01);
    write_bytes(first, bytes);
    CHECK_THAT(open_error(dir, segment_bytes),
               Catch::Matchers::Contains(segment_file(1) + ": offset " +
                                         std::to_string(record_offsets(intact).back()) +
                                         ": CRC mismatch"));
  }
  SECTION("its tail cut off") {
    write_bytes(first, intact.substr(0, intact.size() - 3));
    CHECK_THAT(open_error(dir, segment_bytes),
               Catch::Matchers::Contains("in a segment that is not the last"));
  }
  SECTION("a missing middle segment is an index gap") {
    std::vector<fs::path> segments;
    for (const auto& item : fs::directory_iterator(dir.path))
      if (item.path().filename().string().rfind("log-", 0) == 0) segments.push_back(item.path());
    std::sort(segments.begin(), segments.end());
    REQUIRE(segments.size() >= 3);
    fs::remove(segments[1]);
    CHECK_THAT(open_error(dir, segment_bytes),
               Catch::Matchers::Contains("segment starts at index"));
  }
  SECTION("a log that does not start at index 1 opens from its first segment (compaction)") {
    // Whether a snapshot covers the missing prefix is for the caller to check (log_store.hpp).
    fs::remove(first);
    recovered_state state;
    auto store = open_ok(dir, state, segment_bytes);
    REQUIRE_FALSE(state.entries.empty());
    CHECK(state.first_index > 1);
    CHECK(state.entries.front().index == state.first_index);
    CHECK(state.entries.back().index == 30);
    CHECK(store->first_index() == state.first_index);
  }
}

TEST_CASE("hard state round-trips and is replaced atomically", "[log_store]") {
  temp_dir dir;
  {
    recovered_state state;
    auto store = open_ok(dir, state);
    CHECK(state.hard == hard_state_record{});
    REQUIRE_FALSE(store->save_hard_state({3, "node-b"}).has_value());
    REQUIRE_FALSE(store->save_hard_state({7, std::string("n\0de", 4)}).has_value());
    CHECK_FALSE(fs::exists(dir.file("hard-state.tmp")));
  }
  recovered_state state;
  auto store = open_ok(dir, state);
  CHECK(state.hard == hard_state_record{7, std::string("n\0de", 4)});
  REQUIRE_FALSE(store->save_hard_state({8, ""}).has_value());
  store.reset();
  // A stale temp file from a crash mid-save is ignored and removed.
  write_bytes(dir.file("hard-state.tmp"), "garbage");
  recovered_state again;
  open_ok(dir, again);
  CHECK(again.hard == hard_state_record{8, ""});
  CHECK_FALSE(fs::exists(dir.file("hard-state.tmp")));
}

TEST_CASE("a damaged hard-state file refuses to start", "[log_store]") {
  temp_dir dir;
  {
    recovered_state state;
    auto store = open_ok(dir, state);
    REQUIRE_FALSE(store->save_hard_state({5, "node-c"}).has_value());
  }
  const std::string path = dir.file("hard-state");
  const std::string intact = read_bytes(path);
  for (std::size_t cut = 0; cut < intact.size(); ++cut) {
    write_bytes(path, intact.substr(0, cut));
    CHECK_THAT(open_error(dir), Catch::Matchers::Contains("hard-state"));
  }
  for (std::size_t at = 0; at < intact.size(); ++at) {
    std::string bytes = intact;
    bytes[at] = static_cast<char>(bytes[at] ^ 0x04);
    write_bytes(path, bytes);
    CHECK_THAT(open_error(dir), Catch::Matchers::Contains("refusing to start"));
  }
  write_bytes(path, "this is not a hard state");
  CHECK_FALSE(open_error(dir).empty());
  write_bytes(path, std::string(limits::hard_state_bytes_max + 1, 'x'));
  CHECK_THAT(open_error(dir), Catch::Matchers::Contains("larger than any valid one"));
}

TEST_CASE("an entry too large for a record is refused before anything is written", "[log_store]") {
  temp_dir dir;
  recovered_state state;
  auto store = open_ok(dir, state);
  REQUIRE_FALSE(store->append(make_entries(1, 1, 1)).has_value());
  const auto error = store->append(
      {make_entry(2, 1), make_entry(3, 1, std::string(limits::log_record_bytes_max, 'x'))});
  REQUIRE(error.has_value());
  CHECK_THAT(*error, Catch::Matchers::Contains("over log_record_bytes_max"));
  CHECK(store->last_index() == 1);
  REQUIRE_FALSE(store->append({make_entry(2, 1)}).has_value()); // still usable
}

// --- compaction and reset (snapshots, issue 8) ---------------------------------------------------

namespace {

/// First indexes of the segment files in `dir`, ascending.
std::vector<std::uint64_t> segment_indexes(const temp_dir& dir) {
  std::vector<std::uint64_t> indexes;
  for (const auto& item : fs::directory_iterator(dir.path)) {
    const std::string name = item.path().filename().string();
    if (name.size() == 28 && name.rfind("log-", 0) == 0)
      indexes.push_back(std::stoull(name.substr(4, 20)));
  }
  std::sort(indexes.begin(), indexes.end());
  return indexes;
}

/// Opens `dir` with an observer that records every synced path into `synced`.
std::unique_ptr<log_store> open_observed(const temp_dir& dir, recovered_state& state,
                                         std::vector<std::string>& synced,
                                         std::size_t segment_bytes = limits::segment_bytes_max) {
  auto opened = log_store::open(dir.path, state, segment_bytes,
                                [&synced](const std::string& path) { synced.push_back(path); });
  if (auto* error = std::get_if<std::string>(&opened)) FAIL("open failed: " << *error);
  return std::move(std::get<std::unique_ptr<log_store>>(opened));
}

} // namespace

TEST_CASE("compact_to deletes whole segments at or below the index and recovery starts after them",
          "[log_store][compaction]") {
  temp_dir dir;
  const std::size_t segment_bytes = 200;
  write_log(dir, make_entries(1, 50, 1), segment_bytes);
  const auto before = segment_indexes(dir);
  REQUIRE(before.size() >= 5);
  for (std::uint64_t index : {0u, 1u, 25u, 49u, 50u, 1000u}) {
    DYNAMIC_SECTION("compact_to(" << index << ")") {
      // The first kept segment is the newest whose first index is <= index + 1, and never the
      // last one.
      std::uint64_t expected_first = before.front();
      for (std::uint64_t first : before)
        if (first <= index + 1) expected_first = first;
      {
        recovered_state state;
        auto store = open_ok(dir, state, segment_bytes);
        REQUIRE_FALSE(store->compact_to(index).has_value());
        CHECK(store->first_index() == expected_first);
        CHECK(store->last_index() == 50);
        CHECK(store->last_term() == 1);
        auto on_disk = segment_indexes(dir);
        REQUIRE_FALSE(on_disk.empty());
        CHECK(on_disk.front() == expected_first);
        CHECK(on_disk.back() == before.back());
        CHECK(on_disk.size() == store->segment_count());
        // The log goes on after compaction.
        REQUIRE_FALSE(store->append({make_entry(51, 2)}).has_value());
        REQUIRE_FALSE(store->sync().has_value());
      }
      recovered_state state;
      auto store = open_ok(dir, state, segment_bytes);
      CHECK(state.first_index == expected_first);
      CHECK(store->first_index() == expected_first);
      REQUIRE(state.entries.size() == 51 - expected_first + 1);
      for (std::size_t i = 0; i + 1 < state.entries.size(); ++i)
        CHECK(state.entries[i] == make_entry(expected_first + i, 1));
      CHECK(state.entries.back() == make_entry(51, 2));
      CHECK(store->last_index() == 51);
      CHECK(store->last_term() == 2);
    }
  }
}

TEST_CASE("compact_to never removes the last segment nor the one holding the last entry",
          "[log_store][compaction]") {
  temp_dir dir;
  SECTION("a single segment stays") {
    write_log(dir, make_entries(1, 10, 3));
    recovered_state state;
    auto store = open_ok(dir, state);
    REQUIRE_FALSE(store->compact_to(10).has_value());
    REQUIRE_FALSE(store->compact_to(1000).has_value());
    CHECK(store->segment_count() == 1);
    CHECK(segment_indexes(dir) == std::vector<std::uint64_t>{1});
    CHECK(store->first_index() == 1);
    CHECK(store->last_index() == 10);
    CHECK(store->last_term() == 3);
  }
  SECTION("an empty last segment does not let the last entry go") {
    write_log(dir, make_entries(1, 10, 3));
    // An empty last segment, as recovery leaves after a torn first record: its opening mark.
    write_bytes(dir.file(segment_file(11)), read_bytes(dir.file(segment_file(1))).substr(0, 17));
    recovered_state state;
    auto store = open_ok(dir, state);
    REQUIRE(store->segment_count() == 2);
    REQUIRE(store->last_index() == 10);
    REQUIRE_FALSE(store->compact_to(1000).has_value());
    CHECK(store->segment_count() == 2);
    CHECK(segment_indexes(dir) == std::vector<std::uint64_t>{1, 11});
    CHECK(store->last_index() == 10);
    CHECK(store->last_term() == 3);
    store.reset();
    recovered_state again;
    open_ok(dir, again);
    CHECK(again.entries == make_entries(1, 10, 3));
  }
}

TEST_CASE("compact_to and reset fsync the directory; a no-op compaction syncs nothing",
          "[log_store][compaction]") {
  temp_dir dir;
  const std::size_t segment_bytes = 200;
  write_log(dir, make_entries(1, 50, 1), segment_bytes);
  const auto before = segment_indexes(dir);
  std::vector<std::string> synced;
  recovered_state state;
  auto store = open_observed(dir, state, synced, segment_bytes);
  const auto dir_syncs = [&] { return std::count(synced.begin(), synced.end(), dir.path); };

  synced.clear();
  REQUIRE_FALSE(store->compact_to(0).has_value());
  CHECK(synced.empty());

  synced.clear();
  REQUIRE_FALSE(store->compact_to(before[2] - 1).has_value()); // the first two segments go
  CHECK(store->segment_count() == before.size() - 2);
  CHECK(dir_syncs() == 2); // one per removal, so a crash leaves no gap

  synced.clear();
  REQUIRE_FALSE(store->reset(500).has_value());
  CHECK(dir_syncs() >= 1);
  // The new segment itself is durable, and the directory was synced after it was created.
  const auto segment_sync = std::find(synced.begin(), synced.end(), dir.file(segment_file(500)));
  REQUIRE(segment_sync != synced.end());
  CHECK(std::find(segment_sync, synced.end(), dir.path) != synced.end());
}

TEST_CASE("reset drops every entry and the next append takes the given index", "[log_store]") {
  temp_dir dir;
  const std::size_t segment_bytes = 200;
  SECTION("a log of several segments") {
    write_log(dir, make_entries(1, 50, 1), segment_bytes);
  }
  SECTION("a log the store has never written") {}
  SECTION("a log that already starts at the new first index") {
    recovered_state state;
    auto store = open_ok(dir, state, segment_bytes);
    REQUIRE_FALSE(store->reset(1000).has_value());
    REQUIRE_FALSE(store->append(make_entries(1000, 30, 3)).has_value());
    REQUIRE_FALSE(store->sync().has_value());
    REQUIRE(store->segment_count() > 1);
  }
  {
    recovered_state state;
    auto store = open_ok(dir, state, segment_bytes);
    REQUIRE_FALSE(store->reset(1000).has_value());
    CHECK(store->first_index() == 1000);
    CHECK(store->last_index() == 999);
    CHECK(store->last_term() == 0);
    CHECK(store->segment_count() == 1);
    CHECK(segment_indexes(dir) == std::vector<std::uint64_t>{1000});
  }
  {
    // Durable on return: a reopen before any append knows where the log starts.
    recovered_state state;
    auto store = open_ok(dir, state, segment_bytes);
    CHECK(state.entries.empty());
    CHECK(state.first_index == 1000);
    CHECK(store->first_index() == 1000);
    CHECK(store->last_index() == 999);
    CHECK(store->last_term() == 0);
    REQUIRE_FALSE(store->append(make_entries(1000, 20, 7)).has_value());
    REQUIRE_FALSE(store->sync().has_value());
    CHECK(store->last_index() == 1019);
    CHECK(store->last_term() == 7);
  }
  recovered_state state;
  auto store = open_ok(dir, state, segment_bytes);
  CHECK(state.first_index == 1000);
  CHECK(state.entries == make_entries(1000, 20, 7));
  CHECK(store->first_index() == 1000);
  // Truncation and compaction work above the new base.
  REQUIRE_FALSE(store->truncate_from(1010).has_value());
  CHECK(store->last_index() == 1009);
  REQUIRE_FALSE(store->compact_to(1005).has_value());
  CHECK(store->last_index() == 1009);
  CHECK(store->first_index() <= 1006);
}

TEST_CASE("a reset to a lower index than the log had starts over there", "[log_store]") {
  temp_dir dir;
  write_log(dir, make_entries(1, 30, 2));
  recovered_state state;
  auto store = open_ok(dir, state);
  REQUIRE_FALSE(store->reset(5).has_value());
  CHECK(store->last_index() == 4);
  REQUIRE_FALSE(store->append(make_entries(5, 3, 9)).has_value());
  REQUIRE_FALSE(store->sync().has_value());
  store.reset();
  recovered_state again;
  open_ok(dir, again);
  CHECK(again.first_index == 5);
  CHECK(again.entries == make_entries(5, 3, 9));
}

TEST_CASE("truncate_from that removes every segment of a compacted log", "[log_store]") {
  temp_dir dir;
  const std::size_t segment_bytes = 200;
  write_log(dir, make_entries(1, 50, 1), segment_bytes);
  recovered_state state;
  auto store = open_ok(dir, state, segment_bytes);
  REQUIRE_FALSE(store->compact_to(30).has_value());
  const std::uint64_t first = store->first_index();
  REQUIRE(first > 1);
  REQUIRE(first <= 31);
  REQUIRE_FALSE(store->truncate_from(first).has_value());
  CHECK(store->segment_count() == 0);
  CHECK(store->first_index() == first);
  CHECK(store->last_index() == first - 1);
  CHECK(store->last_term() == 0);
  REQUIRE_FALSE(store->append(make_entries(first, 3, 4)).has_value());
  REQUIRE_FALSE(store->sync().has_value());
  store.reset();
  recovered_state again;
  open_ok(dir, again, segment_bytes);
  CHECK(again.first_index == first);
  CHECK(again.entries == make_entries(first, 3, 4));
}

TEST_CASE("a compacted log with a missing middle segment still refuses to open", "[log_store]") {
  temp_dir dir;
  const std::size_t segment_bytes = 200;
  write_log(dir, make_entries(1, 60, 1), segment_bytes);
  {
    recovered_state state;
    auto store = open_ok(dir, state, segment_bytes);
    REQUIRE_FALSE(store->compact_to(20).has_value());
  }
  const auto kept = segment_indexes(dir);
  REQUIRE(kept.size() >= 3);
  REQUIRE(kept.front() > 1);
  fs::remove(dir.file(segment_file(kept[1])));
  CHECK_THAT(open_error(dir, segment_bytes),
             Catch::Matchers::Contains(segment_file(kept[2]) +
                                       ": offset 0: segment starts at index " +
                                       std::to_string(kept[2])));
}

TEST_CASE("a segment named index 0 refuses to open", "[log_store]") {
  temp_dir dir;
  write_log(dir, make_entries(1, 1, 1));
  fs::rename(dir.file(segment_file(1)), dir.file(segment_file(0)));
  CHECK_THAT(open_error(dir), Catch::Matchers::Contains("segment starts at index 0"));
}

TEST_CASE("random bytes and mutated segments never crash recovery", "[log_store][fuzz]") {
  const std::uint64_t seed = 4242;
  INFO("seed=" << seed);
  test_rng random{seed};
  temp_dir source;
  write_log(source, make_entries(1, 12, 1));
  const std::string valid = read_bytes(source.file(segment_file(1)));
  for (int round = 0; round < 400; ++round) {
    temp_dir dir;
    std::string bytes;
    if (random.below(3) == 0) {
      bytes.resize(random.below(300));
      for (auto& b : bytes)
        b = static_cast<char>(random.next());
    } else {
      bytes = valid;
      const std::size_t edits = 1 + random.below(3);
      for (std::size_t e = 0; e < edits && !bytes.empty(); ++e) {
        const std::size_t at = random.below(bytes.size());
        switch (random.below(4)) {
          case 0:
            bytes[at] = static_cast<char>(bytes[at] ^ (1u << random.below(8)));
            break;
          case 1:
            bytes[at] = static_cast<char>(random.next());
            break;
          case 2:
            bytes.resize(at);
            break;
          default:
            bytes.insert(at, 1, static_cast<char>(random.next()));
            break;
        }
      }
    }
    write_bytes(dir.file(segment_file(1)), bytes);
    if (random.below(4) == 0) {
      std::string hard(random.below(40), '\0');
      for (auto& b : hard)
        b = static_cast<char>(random.next());
      write_bytes(dir.file("hard-state"), hard);
    }
    recovered_state state;
    auto opened = log_store::open(dir.path, state);
    if (auto* store = std::get_if<std::unique_ptr<log_store>>(&opened)) {
      // Whatever was accepted is a clean prefix-shaped log that can keep growing.
      for (std::size_t i = 0; i < state.entries.size(); ++i)
        REQUIRE(state.entries[i].index == i + 1);
      REQUIRE((*store)->last_index() == state.entries.size());
      const std::uint64_t next = state.entries.size() + 1;
      const std::uint64_t term = state.entries.empty() ? 1 : state.entries.back().term;
      REQUIRE_FALSE((*store)->append({make_entry(next, term)}).has_value());
      REQUIRE_FALSE((*store)->sync().has_value());
    } else {
      REQUIRE_FALSE(std::get<std::string>(opened).empty());
    }
  }
}
