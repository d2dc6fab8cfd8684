#pragma once
// A stream value (XADD and friends, kv_streams.cpp): entries ordered by ID, each a list of field
// value pairs, plus the stream's bookkeeping (last generated ID, largest deleted ID, entries ever
// added). Pure and deterministic: the same commands give the same stream on every replica.
//
// Redis keeps a stream in nodes of up to stream-node-max-entries entries, and trims with `~` only
// whole nodes. prez keeps every entry in one ordered map and gives each entry its ordinal (the
// value of entries-added when it was added); the entries whose ordinal falls in the same block of
// node_entries (100, Redis's default) form one node. So `~` trims as Redis does with its default
// node size, identically on every replica and after a snapshot (the ordinal travels with the
// entry). docs/compatibility.md lists what differs.
//
// Consumer groups (XGROUP, XREADGROUP, XACK, XCLAIM, ...: kv_stream_groups.cpp) live in the
// stream, as in Redis: each group has its last delivered ID, its read counter, its pending entries
// list (PEL) and its consumers, each with the IDs it owns. Every time in them is the time of the
// log entry that set it, so replicas agree.

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace prez::kv {

/// A stream entry ID: milliseconds, then a sequence number.
struct stream_id {
  std::uint64_t ms = 0;
  std::uint64_t seq = 0;
  friend auto operator<=>(const stream_id&, const stream_id&) = default;
};

inline constexpr stream_id stream_id_max{~std::uint64_t{0}, ~std::uint64_t{0}};

/// "ms-seq".
std::string to_string(stream_id id);

/// Parses an ID as Redis 7.0 does: "ms-seq", or "ms" (its seq is `missing_seq`); unless `strict`,
/// also "-" (0-0) and "+" (the largest ID). With `seq_given` (XADD), "ms-*" is accepted and sets
/// *seq_given to false. nullopt for anything else.
std::optional<stream_id> parse_stream_id(std::string_view text, std::uint64_t missing_seq,
                                         bool strict, bool* seq_given = nullptr);

/// The next and previous ID; false at the ends (the ID is unchanged then).
bool increment(stream_id& id);
bool decrement(stream_id& id);

struct stream_entry {
  /// The stream's append count when the entry was added (1 for the first ever; XSETID does not
  /// change it, unlike entries-added): its node is (ordinal - 1) / stream::node_entries.
  std::uint64_t ordinal = 0;
  /// field, value, field, value, ... as given (never empty, even count).
  std::vector<std::string> fields;
  friend bool operator==(const stream_entry&, const stream_entry&) = default;
};

/// Bytes an entry counts for in entry::bytes: the size of its item (stream::entry_item), so a
/// snapshot's size is bounded by entry::bytes as for the other types: 24 for its ID and
/// ordinal, and each field and value with 4 for its length.
std::size_t stream_entry_bytes(const stream_entry& entry);

/// A pending entry: delivered to `consumer` and not acknowledged yet (Redis's NACK).
struct stream_pending {
  std::string consumer;
  std::uint64_t delivery_time = 0; ///< ms, the log time of the last delivery
  std::uint64_t delivery_count = 0;
  friend bool operator==(const stream_pending&, const stream_pending&) = default;
};

struct stream_consumer {
  std::uint64_t seen_time = 0; ///< ms, the log time it last read or claimed
  std::set<stream_id> pending; ///< the IDs of the group's PEL it owns
  friend bool operator==(const stream_consumer&, const stream_consumer&) = default;
};

struct stream_group {
  /// Redis's SCG_INVALID_ENTRIES_READ: the read counter is not known.
  static constexpr std::int64_t unknown_read = -1;
  stream_id last_id;                        ///< the last ID delivered to the group
  std::int64_t entries_read = unknown_read; ///< entries the group read, counted as entries-added
  std::map<stream_id, stream_pending> pel;
  std::map<std::string, stream_consumer, std::less<>> consumers;
  friend bool operator==(const stream_group&, const stream_group&) = default;
};

class stream {
public:
  using groups_type = std::map<std::string, stream_group, std::less<>>;
  using entries_type = std::map<stream_id, stream_entry>;
  /// Entries per node for `~` trimming (Redis's stream-node-max-entries default).
  static constexpr std::uint64_t node_entries = 100;

  /// The stream's state lives on the heap: a key's value (kv::value, a variant) is as large as
  /// its largest alternative, and a stream inline (224 bytes) made every string key pay for it
  /// (docs/benchmarks.md, memory). A moved-from stream is empty.
  stream();
  stream(const stream& other);
  stream(stream&& other) noexcept;
  stream& operator=(const stream& other);
  stream& operator=(stream&& other) noexcept;
  ~stream();

  const entries_type& entries() const { return d_->entries; }
  std::size_t size() const { return d_->entries.size(); }
  bool empty() const { return d_->entries.empty(); }
  stream_id last_id() const { return d_->last_id; }
  stream_id max_deleted_id() const { return d_->max_deleted_id; }
  std::uint64_t entries_added() const { return d_->entries_added; }
  /// The first entry's ID, 0-0 when empty (XINFO's recorded-first-entry-id).
  stream_id first_id() const {
    return d_->entries.empty() ? stream_id{} : d_->entries.begin()->first;
  }

  /// The ID XADD gives a new entry at `time_ms` when none is given ("*"), or for "ms-*" when
  /// `ms` is set: nullopt when no ID above last_id() is left (or "ms-*" is below it).
  std::optional<stream_id> next_id(std::uint64_t time_ms, std::optional<std::uint64_t> ms) const;
  /// Appends an entry. Precondition: id > last_id(), fields non-empty and even. Returns its
  /// bytes.
  std::size_t append(stream_id id, std::vector<std::string> fields);
  /// Deletes the entry `id`; returns its bytes, 0 when absent.
  std::size_t erase(stream_id id);

  /// Trimming (XADD/XTRIM MAXLEN or MINID). `approx` trims whole nodes only and stops at the
  /// first it cannot remove whole; `limit` (only with approx, 0 for none) bounds the entries
  /// removed. Returns the entries removed; adds their bytes to `bytes_removed`.
  std::size_t trim_to_length(std::uint64_t maxlen, bool approx, std::uint64_t limit,
                             std::size_t& bytes_removed);
  std::size_t trim_below(stream_id minid, bool approx, std::uint64_t limit,
                         std::size_t& bytes_removed);

  bool contains(stream_id id) const { return d_->entries.contains(id); }

  // --- consumer groups (Redis 7.0's rules; every change keeps group_bytes() exact) ---

  const groups_type& groups() const { return d_->groups; }
  /// The group `name`, or nullptr. Through the pointer a caller may change only last_id and
  /// entries_read; the rest changes through the functions below.
  stream_group* find_group(std::string_view name);
  const stream_group* find_group(std::string_view name) const;
  /// Creates a group; false when one of that name exists.
  bool create_group(std::string_view name, stream_id last_id, std::int64_t entries_read);
  /// Removes a group with its PEL and consumers; false when there is none.
  bool destroy_group(std::string_view name);
  /// Creates consumer `name` seen at `time_ms`; false (nothing changes) when it exists.
  bool create_consumer(stream_group& group, std::string_view name, std::uint64_t time_ms);
  /// The consumer `name`, created when absent; either way seen at `time_ms` (Redis's
  /// streamLookupConsumer, then streamCreateConsumer). `created` says which.
  stream_consumer& seen_consumer(stream_group& group, std::string_view name, std::uint64_t time_ms,
                                 bool& created);
  /// Deletes a consumer and its pending entries; returns how many it had, nullopt when absent.
  std::optional<std::size_t> delete_consumer(stream_group& group, std::string_view name);
  /// XREADGROUP's delivery of a new entry: pending for `consumer` (taken from another consumer
  /// if the PEL had it), delivered at `time_ms`, once.
  void deliver(stream_group& group, stream_id id, const std::string& consumer,
               std::uint64_t time_ms);
  /// XREADGROUP's history: delivered once more at `time_ms`.
  static void redeliver(stream_pending& pending, std::uint64_t time_ms);
  /// XCLAIM's and XAUTOCLAIM's change of owner (creating the pending entry, counted once, when
  /// absent: FORCE): delivered at `delivery_time`; the count set to `count` when given, else
  /// incremented when `increment`.
  void claim(stream_group& group, stream_id id, const std::string& consumer,
             std::uint64_t delivery_time, std::optional<std::uint64_t> count, bool increment);
  /// Removes a pending entry (XACK, or a claim of a deleted entry); false when absent.
  bool unpend(stream_group& group, stream_id id);
  /// Moves the group past `id`, which XREADGROUP delivers: last_id, and the read counter as
  /// Redis 7.0 keeps it (counted while no tombstone lies ahead, else estimated).
  void advance_group(stream_group& group, stream_id id) const;
  /// The group's lag (entries not delivered yet), nullopt when it cannot be known.
  std::optional<long long> lag(const stream_group& group) const;
  /// Bytes the groups count for in entry::bytes: the size of their items.
  std::size_t group_bytes() const { return d_->group_bytes; }

  /// XSETID's change (its checks are the caller's).
  void set_last_id(stream_id id) { d_->last_id = id; }
  void set_entries_added(std::uint64_t count) { d_->entries_added = count; }
  void set_max_deleted_id(stream_id id) { d_->max_deleted_id = id; }

  // --- items (value_items.hpp): a snapshot record's and a DUMP payload's view of a stream ---

  /// The first item: "last_id max_deleted_id entries_added appended" ("1-2 0-0 7 7"); a stream
  /// with groups adds its entry count and group count ("1-2 0-0 7 7 5 1").
  std::string head_item() const;
  /// The stream a head item describes (no entries yet), or nullopt when it is not one.
  static std::optional<stream> from_head(std::string_view item);
  /// Items in all, the head included.
  std::size_t item_count() const;
  /// Hands every item after the head to `emit(item, resume_key)` in order, from the one after
  /// the item whose resume key is `after` (nullptr: from the first), until `emit` returns false:
  /// the entries, then each group (by name) as its group item, its consumers' items (by name)
  /// and its pending entries' items (by ID). An entry item is its ID (16 bytes, big-endian), its
  /// ordinal (8), then each field and value as a 4-byte big-endian length and its bytes; the
  /// group items start with 'G', 'C' and 'P' (stream.cpp).
  void items(const std::string* after,
             const std::function<bool(std::string item, std::string resume_key)>& emit) const;
  /// Adds an item after the head; returns its bytes, or nullopt (nothing added) when it is
  /// damaged or out of place: an entry whose ID is not above every entry's or is above
  /// last_id(), or whose ordinal is not above every entry's or is above the append count; a
  /// group, consumer or pending entry out of order, or more than its group announced.
  std::optional<std::size_t> add_item(std::string_view item);
  /// One entry as an item (see items()).
  static std::string entry_item(stream_id id, const stream_entry& entry);
  /// Whether every group item the head and the group items announced has been added.
  bool complete() const;

  friend bool operator==(const stream& a, const stream& b) {
    const auto& x = *a.d_;
    const auto& y = *b.d_;
    return x.entries == y.entries && x.last_id == y.last_id &&
           x.max_deleted_id == y.max_deleted_id && x.entries_added == y.entries_added &&
           x.appended == y.appended && x.groups == y.groups && x.group_bytes == y.group_bytes;
  }

private:
  /// Removes the first entry; adds its bytes to `bytes_removed`.
  void pop_front(std::size_t& bytes_removed);
  /// Entries of the first node (those sharing the first entry's node). Precondition: !empty().
  std::size_t first_node_size() const;
  /// The ID of the last entry of the first node. Precondition: !empty().
  stream_id first_node_last_id() const;

  /// Once add_item() rebuilds a stream whose head announced groups: what is still to come (all 0
  /// once complete; not part of the value, operator== ignores it).
  struct loading_state {
    std::uint64_t entries_left = 0;
    std::uint64_t groups_left = 0;
    std::string group; ///< the group whose consumers and PEL come next
    std::uint64_t consumers_left = 0;
    std::uint64_t pending_left = 0;
  };
  struct state {
    entries_type entries;
    stream_id last_id;
    stream_id max_deleted_id;
    std::uint64_t entries_added = 0;
    /// Entries ever appended: the last ordinal handed out.
    std::uint64_t appended = 0;
    groups_type groups;
    std::size_t group_bytes = 0;
    std::optional<loading_state> loading;
  };
  std::unique_ptr<state> d_;

  std::optional<std::size_t> add_entry_item(std::string_view item);
  std::optional<std::size_t> add_group_item(std::string_view item);
  /// Items of `group`: the group's, its consumers', its pending entries'.
  static std::string group_item(std::string_view name, const stream_group& group);
  /// Redis's streamRangeHasTombstones(start, +inf).
  bool has_tombstones_from(stream_id start) const;
  /// Redis's streamEstimateDistanceFromFirstEverEntry: the read counter of `id`, or
  /// unknown_read.
  std::int64_t estimate_read(stream_id id) const;
};

} // namespace prez::kv
