#pragma once
// Background expiry (docs/decisions.md D33): when a leader appends a clock entry so that a
// deadline that has passed takes effect without a client command. Pure: the state machine's
// reports and the leader's wall clock come in as arguments. The state machine actor reports
// (worth_reporting decides when), the node hands the latest report to the leader role, and the
// leader actor asks due() on each tick and tells stamped() what it appended.

#include <cstdint>
#include <optional>

namespace prez::raft {

/// What the state machine knows after applying up to `applied_index`.
struct deadline_report {
  std::uint64_t applied_index = 0;
  /// The cluster clock then (kv::keyspace::clock_ms()).
  std::uint64_t clock_ms = 0;
  /// The earliest deadline in the state (kv_state::next_deadline_ms()): nullopt when no key
  /// expires and no blocked client has a timeout.
  std::optional<std::uint64_t> next_deadline_ms;
  friend bool operator==(const deadline_report&, const deadline_report&) = default;
};

/// Whether the state machine sends `now` after `last` (the report it sent before, if any): when
/// the earliest deadline changed, or when it is still due (an entry hit the per-entry bound of
/// active expiry, so more entries are needed). Everything else the leader already knows, so a
/// busy cluster whose earliest deadline stays put sends nothing.
bool worth_reporting(const std::optional<deadline_report>& last, const deadline_report& now);

/// The leader's side. One per leader role; a new leader starts from the latest report of its
/// own state machine, which has applied the same entries.
class expiry_clock {
public:
  /// A report from this node's state machine (always the latest: they arrive in order).
  void report(const deadline_report& r);
  /// Whether to append a clock entry now, `now_ms` being the leader's wall clock: a deadline has
  /// passed (on the leader's clock, or on the cluster clock when that is ahead: a backlog), no
  /// entry stamped past it is waiting to be applied, and the last one is at least
  /// limits::background_expiry_interval_ms old.
  bool due(std::uint64_t now_ms) const;
  /// The leader appended entries stamped `now_ms`, the last at `last_index` (a clock entry or
  /// any batch: every entry runs active expiry first). If the deadline has passed at `now_ms`,
  /// they do the work of a clock entry: due() waits until a report shows them applied.
  void stamped(std::uint64_t now_ms, std::uint64_t last_index);
  /// The index of an entry stamped past the deadline and not yet reported applied (0: none).
  std::uint64_t pending_index() const { return pending_index_; }

private:
  bool deadline_passed(std::uint64_t now_ms) const;

  std::optional<deadline_report> report_;
  std::uint64_t pending_index_ = 0;
  /// When the last entry stamped past the deadline was appended (0: none yet).
  std::uint64_t last_stamp_ms_ = 0;
};

} // namespace prez::raft
