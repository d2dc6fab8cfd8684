// The audit log: line format and escaping, transactions, the tail scan after a crash, the rotation
// decision (actors/storage/audit_log.hpp), and the file itself (audit_log_file.hpp) on a real
// directory: skipping re-applied entries after a restart, cutting torn tails, rotation, failures.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <unistd.h>

#include "actors/storage/audit_log.hpp"
#include "actors/storage/audit_log_file.hpp"
#include "tests/temp_dir.hpp"

using namespace prez;
using namespace prez::audit;
namespace fs = std::filesystem;

namespace {

std::string repr(std::string_view arg) {
  std::string out;
  append_quoted(out, arg);
  return out;
}

client_command command(std::vector<std::string> argv, std::uint64_t time_ms = 1700000000123) {
  client_command c;
  c.client_id = 7;
  c.seq = 1;
  c.time_ms = time_ms;
  c.argv = std::move(argv);
  return c;
}

/// A fresh directory under /tmp, removed with everything in it at scope exit.
struct temp_dir : prez::testing::temp_dir {
  temp_dir() : prez::testing::temp_dir("prez-audit") {}
};

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

audit_line set_line(std::uint64_t index, const std::string& key, const std::string& value) {
  return entry_lines(index, 2, command({"SET", key, value}, 1000 + index));
}

} // namespace

