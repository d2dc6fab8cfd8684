#pragma once
// The value of a Redis sorted set: members ordered by (score, member) with their ranks. Pure and
// deterministic: a skip list whose node heights come from a hash of the member mixed with the
// set's seed (never from a random generator), so the same seed and members give the same shape
// on every replica, after a snapshot restore too (snapshots keep the seed); plus a member ->
// score map. Owned by the keyspace like every value (docs/architecture.md §6, the value
// families).
//
// Costs: insert, erase, rank, element at rank, partition_point O(log n) expected; score lookup
// O(log n); a walk over k ranks O(log n + k). The seed of a stored set comes from
// keyspace::draw() when it is created, so a client cannot easily pick members that all get
// height 1; if one did, the list would degenerate to O(n) per operation, never crash (every walk
// is a loop, no recursion).

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace prez::kv {

/// A sorted set. Copyable (a running snapshot copies a value before it changes), movable.
class zset {
public:
  /// One member and its score, as the set holds them. `member` views the set's own copy: valid
  /// until that member is removed or the set is destroyed.
  struct item {
    std::string_view member;
    double score = 0;
  };
  /// Member -> score, in member order (snapshots and ZSCAN walk it).
  using member_map = std::map<std::string, double, std::less<>>;

  /// An empty set whose node heights are mixed with `seed`.
  explicit zset(std::uint64_t seed = 0);
  ~zset();
  zset(const zset& other);
  zset& operator=(const zset& other);
  zset(zset&& other) noexcept;
  zset& operator=(zset&& other) noexcept;

  std::size_t size() const { return d_->scores.size(); }
  bool empty() const { return d_->scores.empty(); }
  /// The score of `member`, or nullopt when it is not in the set.
  std::optional<double> score(std::string_view member) const;
  /// Adds `member` with `score`, or moves it to `score` when present. Returns whether it was
  /// added. Precondition: score is not NaN (NaN has no place in the order). -0 is stored as 0.
  bool set(std::string_view member, double score);
  /// Removes `member`; returns whether it was present.
  bool erase(std::string_view member);
  /// The 0-based rank of `member` in ascending order. Precondition: it is in the set.
  std::size_t rank(std::string_view member) const;
  /// The item at 0-based ascending `rank`. Precondition: rank < size().
  item at(std::size_t rank) const;

  /// How many items, from the lowest, satisfy `pred` (an item -> bool), assuming it holds for a
  /// prefix of the order and not after (as "score < 3" does). Used for score and lex bounds.
  template <class Pred>
  std::size_t partition_point(Pred pred) const {
    const node* at = &d_->head;
    std::size_t passed = 0;
    for (std::size_t level = d_->levels; level-- > 0;) {
      while (at->links[level].next != nullptr && pred(view(*at->links[level].next))) {
        passed += at->links[level].span;
        at = at->links[level].next;
      }
    }
    return passed;
  }

  /// Calls `visit(item)` for the ranks first..last (0-based, inclusive), ascending, or for the
  /// ranks last..first descending when `reverse`. Precondition: first <= last < size().
  template <class Visit>
  void for_each(std::size_t first, std::size_t last, bool reverse, Visit visit) const {
    const node* at = find_rank(reverse ? last : first);
    for (std::size_t left = last - first + 1; left > 0; --left) {
      visit(view(*at));
      at = reverse ? at->previous : at->links[0].next;
    }
  }

  /// Every member with its score, in member order.
  const member_map& by_member() const { return d_->scores; }
  /// What node heights are mixed with (kept by copies and snapshots).
  std::uint64_t seed() const { return d_->seed; }

  /// Checks the skip list against the map (tests; O(n)): order, spans, back links, size.
  bool valid() const;

private:
  struct node;
  /// A forward link on one level. `span` counts the level-0 steps it covers; a link with no
  /// next node spans the nodes after its owner (so a node inserted there is counted right).
  struct link {
    node* next = nullptr;
    std::size_t span = 0;
  };
  struct node {
    double score = 0;
    const std::string* member = nullptr; ///< the key in scores; nullptr for the head
    node* previous = nullptr;            ///< level 0 back link; nullptr for the first node
    std::vector<link> links;             ///< one per level, links.size() is the node's height
  };

  static constexpr std::size_t levels_max = 32;

  static item view(const node& n) { return {*n.member, n.score}; }
  /// The node at 0-based rank. Precondition: rank < size().
  const node* find_rank(std::size_t rank) const;
  void link_node(const std::string* member, double score);
  void unlink_node(std::string_view member, double score);
  void clear_list();

  /// The set's state lives on the heap: a key's value (kv::value, a variant) is as large as its
  /// largest alternative, and a sorted set inline (112 bytes) made every string key pay for it.
  /// Invariant: the list holds exactly one node per entry of scores, with that score, linked in
  /// ascending (score, member) order; 1 <= levels <= levels_max; head.links.size() ==
  /// levels_max.
  struct state {
    member_map scores;
    std::uint64_t seed = 0;
    node head;
    std::size_t levels = 1; ///< levels in use
  };
  std::unique_ptr<state> d_;
};

/// Whether (a_score, a_member) sorts before (b_score, b_member): by score, then member bytes.
inline bool zset_less(double a_score, std::string_view a_member, double b_score,
                      std::string_view b_member) {
  return a_score < b_score || (a_score == b_score && a_member < b_member);
}

/// A score as Redis 7.0 prints it: "inf", "-inf", or printf's %.17g.
std::string format_score(double score);

} // namespace prez::kv
