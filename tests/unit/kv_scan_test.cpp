// SCAN, HSCAN and SSCAN walks: cursors stay below 2^53 (JavaScript clients hold them as numbers),
// HSCAN and SSCAN return a page at a time for large collections and the whole collection with
// cursor 0 for small ones, and every element present for a whole walk is returned at least once
// while others come and go.

#include <catch2/catch.hpp>

#include <charconv>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "actors/gateway/resp3.hpp"
#include "actors/state_machine/kv_commands.hpp"
#include "actors/state_machine/kv_state.hpp"

using namespace prez;

namespace {

constexpr std::uint64_t js_safe_max = (std::uint64_t{1} << 53) - 1;

struct page {
  std::uint64_t cursor = 0;
  std::vector<std::string> items;
};

page read_page(const std::string& reply) {
  auto parsed = parse_resp2_reply(reply);
  REQUIRE(parsed);
  REQUIRE(parsed->type == '*');
  REQUIRE(parsed->elements.size() == 2);
  page p;
  const auto& cursor = parsed->elements[0].payload;
  auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + cursor.size(), p.cursor);
  REQUIRE(ec == std::errc{});
  REQUIRE(end == cursor.data() + cursor.size());
  for (const auto& item : parsed->elements[1].elements)
    p.items.emplace_back(item.payload);
  return p;
}

struct walk_result {
  std::set<std::string> seen; ///< names (fields for HSCAN, whose values are checked)
  int calls = 0;
  std::uint64_t largest_cursor = 0;
  std::size_t smallest_page = ~std::size_t{0}; ///< of the pages before the last
};

/// Walks `command` (e.g. {"HSCAN", "h"}) to the end, calling `between(call)` after each page.
walk_result walk(kv_state& state, std::vector<std::string> command, const std::string& count,
                 const std::function<void(int)>& between) {
  walk_result r;
  std::uint64_t cursor = 0;
  const bool pairs = command[0] == "HSCAN" || command[0] == "ZSCAN";
  do {
    auto argv = command;
    argv.push_back(std::to_string(cursor));
    argv.push_back("COUNT");
    argv.push_back(count);
    auto p = read_page(state.read(argv, 1'000));
    for (std::size_t i = 0; i < p.items.size(); i += pairs ? 2 : 1) {
      r.seen.insert(p.items[i]);
      if (command[0] == "HSCAN") CHECK(p.items[i + 1] == "v" + p.items[i]);
      if (command[0] == "ZSCAN") CHECK(p.items[i + 1] == p.items[i].substr(1));
    }
    cursor = p.cursor;
    r.largest_cursor = std::max(r.largest_cursor, cursor);
    if (cursor != 0) r.smallest_page = std::min(r.smallest_page, p.items.size() / (pairs ? 2 : 1));
    between(r.calls);
    ++r.calls;
  } while (cursor != 0 && r.calls < 10'000);
  return r;
}

} // namespace

TEST_CASE("SCAN cursors stay below 2^53 and the walk is complete", "[kv_scan]") {
  kv_state state;
  for (int i = 0; i < 3000; ++i)
    state.apply({"SET", "k" + std::to_string(i), "v"}, 1'000);
  auto r = walk(state, {"SCAN"}, "10", [](int) {});
  CHECK(r.seen.size() == 3000);
  CHECK(r.largest_cursor > 0);
  CHECK(r.largest_cursor <= js_safe_max);
  // A cursor prez never made (above the cursor range) ends the walk instead of wrapping.
  auto p = read_page(state.read({"SCAN", "18446744073709551615"}, 1'000));
  CHECK(p.cursor == 0);
  CHECK(p.items.empty());
}

TEST_CASE("HSCAN pages a large hash; every field present throughout is returned", "[kv_scan]") {
  kv_state state;
  for (int i = 0; i < 1000; ++i)
    state.apply({"HSET", "h", "f" + std::to_string(i), "vf" + std::to_string(i)}, 1'000);
  // Each call deletes one original field and adds a new one.
  auto r = walk(state, {"HSCAN", "h"}, "10", [&](int call) {
    state.apply({"HDEL", "h", "f" + std::to_string(call)}, 1'000);
    state.apply({"HSET", "h", "n" + std::to_string(call), "vn" + std::to_string(call)}, 1'000);
  });
  CHECK(r.calls > 10);
  CHECK(r.calls <= 40); // a page is at least size/32, whatever COUNT says
  CHECK(r.largest_cursor <= js_safe_max);
  CHECK(r.smallest_page >= 10);
  for (int i = r.calls; i < 1000; ++i)
    CHECK(r.seen.count("f" + std::to_string(i)) == 1);
}

TEST_CASE("SSCAN pages a large set with COUNT; a small set comes whole with cursor 0",
          "[kv_scan]") {
  kv_state state;
  for (int i = 0; i < 5000; ++i)
    state.apply({"SADD", "s", "m" + std::to_string(i)}, 1'000);
  auto r = walk(state, {"SSCAN", "s"}, "1000", [](int) {});
  CHECK(r.seen.size() == 5000);
  CHECK(r.calls >= 5);
  CHECK(r.calls <= 6);
  CHECK(r.smallest_page >= 1000);

  for (int i = 0; i < 100; ++i)
    state.apply({"SADD", "small", "m" + std::to_string(i)}, 1'000);
  auto p = read_page(state.read({"SSCAN", "small", "0", "COUNT", "5"}, 1'000));
  CHECK(p.cursor == 0);
  CHECK(p.items.size() == 100);
}

TEST_CASE("ZSCAN pages a large sorted set with scores; a small one comes whole in rank order",
          "[kv_scan]") {
  kv_state state;
  for (int i = 0; i < 2000; ++i)
    state.apply({"ZADD", "z", std::to_string(i), "m" + std::to_string(i)}, 1'000);
  auto r = walk(state, {"ZSCAN", "z"}, "10", [&](int call) {
    state.apply({"ZREM", "z", "m" + std::to_string(call)}, 1'000);
  });
  CHECK(r.calls > 10);
  CHECK(r.calls <= 40);
  CHECK(r.largest_cursor <= js_safe_max);
  for (int i = r.calls; i < 2000; ++i)
    CHECK(r.seen.count("m" + std::to_string(i)) == 1);
  state.apply({"ZADD", "small", "2", "b", "1", "a", "3", "c"}, 1'000);
  CHECK(
      state.read({"ZSCAN", "small", "0"}, 1'000) ==
      "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n");
}

TEST_CASE("scan_members: pages in cursor order, disjoint, and covering", "[kv_scan]") {
  std::vector<std::string> storage;
  for (int i = 0; i < 700; ++i)
    storage.push_back("x" + std::to_string(i));
  std::vector<std::string_view> names(storage.begin(), storage.end());
  std::set<std::size_t> seen;
  std::uint64_t cursor = 0;
  int pages = 0;
  do {
    auto page = kv::scan_members(names, cursor, 3);
    REQUIRE(!page.picked.empty());
    if (page.next != 0) CHECK(page.picked.size() >= 700 / 32);
    std::uint64_t previous = 0;
    for (auto i : page.picked) {
      const auto c = kv::scan_cursor_of(names[i]);
      CHECK(c >= cursor);
      CHECK(c >= previous);
      CHECK((page.next == 0 || c < page.next));
      previous = c;
      CHECK(seen.insert(i).second); // nothing twice when nothing changes
    }
    cursor = page.next;
    ++pages;
  } while (cursor != 0 && pages < 1000);
  CHECK(seen.size() == 700);
  CHECK(pages >= 30);
}
