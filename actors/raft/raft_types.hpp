#pragma once
// Shared vocabulary of the pure Raft logic: configuration, the context a role hands to the next,
// and the effects every input returns. Pure: no clock, no I/O, no CAF (docs/architecture.md §6).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <msgpack.hpp>

#include "actors/raft/raft_log.hpp"
#include "config/mix64.hpp"
#include "messages/raft_messages.hpp"

namespace prez::raft {

/// Term and vote: must be durable before any message that depends on them is sent (Figure 2).
struct hard_state {
  std::uint64_t term = 0;
  node_name voted_for; ///< empty: no vote in `term`
  MSGPACK_DEFINE(term, voted_for)
  friend bool operator==(const hard_state&, const hard_state&) = default;
};

enum class role : std::uint8_t { follower, candidate, leader };

const char* to_string(role r);

/// Static configuration of one node's Raft instance.
struct raft_config {
  node_name self;
  /// The bootstrap voters (nodes.conf), sorted, no duplicates: the configuration used until the
  /// log or a snapshot holds one (rules.hpp ensure_config). Empty for a node that joins a
  /// running cluster and waits to be added.
  std::vector<node_name> voters;
  /// The bootstrap learners (nodes.conf lines tagged `learner`), sorted.
  std::vector<node_name> learners;
  /// Election timeout is drawn uniformly from [election_timeout_ticks, 2 * election_timeout_ticks).
  std::uint32_t election_timeout_ticks = 10;
  /// The leader sends a heartbeat to every peer at least this often.
  std::uint32_t heartbeat_ticks = 1;
  std::size_t append_entries_max = 512;
  std::size_t append_bytes_max = 1024 * 1024;
  std::size_t inflight_appends_max = 64;
  std::size_t uncommitted_bytes_max = 64 * 1024 * 1024;
  /// Thesis §9.6: a would-be candidate first asks whether it could win, without bumping its term.
  bool pre_vote = true;
  /// Thesis §6.2: a leader that has not heard from a majority for an election timeout steps down.
  bool check_quorum = true;
  /// After a snapshot at index S the log keeps entries S - snapshot_trailing_entries + 1 .. so a
  /// follower slightly behind catches up from the log rather than by InstallSnapshot.
  std::uint64_t snapshot_trailing_entries = 10000;
  /// Bytes of snapshot file per InstallSnapshot chunk, and chunks in flight to one follower.
  std::size_t snapshot_chunk_bytes = 1024 * 1024;
  std::size_t snapshot_chunks_inflight_max = 4;
};

/// Small deterministic PRNG (splitmix64): the logic never touches std::random_device.
struct rng {
  std::uint64_t state = 0;
  std::uint64_t next() {
    const std::uint64_t z = mix64(state);
    state += mix64_increment;
    return z;
  }
  /// Uniform in [lo, hi). Precondition: lo < hi.
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) { return lo + next() % (hi - lo); }
};

/// The newest snapshot durable on this node: it covers log indexes 1..index (term: the term of
/// `index`) in a file of `bytes` bytes. index == 0: none.
struct snapshot_ref {
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  std::uint64_t bytes = 0;
  friend bool operator==(const snapshot_ref&, const snapshot_ref&) = default;
};

/// Everything that survives a role change (docs/decisions.md D1): durable term, vote and log, the
/// commit index, what was handed to the state machine, and the PRNG. Owned by exactly one role at a
/// time.
struct raft_context {
  raft_config config;
  /// The hard state as written (writes to the log actor are FIFO, so "written" is enough for
  /// the logic; the actor layer holds back messages_after_persist until durable).
  hard_state hard;
  /// In-memory mirror of the log; entries past persisted_index may not be durable yet.
  raft_log log;
  /// Invariant: applied_index <= commit_index <= log.last_index().
  std::uint64_t commit_index = 0;
  /// Highest index handed to the state machine through raft_effects::committed.
  std::uint64_t applied_index = 0;
  /// Highest log index known durable on this node. Invariant: <= log.last_index().
  std::uint64_t persisted_index = 0;
  /// The newest durable snapshot. Invariant: log.snapshot_index() <= snapshot.index <=
  /// applied_index (the log is compacted only up to a durable snapshot).
  snapshot_ref snapshot;
  rng random;
};

