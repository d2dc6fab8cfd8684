// Snapshot files: the format, round trips in pieces, crashes at every step of writing, torn and
// bit-flipped files, pruning, the follower's receiver, and operating failures.

#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <sys/resource.h>

#include "actors/storage/snapshot_file.hpp"
#include "tests/temp_dir.hpp"

using namespace prez;
using namespace prez::storage;
namespace fs = std::filesystem;

namespace {

/// A fresh directory under /tmp, removed with everything in it at scope exit.
struct temp_dir : prez::testing::temp_dir {
  temp_dir() : prez::testing::temp_dir("prez-snapshot") {}
};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

snapshot_meta make_meta(std::uint64_t last_index, std::uint64_t last_term = 3) {
  snapshot_meta meta;
  meta.last_index = last_index;
  meta.last_term = last_term;
  meta.voters = {"node-a", "node-b", "node-c"};
  meta.created_ms = 1'700'000'000'123;
  return meta;
}

/// Deterministic body bytes, all 256 values included.
std::string make_body(std::size_t size, std::uint64_t seed = 1) {
  std::string body(size, '\0');
  std::uint64_t state = seed;
  for (char& c : body) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    c = static_cast<char>(state >> 56);
  }
  return body;
}

std::unique_ptr<snapshot_writer> create_ok(const std::string& dir, const snapshot_meta& meta,
                                           sync_observer observer = {}) {
  auto created = snapshot_writer::create(dir, meta, std::move(observer));
  if (auto* error = std::get_if<std::string>(&created)) FAIL("create failed: " << *error);
  return std::move(std::get<std::unique_ptr<snapshot_writer>>(created));
}

/// Writes a snapshot of `body` in pieces of `piece_bytes` and returns what finish() says.
snapshot_info write_snapshot(const std::string& dir, const snapshot_meta& meta,
                             const std::string& body, std::size_t keep = 2,
                             std::size_t piece_bytes = 1000) {
  auto writer = create_ok(dir, meta);
  for (std::size_t at = 0; at < body.size(); at += piece_bytes)
    REQUIRE_FALSE(writer->append(std::string_view(body).substr(at, piece_bytes)).has_value());
  auto finished = writer->finish(keep);
  if (auto* error = std::get_if<std::string>(&finished)) FAIL("finish failed: " << *error);
  return std::get<snapshot_info>(finished);
}

std::string validate_error(const std::string& path) {
  auto validated = validate_snapshot(path);
  if (std::holds_alternative<snapshot_info>(validated)) return {};
  return std::get<std::string>(validated);
}

std::string read_body(const std::string& path, std::size_t piece_bytes = 1 << 20) {
  std::string body;
  auto error = read_snapshot_body(
      path,
      [&](std::string_view piece) -> std::optional<std::string> {
        CHECK(piece.size() <= std::max<std::size_t>(piece_bytes, 1));
        body.append(piece);
        return std::nullopt;
      },
      piece_bytes);
  if (error) FAIL("read_snapshot_body failed: " << *error);
  return body;
}

/// Snapshot-related file names in `dir`, sorted.
std::vector<std::string> names_in(const temp_dir& dir) {
  std::vector<std::string> names;
  for (const auto& item : fs::directory_iterator(dir.path))
    names.push_back(item.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::uint64_t get_le(const std::string& bytes, std::size_t at, int size) {
  std::uint64_t value = 0;
  for (int i = size - 1; i >= 0; --i)
    value = (value << 8) | static_cast<unsigned char>(bytes[at + static_cast<std::size_t>(i)]);
  return value;
}

void put_le(std::string& out, std::uint64_t value, int size) {
  for (int i = 0; i < size; ++i)
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xffu));
}

/// A snapshot file built by hand from the format in snapshot_file.hpp, with a correct trailer.
std::string build_file(const std::string& meta_bytes, const std::string& body) {
  std::string file = "PREZSNP1";
  put_le(file, meta_bytes.size(), 4);
  file += meta_bytes;
  file += body;
  const std::uint32_t crc = crc32c(file.data(), file.size());
  put_le(file, body.size(), 8);
  put_le(file, crc, 4);
  file += "PREZEND1";
  return file;
}

