// libFuzzer target for snapshot files (actors/storage/snapshot_file): the input is the content of
// snapshot-00000000000000000009.snap. Properties, each a trap when broken:
//   - validate_snapshot never crashes; it refuses with "<path>: <reason>" or accepts a file whose
//     meta.last_index is 9 and whose sizes add up;
//   - an accepted file's body streams back in pieces adding up to body_bytes, and a snapshot
//     written anew from that meta and body validates to the same meta and body;
//   - a snapshot_receiver fed the same bytes in chunks of input-chosen sizes accepts exactly when
//     validate_snapshot does (announced index 9 and the file's own term), producing the same bytes.
// Each process works in its own directory under $TMPDIR (default /tmp), removed at exit.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>

#include "actors/storage/snapshot_file.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

namespace fs = std::filesystem;
using namespace prez::storage;

const fs::path& scratch_root() {
  static const fs::path* const root = [] {
    const char* tmp = std::getenv("TMPDIR");
    auto* path = new fs::path(fs::path(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") /
                              ("prez-snapshot-fuzz-" + std::to_string(::getpid())));
    fs::create_directories(*path);
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(scratch_root(), ec);
    });
    return path;
  }();
  return *root;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  FUZZ_CHECK(out.good());
}

/// The body of the valid snapshot at `path`, read back in pieces of `piece_bytes`.
std::string read_body(const std::string& path, std::size_t piece_bytes) {
  std::string body;
  const auto error = read_snapshot_body(
      path,
      [&](std::string_view piece) -> std::optional<std::string> {
        FUZZ_CHECK(!piece.empty() && piece.size() <= piece_bytes);
        body.append(piece);
        return std::nullopt;
      },
      piece_bytes);
  FUZZ_CHECK(!error.has_value());
  return body;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // The first byte (when there is one) only picks chunk sizes; the file is the whole input, so
  // the corpus of valid files stays valid.
  const std::size_t chunk_bytes = size == 0 ? 1 : 1 + static_cast<unsigned char>(input[0]) % 97;
  const fs::path dir = scratch_root() / "data";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  const std::string path = (dir / snapshot_file_name(9)).string();
  write_file(path, input);

  auto validated = validate_snapshot(path);
  std::uint64_t announced_term = 0;
  if (auto* error = std::get_if<std::string>(&validated)) {
    FUZZ_CHECK(error->rfind(path + ": ", 0) == 0);
  } else {
    const auto& info = std::get<snapshot_info>(validated);
    FUZZ_CHECK(info.meta.last_index == 9);
    FUZZ_CHECK(info.file_bytes == size);
    FUZZ_CHECK(info.body_bytes <= size);
    const std::string body = read_body(path, chunk_bytes);
    FUZZ_CHECK(body.size() == info.body_bytes);
    announced_term = info.meta.last_term;

    // Written anew, it validates to the same meta and body.
    const fs::path again_dir = scratch_root() / "again";
    fs::remove_all(again_dir, ec);
    {
      auto created = snapshot_writer::create(again_dir.string(), info.meta);
      FUZZ_CHECK(std::holds_alternative<std::unique_ptr<snapshot_writer>>(created));
      auto& writer = std::get<std::unique_ptr<snapshot_writer>>(created);
      FUZZ_CHECK(!writer->append(body).has_value());
      auto finished = writer->finish();
      FUZZ_CHECK(std::holds_alternative<snapshot_info>(finished));
      const auto& rewritten = std::get<snapshot_info>(finished);
      FUZZ_CHECK(rewritten.meta == info.meta);
      FUZZ_CHECK(read_body(rewritten.path, 1 << 20) == body);
    }
  }

  // The follower's receiver agrees with validate_snapshot.
  const fs::path follower = scratch_root() / "follower";
  fs::remove_all(follower, ec);
  auto created = snapshot_receiver::create(follower.string(), 9, announced_term);
  FUZZ_CHECK(std::holds_alternative<std::unique_ptr<snapshot_receiver>>(created));
  auto& receiver = std::get<std::unique_ptr<snapshot_receiver>>(created);
  for (std::size_t at = 0; at < size; at += chunk_bytes)
    FUZZ_CHECK(!receiver->write(at, input.substr(at, chunk_bytes)).has_value());
  FUZZ_CHECK(receiver->received() == size);
  auto finished = receiver->finish();
  FUZZ_CHECK(std::holds_alternative<snapshot_info>(finished) ==
             std::holds_alternative<snapshot_info>(validated));
  if (std::holds_alternative<snapshot_info>(finished))
    FUZZ_CHECK(read_file(follower / snapshot_file_name(9)) == input);
  return 0;
}
