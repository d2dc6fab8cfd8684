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
  /// Every voter including self, sorted, no duplicates. Invariant: contains self.
  std::vector<node_name> voters;
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

  std::size_t quorum() const { return voters.size() / 2 + 1; }
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
  rng random;
};

/// A ReadIndex request (thesis §6.4) whose leadership round has been confirmed by a quorum: the
/// read may be served once the state machine has applied `index`.
struct read_ready {
  std::uint64_t read_id = 0;
  std::uint64_t index = 0;
  friend bool operator==(const read_ready&, const read_ready&) = default;
};

/// What the caller must do after giving the logic one input. Order of execution:
///   1. persist: if truncate_from, delete log entries >= it; append entries_to_persist; if
///      hard_state_changed, write context.hard — all in one FIFO request to the log actor;
///   2. send `messages` at once;
///   3. send `messages_after_persist` only after everything written so far is durable (when the
///      effects hold no writes, after every earlier write is durable);
///   4. hand `committed` to the state machine, in order;
///   5. answer `reads` once applied >= index; fail `reads_failed`;
///   6. if next_role is set, this role is over: build the next role from the context, then give
///      it `redeliver` (if set) as its first input.
struct raft_effects {
  bool hard_state_changed = false;
  std::optional<std::uint64_t> truncate_from;
  std::vector<log_entry> entries_to_persist;
  std::vector<raft_message> messages;
  std::vector<raft_message> messages_after_persist;
  std::vector<log_entry> committed;
  std::vector<read_ready> reads;
  std::vector<std::uint64_t> reads_failed;
  std::optional<role> next_role;
  std::optional<raft_message> redeliver;

  bool has_writes() const {
    return hard_state_changed || truncate_from || !entries_to_persist.empty();
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
  std::uint64_t commit_index = 0;
  std::uint64_t last_log_index = 0;
  std::uint64_t persisted_index = 0;
};

} // namespace prez::raft