std::string pack_meta(const snapshot_meta& meta) {
  msgpack::sbuffer buffer;
  msgpack::pack(buffer, meta);
  return std::string(buffer.data(), buffer.size());
}

/// Makes writes past `bytes` fail with EFBIG (as a full disk fails them) until destroyed.
struct file_size_limit {
  rlimit saved{};
  void (*saved_handler)(int) = nullptr;
  explicit file_size_limit(rlim_t bytes) {
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
    saved_handler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit limited = saved;
    limited.rlim_cur = bytes;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &limited) == 0);
  }
  ~file_size_limit() {
    ::setrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, saved_handler);
  }
};

} // namespace

TEST_CASE("snapshot file names carry the index in 20 digits", "[snapshot]") {
  CHECK(snapshot_file_name(1) == "snapshot-00000000000000000001.snap");
  CHECK(snapshot_file_name(UINT64_MAX) == "snapshot-18446744073709551615.snap");
}

TEST_CASE("a snapshot written in pieces validates and reads back the same bytes and meta",
          "[snapshot]") {
  temp_dir dir;
  // Over the writer's 1 MiB buffer, so it is written in several write(2)s.
  const std::string body = make_body(2'500'000);
  snapshot_meta meta = make_meta(42, 7);
  meta.learners = {"node-d"};
  const std::vector<std::size_t> pieces = {0, 1, 999, 1'500'000, 0, 7};
  auto writer = create_ok(dir.path, meta);
  CHECK(fs::exists(dir.file(snapshot_file_name(42) + ".tmp")));
  CHECK_FALSE(fs::exists(dir.file(snapshot_file_name(42))));
  std::size_t at = 0;
  for (std::size_t piece : pieces) {
    REQUIRE_FALSE(writer->append(std::string_view(body).substr(at, piece)).has_value());
    at += piece;
  }
  REQUIRE_FALSE(writer->append(std::string_view(body).substr(at)).has_value());
  CHECK(writer->body_bytes() == body.size());
  auto finished = writer->finish();
  REQUIRE(std::holds_alternative<snapshot_info>(finished));
  const snapshot_info written = std::get<snapshot_info>(finished);
  CHECK(written.path == dir.file(snapshot_file_name(42)));
  CHECK(written.meta == meta);
  CHECK(written.body_bytes == body.size());
  CHECK(written.file_bytes == fs::file_size(written.path));
  CHECK(names_in(dir) == std::vector<std::string>{snapshot_file_name(42)});
  // A second finish or append is refused.
  CHECK(std::holds_alternative<std::string>(writer->finish()));
  CHECK(writer->append("x").has_value());
  writer.reset();
  CHECK(fs::exists(written.path)); // the destructor leaves a finished snapshot alone

  auto validated = validate_snapshot(written.path);
  REQUIRE(std::holds_alternative<snapshot_info>(validated));
  const auto& info = std::get<snapshot_info>(validated);
  CHECK(info.meta == meta);
  CHECK(info.path == written.path);
  CHECK(info.file_bytes == written.file_bytes);
  CHECK(info.body_bytes == body.size());
  CHECK(read_body(written.path) == body);
  CHECK(read_body(written.path, 4096) == body);

  // The layout is the one snapshot_file.hpp documents, checked independently of the reader.
  const std::string file = read_bytes(written.path);
  const std::string meta_bytes = pack_meta(meta);
  CHECK(file == build_file(meta_bytes, body));
  CHECK(file.compare(0, 8, "PREZSNP1") == 0);
  CHECK(get_le(file, 8, 4) == meta_bytes.size());
  CHECK(get_le(file, file.size() - 20, 8) == body.size());
  CHECK(get_le(file, file.size() - 12, 4) == crc32c(file.data(), file.size() - 20));
  CHECK(file.compare(file.size() - 8, 8, "PREZEND1") == 0);
}

