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

#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
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
};

/// Bytes an entry counts for in entry::bytes: the size of its item (stream::entry_item), so a
/// snapshot's size is bounded by entry::bytes as for the other types: 24 for its ID and
/// ordinal, and each field and value with 4 for its length.
std::size_t stream_entry_bytes(const stream_entry& entry);

class stream {
public:
  using entries_type = std::map<stream_id, stream_entry>;
  /// Entries per node for `~` trimming (Redis's stream-node-max-entries default).
  static constexpr std::uint64_t node_entries = 100;

  const entries_type& entries() const { return entries_; }
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  stream_id last_id() const { return last_id_; }
  stream_id max_deleted_id() const { return max_deleted_id_; }
  std::uint64_t entries_added() const { return entries_added_; }
  /// The first entry's ID, 0-0 when empty (XINFO's recorded-first-entry-id).
  stream_id first_id() const { return entries_.empty() ? stream_id{} : entries_.begin()->first; }

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

  /// XSETID's change (its checks are the caller's).
  void set_last_id(stream_id id) { last_id_ = id; }
  void set_entries_added(std::uint64_t count) { entries_added_ = count; }
  void set_max_deleted_id(stream_id id) { max_deleted_id_ = id; }

  // --- items (value_items.hpp): a snapshot record's and a DUMP payload's view of a stream ---

  /// The first item: "last_id max_deleted_id entries_added appended" ("1-2 0-0 7 7").
  std::string head_item() const;
  /// The stream a head item describes (no entries yet), or nullopt when it is not one.
  static std::optional<stream> from_head(std::string_view item);
  /// One entry as an item: its ID (16 bytes, big-endian), its ordinal (8), then each field and
  /// value as a 4-byte big-endian length and its bytes.
  static std::string entry_item(stream_id id, const stream_entry& entry);
  /// Adds an entry item; returns its bytes, or nullopt (nothing added) when the item is damaged,
  /// its ID is not above every entry's or is above last_id(), or its ordinal is not above every
  /// entry's or is above the append count.
  std::optional<std::size_t> add_entry_item(std::string_view item);

  friend bool operator==(const stream&, const stream&) = default;

private:
  /// Removes the first entry; adds its bytes to `bytes_removed`.
  void pop_front(std::size_t& bytes_removed);
  /// Entries of the first node (those sharing the first entry's node). Precondition: !empty().
  std::size_t first_node_size() const;
  /// The ID of the last entry of the first node. Precondition: !empty().
  stream_id first_node_last_id() const;

  entries_type entries_;
  stream_id last_id_;
  stream_id max_deleted_id_;
  std::uint64_t entries_added_ = 0;
  /// Entries ever appended: the last ordinal handed out.
  std::uint64_t appended_ = 0;
};

} // namespace prez::kv
