// The sorted set's skip list (actors/state_machine/zset.hpp) against a deliberately simple model:
// a std::set of (score, member) pairs plus a member -> score map. A seeded stream of inserts,
// updates and removals; after each step every query agrees with the model and the list's own
// invariants hold (zset::valid). The seed prints on failure.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "actors/state_machine/zset.hpp"
#include "config/mix64.hpp"

using prez::kv::zset;

namespace {

struct model {
  std::set<std::pair<double, std::string>> order;
  std::map<std::string, double> scores;

  void set(const std::string& member, double score) {
    if (const auto found = scores.find(member); found != scores.end())
      order.erase({found->second, member});
    scores[member] = score;
    order.insert({score, member});
  }
  void erase(const std::string& member) {
    const auto found = scores.find(member);
    if (found == scores.end()) return;
    order.erase({found->second, member});
    scores.erase(found);
  }
  std::vector<std::pair<double, std::string>> items() const { return {order.begin(), order.end()}; }
};

struct stream {
  std::uint64_t state;
  std::uint64_t below(std::uint64_t bound) { return prez::mix64(state++) % bound; }
};

std::vector<std::pair<double, std::string>> items_of(const zset& z, bool reverse) {
  std::vector<std::pair<double, std::string>> out;
  if (z.empty()) return out;
  z.for_each(0, z.size() - 1, reverse,
             [&](const zset::item& i) { out.emplace_back(i.score, std::string(i.member)); });
  return out;
}

void check_against(const zset& z, const model& m, stream& random) {
  REQUIRE(z.valid());
  REQUIRE(z.size() == m.scores.size());
  const auto expected = m.items();
  REQUIRE(items_of(z, false) == expected);
  auto reversed = expected;
  std::reverse(reversed.begin(), reversed.end());
  REQUIRE(items_of(z, true) == reversed);
  for (int probe = 0; probe < 8 && !expected.empty(); ++probe) {
    const std::size_t rank = random.below(expected.size());
    const auto item = z.at(rank);
    CHECK(item.score == expected[rank].first);
    CHECK(item.member == expected[rank].second);
    CHECK(z.rank(expected[rank].second) == rank);
    CHECK(z.score(expected[rank].second) == expected[rank].first);
    // A sub-range walk.
    const std::size_t last = rank + random.below(expected.size() - rank);
    std::vector<std::string> walked;
    z.for_each(rank, last, false, [&](const zset::item& i) { walked.emplace_back(i.member); });
    REQUIRE(walked.size() == last - rank + 1);
    CHECK(walked.front() == expected[rank].second);
    CHECK(walked.back() == expected[last].second);
  }
  // partition_point on a score bound is the count of items below it.
  const double bound = static_cast<double>(random.below(40)) / 2.0 - 5.0;
  const auto below = static_cast<std::size_t>(std::count_if(
      expected.begin(), expected.end(), [&](const auto& p) { return p.first < bound; }));
  CHECK(z.partition_point([&](const zset::item& i) { return i.score < bound; }) == below);
  CHECK(!z.score("never-a-member"));
}

} // namespace

TEST_CASE("zset: an empty set", "[zset]") {
  zset z;
  CHECK(z.empty());
  CHECK(z.valid());
  CHECK(!z.score("a"));
  CHECK(!z.erase("a"));
  CHECK(z.partition_point([](const zset::item&) { return true; }) == 0);
}

TEST_CASE("zset: order is by score, then member bytes; ties and infinities", "[zset]") {
  zset z;
  CHECK(z.set("b", 1));
  CHECK(z.set("a", 1));
  CHECK(z.set("c", 0.5));
  CHECK(z.set("top", std::numeric_limits<double>::infinity()));
  CHECK(z.set("bottom", -std::numeric_limits<double>::infinity()));
  CHECK(z.set(std::string("\xff", 1), 1)); // bytes compare unsigned, as memcmp
  CHECK_FALSE(z.set("a", 1));              // same score: nothing to do
  CHECK_FALSE(z.set("c", 2));              // moved
  REQUIRE(z.valid());
  std::vector<std::string> members;
  for (const auto& [score, member] : items_of(z, false))
    members.push_back(member);
  CHECK(members == std::vector<std::string>{"bottom", "a", "b", "\xff", "c", "top"});
  CHECK(z.rank("c") == 4);
  z.set("zero", -0.0);
  CHECK(!std::signbit(*z.score("zero"))); // -0 is held as 0
}

