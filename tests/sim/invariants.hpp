#pragma once
// Safety invariants of Raft (paper Figure 3) checked over a whole simulated cluster's history.
// The checker only records and compares; it never touches a node. Pure.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "actors/raft/raft_log.hpp"
#include "messages/membership.hpp"
#include "messages/raft_messages.hpp"

namespace prez::sim {

/// Collects facts reported by the simulator and fails on the first broken invariant. Once
/// failed it stays failed and keeps the first message.
class invariant_checker {
public:
  /// Election safety: at most one leader per term over all time. Leader completeness: the new
  /// leader's log holds every entry committed in an earlier term.
  void on_leader(std::uint64_t term, const node_name& node, const raft::raft_log& log);
  /// Log matching, incrementally: every (index, term) pair names one entry with one predecessor
  /// term, whichever node holds it. Called for each entry a node appends.
  void on_append(const node_name& node, const log_entry& entry, std::uint64_t prev_term);
  /// State machine safety: `node` applies `entry` (its `term_now` is the node's current term,
  /// used as the term in which the entry became committed). Entries must come in index order.
  void on_apply(const node_name& node, std::uint64_t term_now, const log_entry& entry);
  /// `node`'s state machine loaded a snapshot covering 1..index (last term `term`): it skips to
  /// index, which must be past what it applied and hold an entry known committed with that term.
  void on_restore(const node_name& node, std::uint64_t index, std::uint64_t term);
  /// Commit indexes only move forward (restart resets the node's floor with `restarted`).
  void on_commit_index(const node_name& node, std::uint64_t commit_index, bool restarted);
  /// Log matching in full: for each pair of logs, if they agree on the term at an index they
  /// agree on every entry up to it.
  void check_logs(const std::vector<std::pair<node_name, const raft::raft_log*>>& logs);
  /// A ReadIndex read confirmed at `index` must see everything committed before it started.
  void on_read_ready(std::uint64_t read_id, std::uint64_t committed_at_start, std::uint64_t index);

  // --- membership (thesis §4) ---------------------------------------------------------------
  /// The configuration the cluster boots with (the bootstrap voters): the committed
  /// configuration before the first configuration entry.
  void set_initial_config(membership config);
  /// `node`'s state machine holds `config` as of `index`: it applied the configuration entry
  /// at `index`, or loaded a snapshot covering 1..index that carries `config` (an empty one
  /// says nothing). It must be the committed configuration in effect at `index`: every node
  /// goes through the same sequence of configurations.
  void on_config_applied(const node_name& node, std::uint64_t index, const membership& config);
  /// `node` becomes candidate (`leader` false) or leader of `term` while `config` is its
  /// configuration in effect: it must be a voter of it (learners, nodes waiting to be added and
  /// removed nodes that know it never campaign) or, when `config` is not committed on it yet, a
  /// voter of `committed` (thesis §4.2.2: needed until the change commits; null when `config`
  /// is committed); and, for a leader, not a node that knows its removal is committed (its
  /// `known_commit` index reaches the entry that removed it; one that has not learned it yet may
  /// lead until it does, and then steps down).
  void on_campaign(const node_name& node, std::uint64_t term, const membership& config, bool leader,
                   const membership* committed = nullptr, std::uint64_t known_commit = UINT64_MAX);
  /// The committed configurations by the index of their entry (0: the initial one), in order.
  const std::map<std::uint64_t, membership>& committed_configs() const {
    return committed_configs_;
  }

  /// Entries known committed, in index order (index i at position i - 1).
  std::uint64_t committed_count() const { return committed_.size(); }
  const log_entry& committed_entry(std::uint64_t index) const { return committed_.at(index - 1); }
  /// Records a failure found outside the checker (liveness, stale read, effects misuse).
  void report_failure(std::string message) { fail(std::move(message)); }
  bool failed() const { return !failure_.empty(); }
  const std::string& failure() const { return failure_; }

private:
  void fail(std::string message);
  /// A configuration entry became known committed at `index`: single-server changes only.
  void on_config_committed(const log_entry& entry);

  std::map<std::uint64_t, node_name> leaders_;
  // (index, term) -> (data, type, previous entry's term)
  struct entry_fingerprint {
    std::string data;
    std::uint8_t type = 0;
    std::uint64_t prev_term = 0;
  };
  std::map<std::pair<std::uint64_t, std::uint64_t>, entry_fingerprint> entries_;
  std::vector<log_entry> committed_;
  // Term of the node that first applied each committed entry (committed in that term or earlier).
  std::vector<std::uint64_t> committed_term_;
  std::map<node_name, std::uint64_t> applied_;
  std::map<node_name, std::uint64_t> commit_floor_;
  /// Committed configurations by entry index (0: the initial one). Invariant: consecutive ones
  /// differ by at most one voter (thesis §4.1, one server at a time).
  std::map<std::uint64_t, membership> committed_configs_;
  std::string failure_;
};

} // namespace prez::sim