TEST_CASE("an empty body is a valid snapshot", "[snapshot]") {
  temp_dir dir;
  const snapshot_info info = write_snapshot(dir.path, make_meta(1), "");
  CHECK(info.body_bytes == 0);
  CHECK(validate_error(info.path).empty());
  int calls = 0;
  CHECK_FALSE(read_snapshot_body(info.path, [&](std::string_view) -> std::optional<std::string> {
                ++calls;
                return std::nullopt;
              }).has_value());
  CHECK(calls == 0);
}

TEST_CASE("the writer and the receiver refuse bad arguments with an error", "[snapshot]") {
  temp_dir dir;
  auto writer = snapshot_writer::create(dir.path, make_meta(0));
  REQUIRE(std::holds_alternative<std::string>(writer));
  CHECK_THAT(std::get<std::string>(writer), Catch::Matchers::Contains("last index 0"));
  snapshot_meta huge = make_meta(5);
  huge.learners.assign(20000, std::string(64, 'n'));
  writer = snapshot_writer::create(dir.path, huge);
  REQUIRE(std::holds_alternative<std::string>(writer));
  CHECK_THAT(std::get<std::string>(writer), Catch::Matchers::Contains("snapshot_meta_bytes_max"));
  auto receiver = snapshot_receiver::create(dir.path, 0, 1);
  REQUIRE(std::holds_alternative<std::string>(receiver));
  CHECK_THAT(std::get<std::string>(receiver), Catch::Matchers::Contains("last index 0"));
  // A directory that cannot be created: a path below a regular file.
  write_bytes(dir.file("plain"), "x");
  writer = snapshot_writer::create(dir.file("plain/sub"), make_meta(5));
  REQUIRE(std::holds_alternative<std::string>(writer));
  CHECK_THAT(std::get<std::string>(writer), Catch::Matchers::Contains("plain/sub"));
  receiver = snapshot_receiver::create(dir.file("plain/sub"), 5, 1);
  CHECK(std::holds_alternative<std::string>(receiver));
  CHECK(names_in(dir) == std::vector<std::string>{"plain"});
}

TEST_CASE("a crash at any step of writing leaves the older snapshot in charge", "[snapshot]") {
  temp_dir dir;
  const snapshot_info older = write_snapshot(dir.path, make_meta(10), make_body(5000, 1));
  const std::string body = make_body(3000, 2);
  const std::string temp_name = snapshot_file_name(20) + ".tmp";

  // What a crash leaves after each step: the temp file as it is at that moment.
  std::vector<std::string> leftovers;
  {
    auto writer = create_ok(dir.path, make_meta(20));
    leftovers.push_back(read_bytes(dir.file(temp_name))); // header only
    REQUIRE_FALSE(writer->append(body).has_value());
    leftovers.push_back(read_bytes(dir.file(temp_name)));            // header, maybe buffered body
    leftovers.push_back(build_file(pack_meta(make_meta(20)), body)); // complete, not renamed
  }
  // The writer died without finish(): its temp file is gone.
  CHECK_FALSE(fs::exists(dir.file(temp_name)));
  CHECK(names_in(dir) == std::vector<std::string>{snapshot_file_name(10)});

  for (const std::string& leftover : leftovers) {
    write_bytes(dir.file(temp_name), leftover);
    std::vector<std::string> refused;
    auto newest = newest_valid_snapshot(dir.path, refused);
    REQUIRE(newest.has_value());
    CHECK(newest->path == older.path);
    CHECK(newest->meta == make_meta(10));
    CHECK(refused.empty());
  }
  // The next finished snapshot removes the stale temp file.
  write_snapshot(dir.path, make_meta(30), "state");
  CHECK(names_in(dir) == std::vector<std::string>{snapshot_file_name(10), snapshot_file_name(30)});
}