/// A chunk of this node's snapshot file to send to `to` (leader, Raft §7): the caller reads
/// bytes [request.offset, request.offset + length) of the snapshot file request.last_index,
/// puts them in request.data, sets request.done when they end the file, and sends it.
struct snapshot_send {
  node_name to;
  install_snapshot_request request;
  std::uint64_t length = 0;
  friend bool operator==(const snapshot_send&, const snapshot_send&) = default;
};

/// What the storage must do with an InstallSnapshot chunk received from the leader (follower).
/// A chunk at offset 0 starts a new file (dropping any partial one); when `chunk.done`, the
/// caller validates and installs the file, then reports with snapshot_received().
struct snapshot_write {
  install_snapshot_request chunk;
  friend bool operator==(const snapshot_write&, const snapshot_write&) = default;
};

/// A ReadIndex request (thesis §6.4) whose leadership round has been confirmed by a quorum: the
/// read may be served once the state machine has applied `index`.
struct read_ready {
  std::uint64_t read_id = 0;
  std::uint64_t index = 0;
  friend bool operator==(const read_ready&, const read_ready&) = default;
};

/// What the caller must do after giving the logic one input. Order of execution:
///   1. persist: if reset_log_to, drop the whole log so the next entry is that index; if
///      compact_to, drop whole log segments up to that index; if truncate_from, delete log
///      entries >= it; append entries_to_persist; if hard_state_changed, write context.hard —
///      all in one FIFO request to the log actor;
///   2. send `messages` at once;
///   3. send `messages_after_persist` only after everything written so far is durable (when the
///      effects hold no writes, after every earlier write is durable);
///   4. if restore is set, tell the state machine to load that (durable) snapshot; then hand
///      `committed` to the state machine, in order; send snapshot_sends and snapshot_writes;
///   5. answer `reads` once applied >= index; fail `reads_failed`;
///   6. if next_role is set, this role is over: build the next role from the context, then give
///      it `redeliver` (if set) as its first input.
struct raft_effects {
  bool hard_state_changed = false;
  std::optional<std::uint64_t> reset_log_to;
  std::optional<std::uint64_t> compact_to;
  std::optional<std::uint64_t> truncate_from;
  std::vector<log_entry> entries_to_persist;
  std::vector<raft_message> messages;
  std::vector<raft_message> messages_after_persist;
  std::optional<snapshot_ref> restore;
  std::vector<log_entry> committed;
  std::vector<snapshot_send> snapshot_sends;
  std::vector<snapshot_write> snapshot_writes;
  std::vector<read_ready> reads;
  std::vector<std::uint64_t> reads_failed;
  std::optional<role> next_role;
  std::optional<raft_message> redeliver;

  bool has_writes() const {
    return hard_state_changed || reset_log_to || compact_to || truncate_from ||
           !entries_to_persist.empty();
  }
  /// Appends `other` (a later step's effects) to this one, keeping the order rules above.
  /// Precondition: this has no next_role (an ended role produces no later effects).
  void merge(raft_effects&& other);
};

/// What INFO raft shows of a role.
struct raft_status {
  role current_role = role::follower;
  std::uint64_t term = 0;
  node_name leader; ///< empty when unknown
  /// A leader: always (check-quorum makes it step down once a majority is silent). A follower:
  /// it heard from `leader` within an election timeout. A candidate: never.
  bool leader_heard_recently = false;
  std::uint64_t commit_index = 0;
  std::uint64_t last_log_index = 0;
  std::uint64_t persisted_index = 0;
  /// First log index held in memory (after compaction) and payload bytes held.
  std::uint64_t first_log_index = 1;
  std::uint64_t log_bytes = 0;
  std::uint64_t log_entries = 0;
  snapshot_ref snapshot;
};

} // namespace prez::raft