TEST_CASE("zset: copies and moves keep the order and the member views", "[zset]") {
  zset z;
  for (int i = 0; i < 200; ++i)
    z.set("m" + std::to_string(i), i % 7);
  zset copy(z);
  REQUIRE(copy.valid());
  CHECK(items_of(copy, false) == items_of(z, false));
  zset moved(std::move(copy));
  REQUIRE(moved.valid());
  CHECK(copy.empty());
  CHECK(copy.valid());
  copy.set("again", 1); // a moved-from set is usable
  CHECK(copy.valid());
  zset assigned;
  assigned = moved;
  CHECK(items_of(assigned, false) == items_of(z, false));
  assigned = std::move(moved);
  REQUIRE(assigned.valid());
  CHECK(assigned.size() == 200);
  z.erase("m0");
  CHECK(assigned.score("m0")); // copies are independent
}

TEST_CASE("zset: the seed changes heights, never the order; copies keep it", "[zset]") {
  zset plain;
  zset seeded(0x1234);
  for (int i = 0; i < 500; ++i) {
    plain.set("m" + std::to_string(i), i % 11);
    seeded.set("m" + std::to_string(i), i % 11);
  }
  REQUIRE(seeded.valid());
  CHECK(items_of(plain, false) == items_of(seeded, false));
  CHECK(zset(seeded).seed() == 0x1234);
  zset moved(std::move(seeded));
  CHECK(moved.seed() == 0x1234);
  CHECK(moved.valid());
}

TEST_CASE("zset: random operations agree with a naive model", "[zset]") {
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    INFO("seed=" << seed);
    stream random{seed * 0x9e3779b97f4a7c15ULL};
    zset z(prez::mix64(seed));
    model m;
    const std::uint64_t members = seed % 2 == 0 ? 30 : 600; // few: many updates; many: depth
    for (int step = 0; step < 3000; ++step) {
      const std::string member = "m" + std::to_string(random.below(members));
      const auto op = random.below(10);
      if (op < 6) {
        double score = static_cast<double>(random.below(21)) / 2.0 - 5.0;
        if (random.below(50) == 0)
          score = random.below(2) ? std::numeric_limits<double>::infinity()
                                  : -std::numeric_limits<double>::infinity();
        const bool added = z.set(member, score);
        CHECK(added == (m.scores.count(member) == 0));
        m.set(member, score);
      } else {
        const bool removed = z.erase(member);
        CHECK(removed == (m.scores.count(member) > 0));
        m.erase(member);
      }
      if (step % 50 == 0 || members < 100) check_against(z, m, random);
    }
    check_against(z, m, random);
    const zset copy(z);
    check_against(copy, m, random);
  }
}

TEST_CASE("copies are deep, a moved-from set is empty and usable, a key's value stays small",
          "[zset]") {
  prez::kv::zset a(7);
  a.set("x", 1);
  a.set("y", 2);
  prez::kv::zset copy = a;
  copy.set("z", 3);
  CHECK(a.size() == 2);
  CHECK(copy.size() == 3);
  prez::kv::zset moved = std::move(a);
  CHECK(moved.size() == 2);
  CHECK(moved.valid());
  CHECK(a.empty()); // NOLINT(bugprone-use-after-move): moved-from is specified as empty
  CHECK(a.valid());
  a.set("w", 5);
  CHECK(a.rank("w") == 0);
  CHECK(a.seed() == 7);
  copy = moved;
  CHECK(copy.size() == 2);
  CHECK(copy.valid());
  // The state is behind a pointer so a key's value (a variant) is not as large as a set.
  STATIC_REQUIRE(sizeof(prez::kv::zset) == sizeof(void*));
}