TEST_CASE("a torn snapshot file is refused at every length", "[snapshot]") {
  temp_dir dir;
  const snapshot_info info = write_snapshot(dir.path, make_meta(9), make_body(100));
  const std::string intact = read_bytes(info.path);
  REQUIRE(intact.size() == info.file_bytes);
  for (std::size_t length = 0; length < intact.size(); ++length) {
    INFO("length " << length);
    write_bytes(info.path, intact.substr(0, length));
    const std::string error = validate_error(info.path);
    CHECK_THAT(error, Catch::Matchers::StartsWith(info.path + ": "));
    std::vector<std::string> refused;
    CHECK_FALSE(newest_valid_snapshot(dir.path, refused).has_value());
    CHECK(refused == std::vector<std::string>{error});
    CHECK(has_snapshot_files(dir.path));
    bool sink_called = false;
    CHECK(read_snapshot_body(info.path, [&](std::string_view) -> std::optional<std::string> {
            sink_called = true;
            return std::nullopt;
          }).has_value());
    CHECK_FALSE(sink_called);
  }
  write_bytes(info.path, intact);
  CHECK(validate_error(info.path).empty());
}

TEST_CASE("a flipped bit anywhere in a snapshot file is refused", "[snapshot]") {
  temp_dir dir;
  const snapshot_info info = write_snapshot(dir.path, make_meta(9), make_body(100));
  const std::string intact = read_bytes(info.path);
  const std::size_t meta_bytes = intact.size() - 20 - 100 - 12;
  for (std::size_t at = 0; at < intact.size(); ++at) {
    for (int bit : {0, 7}) {
      INFO("byte " << at << " bit " << bit);
      std::string damaged = intact;
      damaged[at] = static_cast<char>(damaged[at] ^ (1 << bit));
      write_bytes(info.path, damaged);
      const std::string error = validate_error(info.path);
      REQUIRE_THAT(error, Catch::Matchers::StartsWith(info.path + ": "));
      // Meta, body and the stored crc are covered by the crc; the framing has its own checks.
      const bool covered = (at >= 12 && at < 12 + meta_bytes + 100) ||
                           (at >= intact.size() - 12 && at < intact.size() - 8);
      if (covered) CHECK_THAT(error, Catch::Matchers::Contains("CRC mismatch"));
    }
  }
}

TEST_CASE("a damaged newest snapshot is refused and the older valid one returned", "[snapshot]") {
  temp_dir dir;
  const snapshot_info older = write_snapshot(dir.path, make_meta(10), make_body(500, 1), 3);
  const snapshot_info newer = write_snapshot(dir.path, make_meta(20), make_body(500, 2), 3);
  std::vector<std::string> refused;
  auto newest = newest_valid_snapshot(dir.path, refused);
  REQUIRE(newest.has_value());
  CHECK(newest->path == newer.path);
  CHECK(refused.empty());

  std::string damaged = read_bytes(newer.path);
  damaged[damaged.size() / 2] = static_cast<char>(damaged[damaged.size() / 2] ^ 0x10);
  write_bytes(newer.path, damaged);
  // A copy of the older snapshot under another index's name, and names that are not snapshots.
  fs::copy_file(older.path, dir.file(snapshot_file_name(15)));
  write_bytes(dir.file("snapshot-0000000000000000001x.snap"), "junk");
  write_bytes(dir.file("snapshot-00000000000000000099.snap.recv"), "junk");
  write_bytes(dir.file("log-00000000000000000001.seg"), "junk");

  newest = newest_valid_snapshot(dir.path, refused);
  REQUIRE(newest.has_value());
  CHECK(newest->path == older.path);
  CHECK(newest->meta == make_meta(10));
  REQUIRE(refused.size() == 2);
  CHECK_THAT(refused[0], Catch::Matchers::StartsWith(newer.path + ": CRC mismatch"));
  CHECK_THAT(refused[1],
             Catch::Matchers::StartsWith(dir.file(snapshot_file_name(15)) + ": meta says last "
                                                                            "index 10 but the "
                                                                            "file name says 15"));
  // Refused files stay on disk for an operator.
  CHECK(read_bytes(newer.path) == damaged);
  CHECK(fs::exists(dir.file(snapshot_file_name(15))));
}

