#pragma once
// Exactly-once application of client commands (thesis §6.3): every command carries
// (client_id, seq); the state machine remembers the replies of each client's recent commands, so
// a command applied twice (a forward retried after its leader died, a duplicate proposal) is
// answered with the stored reply instead of being applied again. Pure and deterministic: the
// table only changes at apply time, and expiry uses the leader's time stamped in the entries, so
// every replica keeps and drops exactly the same sessions.
//
// Memory is bounded in count (replies per client, clients) and in reply bytes (per client and in
// total, config/limits.hpp). A reply dropped to stay within the byte bounds, or too large to keep
// at all, leaves a marker behind: a retry of its command is answered too_old (-UNKNOWN), never
// applied a second time.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include <msgpack.hpp>

#include "config/limits.hpp"

namespace prez {

class client_sessions {
public:
  /// Commands of one client remembered at most (its pipeline depth that can be retried).
  static constexpr std::size_t replies_per_client_max = 128;
  /// A client idle this long by log time, and for idle_entries_min applied entries, is forgotten.
  static constexpr std::uint64_t idle_ms_max = 10 * 60 * 1000;
  /// Log time is one leader's wall clock: a leader far ahead would make every client look idle,
  /// and a retried duplicate would then be applied twice. So a client must also have been idle
  /// for this many entries: far more than a client's retries can span (its write timeout, a few
  /// seconds, at the fastest apply rate, about 100k entries/s).
  static constexpr std::uint64_t idle_entries_min = 4 * 1024 * 1024;
  /// Clients remembered at most; beyond it the least recently active is forgotten.
  static constexpr std::size_t clients_max = 64 * 1024;

  /// What to do with a command about to be applied.
  enum class verdict {
    apply,     ///< new: apply it, then call record()
    duplicate, ///< already applied: answer with the stored reply (in `reply`)
    too_old,   ///< its reply is no longer remembered: the outcome cannot be told
  };

  /// The state machine is about to apply log entry `index` (indexes only grow).
  void at_index(std::uint64_t index) { index_ = std::max(index_, index); }

  /// Looks up (client_id, seq) at log time `time_ms`. Expires idle sessions first.
  verdict check(std::uint64_t client_id, std::uint64_t seq, std::uint64_t time_ms,
                std::string& reply);
  /// Remembers the reply of an applied command. A reply over
  /// limits::session_reply_bytes_per_client_max is not kept (its retry gets too_old); then the
  /// oldest replies of this client, and after that the oldest kept anywhere, are dropped until
  /// both byte bounds hold again. Every choice depends only on the table and the arguments, so
  /// replicas applying the same entries drop the same replies.
  void record(std::uint64_t client_id, std::uint64_t seq, std::uint64_t time_ms,
              const std::string& reply);

  std::size_t size() const { return clients_.size(); }
  /// Reply bytes kept over all clients. Invariant: <= limits::session_reply_bytes_max.
  std::size_t reply_bytes() const { return reply_bytes_; }

  /// Appends the whole table to `out` as snapshot records (format: state_restore.hpp): one
  /// table record, then one record per client by id. Each record stays below about
  /// limits::session_reply_bytes_per_client_max plus a few KiB. O(table); no precondition.
  void serialise(std::string& out) const;

  /// Rebuilds a table from the records serialise() wrote (defined below).
  class restorer;

  /// Whether two tables are identical in every member, derived indexes included (tests).
  friend bool operator==(const client_sessions&, const client_sessions&) = default;

private:
  /// The outcome of one applied command.
  struct entry {
    /// The reply, or nullopt when it was applied but its reply was dropped (answers too_old).
    std::optional<std::string> reply;
    /// Key of this reply in kept_order_; meaningful only while `reply` is set (kept as it was
    /// otherwise, so snapshots round-trip exactly).
    std::uint64_t order = 0;
    friend bool operator==(const entry&, const entry&) = default;
  };
  struct client {
    /// Outcomes by seq. Invariant: size() <= replies_per_client_max.
    std::map<std::uint64_t, entry> replies;
    /// Seqs below this were forgotten. Invariant: every key of replies >= forgotten_below.
    std::uint64_t forgotten_below = 0;
    std::uint64_t last_active_ms = 0;
    std::uint64_t last_active_index = 0;
    /// Sum of the sizes of the kept replies.
    /// Invariant: <= limits::session_reply_bytes_per_client_max.
    std::size_t reply_bytes = 0;
    friend bool operator==(const client&, const client&) = default;
  };
  void expire(std::uint64_t time_ms);
  /// Forgets the reply kept in `e`, one of `c`'s entries (nothing when none is kept), and its
  /// bytes. `e` itself stays, so a retry of its seq answers too_old until the caller erases it.
  void drop_reply(client& c, entry& e);
  void forget_client(std::uint64_t client_id);

  std::map<std::uint64_t, client> clients_;
  /// (last_active_ms, client_id) of every client, oldest first: expiry in log-time order.
  std::map<std::pair<std::uint64_t, std::uint64_t>, bool> by_activity_;
  /// (client_id, seq) of every kept reply by the order it was recorded in, oldest first: which
  /// reply goes when the total bound is hit. Invariant: one item per entry whose reply is set.
  std::map<std::uint64_t, std::pair<std::uint64_t, std::uint64_t>> kept_order_;
  /// Key the next kept reply gets in kept_order_; only grows.
  std::uint64_t next_order_ = 0;
  /// The entry being applied (at_index).
  std::uint64_t index_ = 0;
  /// Sum of every client's reply_bytes. Invariant: <= limits::session_reply_bytes_max.
  std::size_t reply_bytes_ = 0;
};

/// Rebuilds a table from the records serialise() wrote, taken one at a time in their order.
/// Every field of the table round-trips exactly; the derived indexes (kept_order_, by_activity_,
/// byte counts) are rebuilt from the clients and checked against the bounds. Pure: used by
/// state_restorer (state_restore.hpp).
class client_sessions::restorer {
public:
  /// Takes the next record, a table record first, then a client record per client it
  /// announced. Returns an error text when the record is damaged or breaks an invariant
  /// (wrong order, duplicate client or seq, too many replies, byte bounds). Precondition:
  /// no earlier call returned an error.
  std::optional<std::string> add(const msgpack::object& record);
  /// Whether the table record came and every client it announced has been added.
  bool complete() const { return have_table_ && clients_left_ == 0; }
  /// The restored table, or an error text when a client it announced is missing.
  /// Precondition: called once, after no add() returned an error.
  std::variant<client_sessions, std::string> finish();

private:
  std::optional<std::string> add_table(const msgpack::object_array& fields);
  std::optional<std::string> add_client(const msgpack::object_array& fields);

  client_sessions table_;
  bool have_table_ = false;
  std::uint64_t clients_left_ = 0;
};

} // namespace prez
