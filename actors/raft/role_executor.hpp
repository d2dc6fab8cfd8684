#pragma once
// The one executor of a role's effects: turns what a role logic returns (raft_effects) into the
// things to do, in the order raft_types.hpp prescribes, and holds back the messages that must wait
// for a write to be durable (persist barriers, docs/decisions.md D2). Pure C++: the role actors
// (role_actor.hpp) call it and carry its outputs out with CAF; the simulator (apps/prez_sim,
// tests/sim) calls the very same code with a simulated disk and network. One executor per role
// incarnation: a role that ends leaves its held messages behind, as a retired role actor does.

#include <cstdint>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "actors/raft/raft_types.hpp"

namespace prez {

/// A write for the log: applied in order, then acknowledged once durable (docs/decisions.md D2).
struct persist_request {
  std::uint64_t seq = 0; ///< echoed in the reply; increasing per role
  std::optional<raft::hard_state> hard;
  /// Done first, in this order: drop the whole log so the next entry has this index (a snapshot
  /// replaced it); drop whole segments holding only entries <= compact_to (a snapshot covers
  /// them); then truncate, append, write the hard state.
  std::optional<std::uint64_t> reset_log_to;
  std::optional<std::uint64_t> compact_to;
  std::optional<std::uint64_t> truncate_from;
  std::vector<log_entry> entries;
};

/// The log's answer: everything up to (last_index, last_term) is durable, including every write
/// sent before request `seq`.
struct persist_reply {
  std::uint64_t seq = 0;
  std::uint64_t last_index = 0;
  std::uint64_t last_term = 0;
};

namespace raft {

/// What one input's effects turn into, to be carried out in this order.
struct role_outputs {
  std::optional<persist_request> persist;      ///< 1. to the log (FIFO)
  std::vector<raft_message> send;              ///< 2. to peers now
  std::optional<snapshot_ref> restore;         ///< 3. to the state machine: load this snapshot,
  std::vector<log_entry> committed;            ///<    then apply these, in order
  std::vector<snapshot_send> snapshot_sends;   ///< chunks of our snapshot to read and send
  std::vector<snapshot_write> snapshot_writes; ///< chunks received, to store
  std::vector<read_ready> reads;               ///< 4. to the session manager
  std::vector<std::uint64_t> reads_failed;
  /// 5. the role is over: the node spawns `next_role` from the context and gives it `redeliver`.
  std::optional<role> next_role;
  std::optional<raft_message> redeliver;
};

class role_executor {
public:
  /// The barrier a role starts with: its answer tells the role how far the log is durable, and
  /// that what earlier roles wrote (term, vote) is durable. Until it is answered every message
  /// is held (run returns none to send).
  persist_request start();

  /// Carries `fx` out against `context` (the logic's context after the input). Once a role has
  /// ended (next_role returned), every later call returns nothing.
  role_outputs run(raft_effects&& fx, const raft_context& context);

  /// The log answered request `seq`: returns the messages that were waiting for it (and for every
  /// earlier request), to send now.
  std::vector<raft_message> persisted(std::uint64_t seq);

  bool retired() const { return retired_; }
  /// Messages held now (for INFO and the simulator's trace).
  std::size_t held() const;

private:
  persist_request next_request();

  /// Sequence number of the last persist request made. Invariant: acked_seq_ <= persist_seq_.
  std::uint64_t persist_seq_ = 0;
  std::uint64_t acked_seq_ = 0;
  /// Messages held until the writes before them are durable, by the persist seq that covers them.
  /// Invariant: seqs increase along the deque, each > acked_seq_.
  std::deque<std::pair<std::uint64_t, std::vector<raft_message>>> after_persist_;
  bool retired_ = false;
};

} // namespace raft
} // namespace prez