TEST_CASE("meta that is not five or six msgpack fields is refused, whatever it declares",
          "[snapshot]") {
  using namespace std::string_literals;
  temp_dir dir;
  const std::string path = dir.file(snapshot_file_name(9));
  const std::string good = pack_meta(make_meta(9));
  const std::vector<std::pair<std::string, std::string>> metas = {
      {"empty", ""},
      {"a string", "\xa3"
                   "abc"},
      {"an array of four", "\x94\x09\x03\x90\x90"},
      {"an array of six whose config is a number", "\x96\x09\x03\x90\x90\x00\x00"s},
      {"an array of seven", "\x97\x09\x03\x90\x90\x00\x92\x90\x90\x00"s},
      {"a config with unsorted members",
       "\x96\x09\x03\x90\x90\x00\x92\x92\x94\xa1\x62\xa0\xc3\xc2\x94\xa1\x61\xa0\xc3\xc2\x90"s},
      {"a map", "\x81\x01\x02"},
      {"an array declaring 4G elements", "\xdd\xff\xff\xff\xff"},
      {"a string declaring 4 GiB", "\xdb\xff\xff\xff\xff"},
      {"voters that are numbers", "\x95\x09\x03\x91\x05\x90\x00"s},
      {"trailing bytes", good + "\x00"s},
      {"a truncated meta", good.substr(0, good.size() - 1)},
  };
  for (const auto& [what, meta] : metas) {
    INFO(what);
    write_bytes(path, build_file(meta, "body"));
    CHECK_THAT(validate_error(path), Catch::Matchers::Contains("meta is not"));
  }
  write_bytes(path, build_file(good, "body"));
  CHECK(validate_error(path).empty());
  // A file written before membership changes (five fields) is still read, with no config.
  write_bytes(path, build_file("\x95\x09\x03\x90\x90\x00"s, "body"));
  CHECK(validate_error(path).empty());

  SECTION("a meta length over the limit is refused before anything is read") {
    std::string file = build_file(good, "body");
    file[8] = '\xff';
    file[9] = '\xff';
    file[10] = '\xff';
    file[11] = '\x7f';
    write_bytes(path, file);
    CHECK_THAT(validate_error(path), Catch::Matchers::Contains("snapshot_meta_bytes_max"));
  }
  SECTION("last index 0") {
    const std::string zero_path = dir.file(snapshot_file_name(0));
    write_bytes(zero_path, build_file(pack_meta(make_meta(0)), "body"));
    CHECK_THAT(validate_error(zero_path), Catch::Matchers::Contains("last index 0"));
  }
  SECTION("a file whose name is not a snapshot's") {
    const std::string other = dir.file("copy.snap");
    write_bytes(other, build_file(good, "body"));
    CHECK_THAT(validate_error(other), Catch::Matchers::Contains("not a snapshot file name"));
    CHECK_THAT(validate_error(dir.file(snapshot_file_name(77))),
               Catch::Matchers::Contains("cannot open"));
  }
}

TEST_CASE("finish keeps the newest snapshots and never the one just written", "[snapshot]") {
  temp_dir dir;
  write_snapshot(dir.path, make_meta(10), "a");
  write_snapshot(dir.path, make_meta(20), "b");
  write_snapshot(dir.path, make_meta(30), "c");
  CHECK(names_in(dir) == std::vector<std::string>{snapshot_file_name(20), snapshot_file_name(30)});
  write_snapshot(dir.path, make_meta(40), "d", 0); // keep 0 counts as 1
  CHECK(names_in(dir) == std::vector<std::string>{snapshot_file_name(40)});
  // An older snapshot than one on disk (the newer came from the leader): both stay.
  write_snapshot(dir.path, make_meta(5), "e", 1);
  CHECK(names_in(dir) == std::vector<std::string>{snapshot_file_name(5), snapshot_file_name(40)});
  // Temp files: those of a snapshot up to the new one go, newer ones may be in use and stay.
  write_bytes(dir.file(snapshot_file_name(45) + ".tmp"), "stale");
  write_bytes(dir.file(snapshot_file_name(48) + ".recv"), "stale");
  write_bytes(dir.file(snapshot_file_name(60) + ".tmp"), "in use");
  write_bytes(dir.file(snapshot_file_name(70) + ".recv"), "in use");
  write_snapshot(dir.path, make_meta(50), "f");
  CHECK(names_in(dir) == std::vector<std::string>{snapshot_file_name(40), snapshot_file_name(50),
                                                  snapshot_file_name(60) + ".tmp",
                                                  snapshot_file_name(70) + ".recv"});
  // The same index again replaces the file.
  write_snapshot(dir.path, make_meta(50, 9), "g");
  auto validated = validate_snapshot(dir.file(snapshot_file_name(50)));
  REQUIRE(std::holds_alternative<snapshot_info>(validated));
  CHECK(std::get<snapshot_info>(validated).meta.last_term == 9);
}

