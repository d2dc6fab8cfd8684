// The sorted set's skip list. Written for prez from the textbook skip list with spans (ranks);
// no code is taken from Redis.

#include "actors/state_machine/zset.hpp"

#include <cmath>
#include <cstdio>

#include "actors/state_machine/kv_state.hpp"
#include "config/assert.hpp"
#include "config/mix64.hpp"

namespace prez::kv {

namespace {

/// A node's height: 1, then one more level with probability 1/4 per two hash bits, at most
/// `levels_max`. A function of the member and the set's seed only (see zset.hpp).
std::size_t height_of(std::string_view member, std::uint64_t seed, std::size_t levels_max) {
  std::uint64_t bits = mix64(key_hash(member) ^ seed);
  std::size_t height = 1;
  while ((bits & 3) == 0 && height < levels_max) {
    ++height;
    bits >>= 2;
  }
  return height;
}

} // namespace

zset::zset(std::uint64_t seed) : d_(std::make_unique<state>()) {
  d_->seed = seed;
  d_->head.links.resize(levels_max);
}

zset::~zset() {
  if (d_) clear_list();
}

zset::zset(const zset& other) : zset(other.d_->seed) {
  for (const auto& [member, score] : other.d_->scores)
    set(member, score);
}

zset& zset::operator=(const zset& other) {
  if (this != &other) {
    zset copy(other);
    *this = std::move(copy);
  }
  return *this;
}

zset::zset(zset&& other) noexcept : d_(std::move(other.d_)) {
  // The nodes stay where they are (they live behind the pointer); `other` is left empty.
  other.d_ = std::make_unique<state>();
  other.d_->seed = d_->seed;
  other.d_->head.links.resize(levels_max);
}

zset& zset::operator=(zset&& other) noexcept {
  if (this != &other) {
    clear_list();
    d_ = std::move(other.d_);
    other.d_ = std::make_unique<state>();
    other.d_->seed = d_->seed;
    other.d_->head.links.resize(levels_max);
  }
  return *this;
}

void zset::clear_list() {
  node* at = d_->head.links.empty() ? nullptr : d_->head.links[0].next;
  while (at != nullptr) {
    node* next = at->links[0].next;
    delete at;
    at = next;
  }
  for (auto& l : d_->head.links)
    l = link{};
  d_->levels = 1;
}

std::optional<double> zset::score(std::string_view member) const {
  const auto found = d_->scores.find(member);
  return found == d_->scores.end() ? std::nullopt : std::optional<double>(found->second);
}

bool zset::set(std::string_view member, double score) {
  PREZ_ASSERT(!std::isnan(score));
  if (score == 0) score = 0; // -0 is held as 0: Redis 7.0 answers "0" for a score set to -0
  auto found = d_->scores.find(member);
  if (found != d_->scores.end()) {
    if (found->second == score) return false;
    unlink_node(member, found->second);
    found->second = score;
    link_node(&found->first, score);
    return false;
  }
  found = d_->scores.emplace(std::string(member), score).first;
  link_node(&found->first, score);
  return true;
}

bool zset::erase(std::string_view member) {
  const auto found = d_->scores.find(member);
  if (found == d_->scores.end()) return false;
  unlink_node(member, found->second);
  d_->scores.erase(found);
  return true;
}

std::size_t zset::rank(std::string_view member) const {
  const auto found = d_->scores.find(member);
  PREZ_ASSERT(found != d_->scores.end());
  const double score = found->second;
  return partition_point(
      [&](const item& i) { return zset_less(i.score, i.member, score, member); });
}

zset::item zset::at(std::size_t rank) const {
  return view(*find_rank(rank));
}

const zset::node* zset::find_rank(std::size_t rank) const {
  PREZ_ASSERT(rank < size());
  const std::size_t target = rank + 1; // the head is at position 0
  const node* at = &d_->head;
  std::size_t position = 0;
  for (std::size_t level = d_->levels; level-- > 0;) {
    while (at->links[level].next != nullptr && position + at->links[level].span <= target) {
      position += at->links[level].span;
      at = at->links[level].next;
    }
    if (position == target) return at;
  }
  PREZ_ASSERT(false);
  return nullptr;
}

/// Links a new node for `member` (already in d_->scores, not yet in the list).
void zset::link_node(const std::string* member, double score) {
  node* before[levels_max];
  std::size_t position[levels_max]; // of before[level], the head being 0
  node* at = &d_->head;
  for (std::size_t level = d_->levels; level-- > 0;) {
    position[level] = level + 1 == d_->levels ? 0 : position[level + 1];
    while (
        at->links[level].next != nullptr &&
        zset_less(at->links[level].next->score, *at->links[level].next->member, score, *member)) {
      position[level] += at->links[level].span;
      at = at->links[level].next;
    }
    before[level] = at;
  }
  const std::size_t height = height_of(*member, d_->seed, levels_max);
  const std::size_t count_before = size() - 1; // nodes in the list now
  for (std::size_t level = d_->levels; level < height; ++level) {
    before[level] = &d_->head;
    position[level] = 0;
    d_->head.links[level].span = count_before;
  }
  d_->levels = std::max(d_->levels, height);
  auto* fresh = new node{score, member, before[0] == &d_->head ? nullptr : before[0], {}};
  fresh->links.resize(height);
  for (std::size_t level = 0; level < height; ++level) {
    link& from = before[level]->links[level];
    const std::size_t skipped = position[0] - position[level];
    fresh->links[level] = link{from.next, from.span - skipped};
    from = link{fresh, skipped + 1};
  }
  for (std::size_t level = height; level < d_->levels; ++level)
    ++before[level]->links[level].span;
  if (fresh->links[0].next != nullptr) fresh->links[0].next->previous = fresh;
}

/// Unlinks and frees the node of `member` at `score` (still in d_->scores).
void zset::unlink_node(std::string_view member, double score) {
  node* before[levels_max];
  node* at = &d_->head;
  for (std::size_t level = d_->levels; level-- > 0;) {
    while (at->links[level].next != nullptr &&
           zset_less(at->links[level].next->score, *at->links[level].next->member, score, member))
      at = at->links[level].next;
    before[level] = at;
  }
  node* gone = at->links[0].next;
  PREZ_ASSERT(gone != nullptr && *gone->member == member);
  for (std::size_t level = 0; level < d_->levels; ++level) {
    link& from = before[level]->links[level];
    if (from.next == gone) {
      from = link{gone->links[level].next, from.span + gone->links[level].span - 1};
    } else {
      --from.span;
    }
  }
  if (gone->links[0].next != nullptr) gone->links[0].next->previous = gone->previous;
  while (d_->levels > 1 && d_->head.links[d_->levels - 1].next == nullptr) {
    d_->head.links[d_->levels - 1] = link{};
    --d_->levels;
  }
  delete gone;
}

bool zset::valid() const {
  if (d_->levels < 1 || d_->levels > levels_max || d_->head.links.size() != levels_max)
    return false;
  std::size_t count = 0;
  const node* previous = nullptr;
  std::vector<std::size_t> position_of_level(d_->levels, 0); // last node seen per level
  std::vector<const node*> last_of_level(d_->levels, &d_->head);
  for (const node* at = d_->head.links[0].next; at != nullptr; at = at->links[0].next) {
    ++count;
    const auto found = d_->scores.find(*at->member);
    if (found == d_->scores.end() || &found->first != at->member || found->second != at->score)
      return false;
    if (at->previous != previous) return false;
    if (previous != nullptr &&
        !zset_less(previous->score, *previous->member, at->score, *at->member))
      return false;
    if (at->links.size() > d_->levels) return false;
    for (std::size_t level = 0; level < at->links.size(); ++level) {
      const link& from = last_of_level[level]->links[level];
      if (from.next != at || from.span != count - position_of_level[level]) return false;
      last_of_level[level] = at;
      position_of_level[level] = count;
    }
    previous = at;
  }
  for (std::size_t level = 0; level < d_->levels; ++level)
    if (last_of_level[level]->links[level].next != nullptr) return false;
  return count == d_->scores.size();
}

std::string format_score(double score) {
  if (std::isinf(score)) return score > 0 ? "inf" : "-inf";
  char buffer[64];
  const int written = std::snprintf(buffer, sizeof buffer, "%.17g", score);
  return std::string(buffer, static_cast<std::size_t>(written));
}

} // namespace prez::kv
