// libFuzzer target for WAL recovery: prez::storage::log_store::open on a data directory whose
// files come from the input. Input layout (every field optional: a short input just means fewer
// files):
//   byte 0                flags: bit 0 = a hard-state file follows, bit 1 = two segments
//   if bit 0: u16 LE n, then n bytes        the hard-state file
//   if bit 1: u16 LE k, u8 i                the first segment holds the next k bytes; the second
//                                           segment is named log-<i>.seg and holds the rest
//   the rest                                log-00000000000000000001.seg
// Properties, each a trap when broken:
//   - open never crashes; it either refuses with a message and leaves every file as it was, or
//     recovers entries with indexes 1..n and terms >= 1 that never decrease, keeping each segment
//     whole except a torn tail cut from the last one (reported in truncated_tail_bytes);
//   - after a successful open, appending one entry and reopening gives the same hard state and
//     entries plus the new one, with nothing cut.
// Each process works in its own directory under $TMPDIR (default /tmp), removed at exit.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include "actors/storage/log_store.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

namespace fs = std::filesystem;
using prez::storage::log_store;
using prez::storage::recovered_state;

/// This process's scratch directory; removed by an atexit handler. Never destroyed itself, so the
/// handler can still use it.
const fs::path& scratch_root() {
  static const fs::path* const root = [] {
    const char* tmp = std::getenv("TMPDIR");
    auto* path = new fs::path(fs::path(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") /
                              ("prez-wal-fuzz-" + std::to_string(::getpid())));
    fs::create_directories(*path);
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(scratch_root(), ec);
    });
    return path;
  }();
  return *root;
}

/// Reads the next `count` bytes (fewer at the end of the input).
std::string_view take(std::string_view& input, std::size_t count) {
  const std::string_view taken = input.substr(0, count);
  input.remove_prefix(taken.size());
  return taken;
}

std::size_t take_u16(std::string_view& input) {
  const std::string_view bytes = take(input, 2);
  std::size_t value = 0;
  for (std::size_t i = bytes.size(); i-- > 0;)
    value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

std::string segment_name(std::uint64_t first_index) {
  char name[64];
  std::snprintf(name, sizeof name, "log-%020llu.seg", static_cast<unsigned long long>(first_index));
  return name;
}

/// A file the input puts in the data directory.
struct input_file {
  std::string name;
  std::string bytes;
  bool is_segment = true;
};

std::vector<input_file> split_input(std::string_view input) {
  std::vector<input_file> files;
  const std::string_view flags = take(input, 1);
  const unsigned flag_bits = flags.empty() ? 0u : static_cast<unsigned char>(flags[0]);
  if (flag_bits & 1u) {
    const std::size_t size = take_u16(input);
    files.push_back({"hard-state", std::string(take(input, size)), false});
  }
  if (flag_bits & 2u) {
    const std::size_t size = take_u16(input);
    const std::string_view index = take(input, 1);
    const std::string_view first = take(input, size);
    files.push_back({segment_name(1), std::string(first), true});
    const std::uint64_t second_index = index.empty() ? 2 : static_cast<unsigned char>(index[0]);
    if (second_index == 1) files.pop_back(); // same file name: the second one is what is on disk
    files.push_back({segment_name(second_index), std::string(input), true});
  } else {
    files.push_back({segment_name(1), std::string(input), true});
  }
  return files;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  FUZZ_CHECK(in.good());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  FUZZ_CHECK(out.good());
}

/// The segment open() may have cut: the one sorting last by name (the highest first index).
std::size_t last_segment_of(const std::vector<input_file>& files) {
  std::size_t last = files.size();
  for (std::size_t i = 0; i < files.size(); ++i)
    if (files[i].is_segment && (last == files.size() || files[i].name > files[last].name)) last = i;
  return last;
}

void check_entries(const recovered_state& state) {
  // Every input holds log-1, so recovery starts at 1 even though it accepts a compacted log.
  FUZZ_CHECK(state.first_index == 1);
  std::uint64_t previous_term = 0;
  for (std::size_t i = 0; i < state.entries.size(); ++i) {
    FUZZ_CHECK(state.entries[i].index == state.first_index + i);
    FUZZ_CHECK(state.entries[i].term >= 1 && state.entries[i].term >= previous_term);
    previous_term = state.entries[i].term;
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<input_file> files =
      split_input(std::string_view(reinterpret_cast<const char*>(data), size));
  const fs::path dir = scratch_root() / "data";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  for (const input_file& file : files)
    write_file(dir / file.name, file.bytes);

  recovered_state state;
  auto opened = log_store::open(dir.string(), state);
  if (auto* error = std::get_if<std::string>(&opened)) {
    // Refused: a reason, and nothing on disk changed.
    FUZZ_CHECK(!error->empty());
    for (const input_file& file : files)
      FUZZ_CHECK(read_file(dir / file.name) == file.bytes);
    return 0;
  }
  std::unique_ptr<log_store> store = std::move(std::get<std::unique_ptr<log_store>>(opened));
  check_entries(state);
  FUZZ_CHECK(store->first_index() == state.first_index);
  FUZZ_CHECK(store->last_index() + 1 == state.first_index + state.entries.size());
  FUZZ_CHECK(store->last_term() == (state.entries.empty() ? 0 : state.entries.back().term));

  // Only the last segment may lose bytes, and only a tail.
  const std::size_t last = last_segment_of(files);
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string now = read_file(dir / files[i].name);
    if (i != last) {
      FUZZ_CHECK(now == files[i].bytes);
      continue;
    }
    FUZZ_CHECK(state.truncated_tail_bytes <= files[i].bytes.size());
    FUZZ_CHECK(now.size() == files[i].bytes.size() - state.truncated_tail_bytes);
    FUZZ_CHECK(files[i].bytes.compare(0, now.size(), now) == 0);
  }

  // Append one entry, reopen: everything is kept.
  prez::log_entry entry;
  entry.index = store->last_index() + 1;
  entry.term = store->last_term() == 0 ? 1 : store->last_term();
  entry.type = static_cast<std::uint8_t>(prez::entry_type::command);
  entry.data = "fuzz";
  FUZZ_CHECK(!store->append({entry}).has_value());
  FUZZ_CHECK(store->last_index() == entry.index);
  store.reset(); // releases the directory lock

  recovered_state again;
  auto reopened = log_store::open(dir.string(), again);
  if (auto* error = std::get_if<std::string>(&reopened)) {
    std::fprintf(stderr, "reopen after append refused: %s\n", error->c_str());
    FUZZ_CHECK(false);
  }
  FUZZ_CHECK(again.truncated_tail_bytes == 0);
  FUZZ_CHECK(again.hard == state.hard);
  std::vector<prez::log_entry> expected = state.entries;
  expected.push_back(entry);
  FUZZ_CHECK(again.entries == expected);
  return 0;
}