TEST_CASE("a finished snapshot is fsynced before its directory", "[snapshot]") {
  temp_dir dir;
  std::vector<std::string> synced;
  auto writer =
      create_ok(dir.path, make_meta(3), [&](const std::string& path) { synced.push_back(path); });
  REQUIRE_FALSE(writer->append("state").has_value());
  CHECK(synced.empty());
  REQUIRE(std::holds_alternative<snapshot_info>(writer->finish()));
  CHECK(synced == std::vector<std::string>{dir.file(snapshot_file_name(3) + ".tmp"), dir.path});
}

TEST_CASE("has_snapshot_files sees any final snapshot file, valid or not", "[snapshot]") {
  temp_dir dir;
  CHECK_FALSE(has_snapshot_files(dir.path));
  CHECK_FALSE(has_snapshot_files(dir.file("missing")));
  std::vector<std::string> refused;
  CHECK_FALSE(newest_valid_snapshot(dir.file("missing"), refused).has_value());
  CHECK(refused.empty());
  write_bytes(dir.file(snapshot_file_name(4) + ".tmp"), "x");
  write_bytes(dir.file(snapshot_file_name(4) + ".recv"), "x");
  CHECK_FALSE(has_snapshot_files(dir.path));
  write_bytes(dir.file(snapshot_file_name(4)), "damaged");
  CHECK(has_snapshot_files(dir.path));
}