TEST_CASE("arguments are quoted like Redis's sdscatrepr", "[audit]") {
  CHECK(repr("") == "\"\"");
  CHECK(repr("plain text 123 ~!@#$%^&*()") == "\"plain text 123 ~!@#$%^&*()\"");
  CHECK(repr("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(repr("\n\r\t\a\b") == "\"\\n\\r\\t\\a\\b\"");
  CHECK(repr(std::string("\0\x01\x1f\x7f\x80\xff", 6)) == "\"\\x00\\x01\\x1f\\x7f\\x80\\xff\"");
  CHECK(repr("caf\xc3\xa9") == "\"caf\\xc3\\xa9\""); // UTF-8 is bytes, as in MONITOR
  // Every byte value: printable ASCII stays, nothing else does, and the result is one line.
  std::string all;
  for (int b = 0; b < 256; ++b)
    all.push_back(static_cast<char>(b));
  const std::string out = repr(all);
  CHECK(out.find('\n') == std::string::npos);
  for (const char c : out)
    CHECK((c >= 0x20 && c < 0x7f));
}

TEST_CASE("a command is one line: index, term, leader time, quoted arguments", "[audit]") {
  CHECK(command_line(12, 3, 1700000000123, {"SET", "key", "va lue"}) ==
        "12 3 1700000000123 \"SET\" \"key\" \"va lue\"\n");
  const audit_line line = entry_lines(5, 2, command({"INCR", "n"}, 99));
  CHECK(line.index == 5);
  CHECK(line.text == "5 2 99 \"INCR\" \"n\"\n");
}

TEST_CASE("a transaction is MULTI, its commands, EXEC with the same index, term and time",
          "[audit]") {
  client_command c = command({"EXEC"}, 42);
  c.transaction = {{"SET", "a", "1"}, {"INCR", "b"}};
  const audit_line line = entry_lines(9, 4, c);
  CHECK(line.index == 9);
  CHECK(line.text == "9 4 42 \"MULTI\"\n"
                     "9 4 42 \"SET\" \"a\" \"1\"\n"
                     "9 4 42 \"INCR\" \"b\"\n"
                     "9 4 42 \"EXEC\"\n");
}

TEST_CASE("comments: snapshot jumps and lost entries", "[audit]") {
  CHECK(snapshot_comment(100, 7, true).text ==
        "# snapshot installed at index 100 term 7: entries up to 100 are not listed\n");
  CHECK(snapshot_comment(100, 7, false).index == 100);
  CHECK(line_index("# snapshot installed at index 100 term 7: entries up to 100 are not listed") ==
        100u);
  const audit_line lost = lost_comment(5, 8, "disk full");
  CHECK(lost.index == 8);
  CHECK(lost.text == "# audit log: the commands of entries 5..8 are not listed: disk full\n");
  CHECK(line_index(lost.text.substr(0, lost.text.size() - 1)) == std::nullopt);
}

TEST_CASE("line_index", "[audit]") {
  CHECK(line_index("12 3 4 \"SET\" \"a\" \"b\"") == 12u);
  CHECK(line_index("18446744073709551615 1 1 \"PING\"") == 18446744073709551615u);
  CHECK(line_index("") == std::nullopt);
  CHECK(line_index("12") == std::nullopt);
  CHECK(line_index("12 3 4") == std::nullopt);
  CHECK(line_index("x 3 4 \"SET\"") == std::nullopt);
  CHECK(line_index("# other comment") == std::nullopt);
}

TEST_CASE("scan_tail: whole lines, torn lines, empty files", "[audit]") {
  const std::string a = set_line(1, "a", "1").text;
  const std::string b = set_line(2, "b", "2").text;
  auto scan = scan_tail(a + b, true);
  CHECK(scan.decided);
  CHECK(scan.keep_bytes == a.size() + b.size());
  CHECK(scan.last_index == 2u);

  // A torn last line is cut; the index before it counts.
  scan = scan_tail(a + b + "3 2 1003 \"SET\" \"c", true);
  CHECK(scan.decided);
  CHECK(scan.keep_bytes == a.size() + b.size());
  CHECK(scan.last_index == 2u);

  // A file holding only a torn line, and an empty file.
  scan = scan_tail("1 2 3 \"SE", true);
  CHECK(scan.decided);
  CHECK(scan.keep_bytes == 0);
  CHECK(scan.last_index == std::nullopt);
  scan = scan_tail("", true);
  CHECK(scan.last_index == std::nullopt);
  CHECK(scan.keep_bytes == 0);

  // A window that starts mid-line: that partial first line is not read.
  const std::string c = set_line(3, "c", "3").text;
  scan = scan_tail(a.substr(4) + b + c, false);
  CHECK(scan.decided);
  CHECK(scan.last_index == 3u);
  CHECK(scan.keep_bytes == a.size() - 4 + b.size() + c.size());

  // Comments after the last command, and a snapshot comment as the last indexed line.
  const std::string snap = snapshot_comment(50, 3, true).text;
  const std::string lost = lost_comment(51, 52, "x").text;
  scan = scan_tail(a + snap + lost, true);
  CHECK(scan.last_index == 50u);
  CHECK(scan.keep_bytes == a.size() + snap.size() + lost.size());
}

TEST_CASE("scan_tail: a transaction cut before its EXEC line is cut whole", "[audit]") {
  client_command c = command({"EXEC"}, 42);
  c.transaction = {{"SET", "a", "1"}, {"SET", "b", "\"MULTI\""}};
  const std::string before = set_line(6, "x", "y").text;
  const std::string txn = entry_lines(7, 2, c).text;
  CHECK(scan_tail(before + txn, true).last_index == 7u);
  // Cut after each of its lines but the last: back to the entry before.
  std::size_t end = 0;
  for (int lines = 1; lines <= 3; ++lines) {
    end = txn.find('\n', end) + 1;
    const auto scan = scan_tail(before + txn.substr(0, end), true);
    INFO("lines kept: " << lines);
    CHECK(scan.decided);
    CHECK(scan.last_index == 6u);
    CHECK(scan.keep_bytes == before.size());
  }
  // Torn in the middle of a line, too.
  const auto scan = scan_tail(before + txn.substr(0, txn.size() - 3), true);
  CHECK(scan.last_index == 6u);
  CHECK(scan.keep_bytes == before.size());
  // A single command is complete at its newline.
  CHECK(scan_tail(before, true).last_index == 6u);
}

TEST_CASE("scan_tail: a window too short to decide asks for more", "[audit]") {
  const std::string big = set_line(3, "k", std::string(1000, 'v')).text;
  // No newline at all in a window that is not the whole file.
  auto scan = scan_tail(big.substr(100, 500), false);
  CHECK_FALSE(scan.decided);
  CHECK(scan.keep_bytes == 500); // the best guess cuts nothing
  // One whole line whose start is not visible.
  scan = scan_tail(big.substr(100), false);
  CHECK_FALSE(scan.decided);
  // Its transaction's MULTI line outside the window.
  client_command c = command({"EXEC"}, 1);
  c.transaction = {{"SET", "a", "1"}, {"SET", "b", "2"}};
  const std::string txn = entry_lines(4, 1, c).text;
  scan = scan_tail(txn.substr(txn.find('\n') + 1, txn.rfind("4 1 1 \"EXEC\"") - txn.find('\n') - 1),
                   false);
  CHECK_FALSE(scan.decided);
}

TEST_CASE("should_rotate", "[audit]") {
  CHECK_FALSE(should_rotate(0, 100, 10));     // a new file takes any batch
  CHECK_FALSE(should_rotate(50, 50, 100));    // exactly full
  CHECK(should_rotate(50, 51, 100));          // would exceed
  CHECK_FALSE(should_rotate(1u << 30, 1, 0)); // 0: never
  CHECK(rotated_path("/a/audit.log", 1) == "/a/audit.log.1");
  CHECK(rotated_path("audit.log", 12) == "audit.log.12");
}

// --- the file --------------------------------------------------------------------------------

TEST_CASE("audit_log_file appends batches and skips what a restart applies again", "[audit]") {
  temp_dir dir;
  const std::string path = dir.file("audit.log");
  {
    storage::audit_log_file file({path, 0, 5});
    REQUIRE_FALSE(file.append({set_line(1, "a", "1"), set_line(2, "b", "2")}));
    REQUIRE_FALSE(file.append({set_line(3, "c", "3")}));
    CHECK(file.last_index() == 3);
  }
  const std::string written = read(path);
  CHECK(written ==
        set_line(1, "a", "1").text + set_line(2, "b", "2").text + set_line(3, "c", "3").text);
  // A restart: the state machine applies 2..4 again (from its snapshot at 1).
  storage::audit_log_file file({path, 0, 5});
  REQUIRE_FALSE(file.append({set_line(2, "b", "2"), set_line(3, "c", "3")}));
  CHECK(read(path) == written);
  REQUIRE_FALSE(file.append({set_line(3, "c", "3"), set_line(4, "d", "4")}));
  CHECK(read(path) == written + set_line(4, "d", "4").text);
  CHECK(file.last_index() == 4);
}

TEST_CASE("audit_log_file cuts a torn tail before appending", "[audit]") {
  temp_dir dir;
  const std::string path = dir.file("audit.log");
  const std::string whole = set_line(1, "a", "1").text;
  const std::string torn = "2 2 1002 \"SET\" \"b";
  write(path, whole + torn);
  storage::audit_log_file file({path, 0, 5});
  REQUIRE_FALSE(file.append({set_line(1, "a", "1"), set_line(2, "b", "2")}));
  CHECK(read(path) == whole + set_line(2, "b", "2").text);
  auto notices = file.take_notices();
  REQUIRE(notices.size() == 1);
  CHECK(notices[0].find("cut " + std::to_string(torn.size()) + " bytes") != std::string::npos);
}

TEST_CASE("audit_log_file rotates by size and keeps audit-log-keep files", "[audit]") {
  temp_dir dir;
  const std::string path = dir.file("audit.log");
  const std::uint64_t line_bytes = set_line(1, "k", "v").text.size();
  storage::audit_log_file file({path, 2 * line_bytes, 2});
  for (std::uint64_t i = 1; i <= 7; ++i)
    REQUIRE_FALSE(file.append({set_line(i, "k", "v")}));
  // Two lines per file: 7 in .. 5,6 in .1 .. 3,4 in .2; 1,2 dropped with the third rotation.
  CHECK(read(path) == set_line(7, "k", "v").text);
  CHECK(read(path + ".1") == set_line(5, "k", "v").text + set_line(6, "k", "v").text);
  CHECK(read(path + ".2") == set_line(3, "k", "v").text + set_line(4, "k", "v").text);
  CHECK_FALSE(fs::exists(path + ".3"));
  // A batch larger than the limit goes whole into a fresh file.
  REQUIRE_FALSE(
      file.append({set_line(8, "k", "v"), set_line(9, "k", "v"), set_line(10, "k", "v")}));
  CHECK(read(path) ==
        set_line(8, "k", "v").text + set_line(9, "k", "v").text + set_line(10, "k", "v").text);
  CHECK(read(path + ".1") == set_line(7, "k", "v").text);
}

TEST_CASE("audit_log_file after a rotation and a restart continues from the rotated file",
          "[audit]") {
  temp_dir dir;
  const std::string path = dir.file("audit.log");
  write(path + ".1", set_line(1, "a", "1").text + set_line(2, "b", "2").text);
  write(path, "");
  storage::audit_log_file file({path, 0, 5});
  REQUIRE_FALSE(file.append({set_line(2, "b", "2"), set_line(3, "c", "3")}));
  CHECK(read(path) == set_line(3, "c", "3").text);
}

TEST_CASE("audit_log_file failures are reported, and the gap is written once it works again",
          "[audit]") {
  temp_dir dir;
  // A directory where the file should be: open fails (whoever runs the test, root included).
  const std::string path = dir.file("audit.log");
  fs::create_directory(path);
  storage::audit_log_file file({path, 0, 5});
  auto error = file.append({set_line(1, "a", "1"), set_line(2, "b", "2")});
  REQUIRE(error);
  CHECK(error->find("cannot open " + path) != std::string::npos);
  CHECK_FALSE(file.is_open());
  fs::remove(path);
  REQUIRE_FALSE(file.append({set_line(3, "c", "3")}));
  CHECK(read(path) == lost_comment(1, 2, "they could not be written (see the server log)").text +
                          set_line(3, "c", "3").text);
}

TEST_CASE("audit_log_file on a full disk reports, reopens, and names the lost entries", "[audit]") {
  temp_dir dir;
  const std::string path = dir.file("audit.log");
  // /dev/full fails every write with ENOSPC, as a full disk does.
  fs::create_symlink("/dev/full", path);
  storage::audit_log_file file({path, 0, 5});
  auto error = file.append({set_line(1, "a", "1")});
  REQUIRE(error);
  CHECK(error->find("cannot write " + path + ": No space left on device") != std::string::npos);
  CHECK_FALSE(file.is_open());
  CHECK(file.append({set_line(2, "b", "2"), set_line(3, "c", "3")}));
  // Space again: the next batch says which entries were lost, then goes on.
  fs::remove(path);
  REQUIRE_FALSE(file.append({set_line(4, "d", "4")}));
  CHECK(read(path) == lost_comment(1, 3, "they could not be written (see the server log)").text +
                          set_line(4, "d", "4").text);
  CHECK(file.last_index() == 4);
}
