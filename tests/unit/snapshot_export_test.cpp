// Snapshot files served to backup clients (actors/storage/snapshot_export, D25): chunked reads,
// clear errors for unknown indexes and offsets, a file pruned while served stays readable, idle
// files are closed, and at most a bounded number stay open.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "actors/storage/snapshot_export.hpp"
#include "actors/storage/snapshot_file.hpp"
#include "tests/temp_dir.hpp"

using namespace prez::storage;
namespace fs = std::filesystem;

namespace {

struct temp_dir : prez::testing::temp_dir {
  temp_dir() : prez::testing::temp_dir("prez-export") {}
  /// Writes `bytes` as the snapshot file of `index` (serving does not validate: the client does).
  std::string put(std::uint64_t index, const std::string& bytes) const {
    return write(snapshot_file_name(index), bytes);
  }
};

std::string pattern_bytes(std::size_t size) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    bytes[i] = static_cast<char>((i * 131 + 7) & 0xff);
  return bytes;
}

std::string read_all(snapshot_exports& exports, std::uint64_t index, std::uint64_t count,
                     std::uint64_t now_ms) {
  std::string out;
  for (;;) {
    auto chunk = exports.read(index, out.size(), count, now_ms);
    REQUIRE_FALSE(chunk.error);
    if (chunk.bytes.empty()) return out;
    out += chunk.bytes;
  }
}

} // namespace

TEST_CASE("a served snapshot reads back whole in chunks of the size asked, bounded",
          "[snapshot_export]") {
  temp_dir dir;
  const auto bytes = pattern_bytes(10'000);
  dir.put(5, bytes);
  snapshot_exports exports(8, 60'000, 4096);
  auto opened = exports.open(dir.path, 5, 0);
  REQUIRE(std::holds_alternative<std::uint64_t>(opened));
  CHECK(std::get<std::uint64_t>(opened) == 10'000);
  CHECK(read_all(exports, 5, 1000, 1) == bytes);
  CHECK(read_all(exports, 5, 7, 1) == bytes);
  // A count over the bound gets the bound.
  auto big = exports.read(5, 0, 1'000'000, 2);
  REQUIRE_FALSE(big.error);
  CHECK(big.bytes.size() == 4096);
  // At the end: no bytes, no error.
  auto end = exports.read(5, 10'000, 10, 3);
  CHECK_FALSE(end.error);
  CHECK(end.bytes.empty());
}

TEST_CASE("unknown index, offset past the end and count 0 are clear errors", "[snapshot_export]") {
  temp_dir dir;
  dir.put(5, pattern_bytes(100));
  snapshot_exports exports;
  auto never = exports.read(5, 0, 10, 0);
  REQUIRE(never.error);
  CHECK_THAT(*never.error, Catch::Contains("snapshot 5 is not being served"));
  auto missing = exports.open(dir.path, 6, 0);
  REQUIRE(std::holds_alternative<std::string>(missing));
  CHECK_THAT(std::get<std::string>(missing), Catch::Contains("cannot open"));
  REQUIRE(std::holds_alternative<std::uint64_t>(exports.open(dir.path, 5, 0)));
  auto past = exports.read(5, 101, 10, 0);
  REQUIRE(past.error);
  CHECK_THAT(*past.error, Catch::Contains("offset 101 is past the end of snapshot 5 (100 bytes)"));
  auto zero = exports.read(5, 0, 0, 0);
  REQUIRE(zero.error);
  CHECK_THAT(*zero.error, Catch::Contains("count"));
}

TEST_CASE("a snapshot pruned or replaced while served is still read as it was when fetched",
          "[snapshot_export]") {
  temp_dir dir;
  const auto bytes = pattern_bytes(5000);
  const auto path = dir.put(9, bytes);
  snapshot_exports exports;
  REQUIRE(std::holds_alternative<std::uint64_t>(exports.open(dir.path, 9, 0)));
  auto first = exports.read(9, 0, 1000, 1);
  REQUIRE_FALSE(first.error);
  fs::remove(path); // a newer snapshot pruned it
  CHECK(first.bytes + read_all(exports, 9, 1000, 2).substr(1000) == bytes);
  // A second fetch of the same index keeps the open copy, even after the name comes back with
  // other bytes.
  dir.put(9, pattern_bytes(10));
  auto again = exports.open(dir.path, 9, 3);
  REQUIRE(std::holds_alternative<std::uint64_t>(again));
  CHECK(std::get<std::uint64_t>(again) == 5000);
  CHECK(read_all(exports, 9, 4096, 4) == bytes);
}

TEST_CASE("idle snapshots are closed; past the bound the least recently read is closed",
          "[snapshot_export]") {
  temp_dir dir;
  for (std::uint64_t index = 1; index <= 4; ++index)
    dir.put(index, pattern_bytes(100 + index));
  snapshot_exports exports(3, 1000, 1024);
  for (std::uint64_t index = 1; index <= 3; ++index)
    REQUIRE(std::holds_alternative<std::uint64_t>(exports.open(dir.path, index, index)));
  CHECK(exports.size() == 3);
  REQUIRE_FALSE(exports.read(1, 0, 10, 10).error); // 2 is now the least recently used
  REQUIRE(std::holds_alternative<std::uint64_t>(exports.open(dir.path, 4, 11)));
  CHECK(exports.size() == 3);
  CHECK(exports.read(2, 0, 10, 12).error);
  CHECK_FALSE(exports.read(3, 0, 10, 12).error);
  // Idle for the whole idle time: closed, and reading it says so.
  exports.expire(10 + 999); // the oldest use is at 10
  CHECK(exports.size() == 3);
  exports.expire(12 + 1000); // the newest use is at 12
  CHECK(exports.size() == 0);
  auto expired = exports.read(3, 0, 10, 2000);
  REQUIRE(expired.error);
  CHECK_THAT(*expired.error, Catch::Contains("RAFT.SNAPSHOT FETCH"));
}