TEST_CASE("read_snapshot_body stops at the sink's error and returns it", "[snapshot]") {
  temp_dir dir;
  const snapshot_info info = write_snapshot(dir.path, make_meta(8), make_body(10'000));
  int calls = 0;
  auto error = read_snapshot_body(
      info.path,
      [&](std::string_view piece) -> std::optional<std::string> {
        ++calls;
        CHECK(piece.size() == 4096);
        return "state machine says no";
      },
      4096);
  CHECK(error == std::optional<std::string>("state machine says no"));
  CHECK(calls == 1);
  // Pieces of 0 bytes count as 1.
  CHECK(read_body(info.path, 0).size() == 10'000);
}

TEST_CASE("read_snapshot_chunk returns raw file bytes and says when the file is gone",
          "[snapshot]") {
  temp_dir dir;
  const snapshot_info info = write_snapshot(dir.path, make_meta(8), make_body(1000));
  const std::string file = read_bytes(info.path);
  auto chunk = read_snapshot_chunk(info.path, 0, 100);
  CHECK_FALSE(chunk.error.has_value());
  CHECK(chunk.bytes == file.substr(0, 100));
  CHECK(chunk.file_bytes == file.size());
  chunk = read_snapshot_chunk(info.path, file.size() - 10, 100);
  CHECK(chunk.bytes == file.substr(file.size() - 10));
  chunk = read_snapshot_chunk(info.path, file.size(), 100);
  CHECK_FALSE(chunk.error.has_value());
  CHECK(chunk.bytes.empty());
  chunk = read_snapshot_chunk(info.path, file.size() + 1, 100);
  CHECK_THAT(chunk.error.value_or(""), Catch::Matchers::Contains("past the end"));
  fs::remove(info.path);
  chunk = read_snapshot_chunk(info.path, 0, 100);
  CHECK_THAT(chunk.error.value_or(""), Catch::Matchers::StartsWith(info.path + ": cannot open"));
  CHECK(chunk.bytes.empty());
}

TEST_CASE("a snapshot received in chunks is the leader's file", "[snapshot]") {
  temp_dir leader;
  temp_dir follower;
  const std::string body = make_body(300'000);
  const snapshot_info sent = write_snapshot(leader.path, make_meta(77, 5), body);
  // The follower already has an older snapshot and a stale receive of an older one.
  write_snapshot(follower.path, make_meta(50), "old", 2);
  write_bytes(follower.file(snapshot_file_name(60) + ".recv"), "stale");
  for (std::size_t chunk_bytes : {std::size_t{1} << 16, std::size_t{7777}, sent.file_bytes}) {
    DYNAMIC_SECTION("chunks of " << chunk_bytes << " bytes") {
      std::vector<std::string> synced;
      auto created = snapshot_receiver::create(
          follower.path, 77, 5, [&](const std::string& path) { synced.push_back(path); });
      REQUIRE(std::holds_alternative<std::unique_ptr<snapshot_receiver>>(created));
      auto receiver = std::move(std::get<std::unique_ptr<snapshot_receiver>>(created));
      const std::string receive_path = follower.file(snapshot_file_name(77) + ".recv");
      CHECK(fs::exists(receive_path));
      while (true) {
        auto chunk = read_snapshot_chunk(sent.path, receiver->received(), chunk_bytes);
        REQUIRE_FALSE(chunk.error.has_value());
        if (chunk.bytes.empty()) break;
        REQUIRE_FALSE(receiver->write(receiver->received(), chunk.bytes).has_value());
      }
      CHECK(receiver->received() == sent.file_bytes);
      auto finished = receiver->finish();
      if (auto* error = std::get_if<std::string>(&finished)) FAIL(*error);
      const auto& info = std::get<snapshot_info>(finished);
      CHECK(info.path == follower.file(snapshot_file_name(77)));
      CHECK(info.meta == make_meta(77, 5));
      CHECK(info.file_bytes == sent.file_bytes);
      CHECK(info.body_bytes == body.size());
      CHECK(read_bytes(info.path) == read_bytes(sent.path));
      CHECK(read_body(info.path) == body);
      CHECK(synced == std::vector<std::string>{receive_path, follower.path});
      receiver.reset();
      // Durable under its final name; the receive file and the stale one are gone.
      CHECK(names_in(follower) ==
            std::vector<std::string>{snapshot_file_name(50), snapshot_file_name(77)});
    }
  }
}

TEST_CASE("the receiver refuses chunks out of order without harm", "[snapshot]") {
  temp_dir leader;
  temp_dir follower;
  const snapshot_info sent = write_snapshot(leader.path, make_meta(77, 5), make_body(2000));
  const std::string file = read_bytes(sent.path);
  auto created = snapshot_receiver::create(follower.path, 77, 5);
  auto receiver = std::move(std::get<std::unique_ptr<snapshot_receiver>>(created));
  CHECK_THAT(receiver->write(100, file.substr(100, 100)).value_or(""),
             Catch::Matchers::Contains("chunk at offset 100 where 0 was expected"));
  CHECK(receiver->received() == 0);
  REQUIRE_FALSE(receiver->write(0, file.substr(0, 1000)).has_value());
  // A duplicate of an earlier chunk (a retransmission) and a gap are both refused.
  CHECK(receiver->write(0, file.substr(0, 1000)).has_value());
  CHECK(receiver->write(1500, file.substr(1500)).has_value());
  CHECK(receiver->received() == 1000);
  REQUIRE_FALSE(receiver->write(1000, file.substr(1000)).has_value());
  REQUIRE(std::holds_alternative<snapshot_info>(receiver->finish()));
  CHECK(read_bytes(follower.file(snapshot_file_name(77))) == file);
  CHECK(std::holds_alternative<std::string>(receiver->finish()));
  CHECK(receiver->write(file.size(), "x").has_value());
}

TEST_CASE("the receiver refuses a file that is not the announced snapshot", "[snapshot]") {
  temp_dir leader;
  temp_dir follower;
  const snapshot_info sent = write_snapshot(leader.path, make_meta(77, 5), make_body(2000));
  std::string file = read_bytes(sent.path);
  struct attempt {
    std::string what;
    std::uint64_t index;
    std::uint64_t term;
    std::string bytes;
    std::string reason;
  };
  std::string flipped = file;
  flipped[1500] = static_cast<char>(flipped[1500] ^ 0x04);
  const std::vector<attempt> attempts = {
      {"another index", 78, 5, file, "meta says last index 77"},
      {"another term", 77, 6, file, "meta says last term 5 but the leader announced 6"},
      {"a damaged byte", 77, 5, flipped, "CRC mismatch"},
      {"a torn file", 77, 5, file.substr(0, file.size() - 1), "bad trailer magic"},
      {"nothing", 77, 5, "", "shorter than"},
  };
  for (const attempt& a : attempts) {
    INFO(a.what);
    const std::string receive_path = follower.file(snapshot_file_name(a.index) + ".recv");
    {
      auto created = snapshot_receiver::create(follower.path, a.index, a.term);
      auto receiver = std::move(std::get<std::unique_ptr<snapshot_receiver>>(created));
      REQUIRE_FALSE(receiver->write(0, a.bytes).has_value());
      auto finished = receiver->finish();
      REQUIRE(std::holds_alternative<std::string>(finished));
      CHECK_THAT(std::get<std::string>(finished),
                 Catch::Matchers::StartsWith(receive_path + ": ") &&
                     Catch::Matchers::Contains(a.reason));
      CHECK(fs::exists(receive_path));
    }
    // The destructor removed the receive file; no snapshot appeared.
    CHECK(names_in(follower).empty());
  }
}

TEST_CASE("a receiver dropped before finish removes its file", "[snapshot]") {
  temp_dir dir;
  {
    auto created = snapshot_receiver::create(dir.path, 12, 1);
    auto receiver = std::move(std::get<std::unique_ptr<snapshot_receiver>>(created));
    REQUIRE_FALSE(receiver->write(0, "PREZSNP1").has_value());
    CHECK(names_in(dir) == std::vector<std::string>{snapshot_file_name(12) + ".recv"});
  }
  CHECK(names_in(dir).empty());
}

TEST_CASE("a full disk is an error string, and the temp files are cleaned up", "[snapshot]") {
  temp_dir dir;
  const std::string body = make_body(3 << 20);
  {
    const file_size_limit limit(64 * 1024);
    auto writer = create_ok(dir.path, make_meta(6));
    std::optional<std::string> error;
    for (std::size_t at = 0; at < body.size() && !error; at += 100'000)
      error = writer->append(std::string_view(body).substr(at, 100'000));
    REQUIRE(error.has_value());
    CHECK_THAT(*error, Catch::Matchers::Contains("cannot write"));
    // The first error sticks.
    CHECK(writer->append("more") == error);
    auto finished = writer->finish();
    REQUIRE(std::holds_alternative<std::string>(finished));
    CHECK(std::get<std::string>(finished) == *error);

    auto created = snapshot_receiver::create(dir.path, 6, 1);
    auto receiver = std::move(std::get<std::unique_ptr<snapshot_receiver>>(created));
    auto write_error = receiver->write(0, body);
    REQUIRE(write_error.has_value());
    CHECK_THAT(*write_error, Catch::Matchers::Contains("cannot write"));
    CHECK(receiver->write(0, "x") == write_error);
    CHECK(std::holds_alternative<std::string>(receiver->finish()));
  }
  CHECK(names_in(dir).empty());
  std::vector<std::string> refused;
  CHECK_FALSE(newest_valid_snapshot(dir.path, refused).has_value());
}
