#pragma once
// The in-process CAF vocabulary: atoms and the message structs actors of one node exchange.
// Between nodes only `std::vector<char>` frames travel (messages/wire_codec.hpp); the structs here
// never leave the process, so they are registered as unsafe (not serializable) message types.
// Included only by *_actor.cpp files and apps: never by pure code. It lives under actors/, not
// messages/, because it names types of the Raft logic and the peer links, and messages/ (the
// wire and disk formats) includes nothing from actors/.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caf/allowed_unsafe_message_type.hpp"
#include "caf/atom.hpp"

#include "actors/net/peer_link_info.hpp"
#include "actors/raft/background_expiry.hpp"
#include "actors/raft/raft_types.hpp"
#include "actors/raft/role_executor.hpp"
#include "actors/state_machine/command_counts.hpp"
#include "actors/storage/audit_log.hpp"
#include "actors/storage/snapshot_file.hpp"
#include "messages/client_messages.hpp"
#include "messages/membership.hpp"
#include "messages/raft_messages.hpp"

namespace prez {

struct restored_state; // actors/state_machine (the state decoded from a snapshot)

// Atoms (CAF 0.17: at most 10 characters).
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using frame_atom = caf::atom_constant<caf::atom("frame")>;
using peer_send_atom = caf::atom_constant<caf::atom("peer_send")>;
using raft_atom = caf::atom_constant<caf::atom("raft")>;
using persist_atom = caf::atom_constant<caf::atom("persist")>;
using persisted_atom = caf::atom_constant<caf::atom("persisted")>;
using apply_atom = caf::atom_constant<caf::atom("apply")>;
using applied_atom = caf::atom_constant<caf::atom("applied")>;
using propose_atom = caf::atom_constant<caf::atom("propose")>;
using refused_atom = caf::atom_constant<caf::atom("refused")>;
using read_atom = caf::atom_constant<caf::atom("read")>;
using read_ok_atom = caf::atom_constant<caf::atom("read_ok")>;
using read_fail_atom = caf::atom_constant<caf::atom("read_fail")>;
using role_atom = caf::atom_constant<caf::atom("role")>;
using leader_atom = caf::atom_constant<caf::atom("leader")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
using command_atom = caf::atom_constant<caf::atom("command")>;
using reply_atom = caf::atom_constant<caf::atom("reply")>;
using connect_atom_local = caf::atom_constant<caf::atom("connectto")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using start_atom = caf::atom_constant<caf::atom("start")>;
/// From an agent's spawn worker to the spawned messenger: the node started, or why not.
using spawn_done_atom = caf::atom_constant<caf::atom("spawndone")>;
using watch_atom = caf::atom_constant<caf::atom("watch")>;
using convert_atom = caf::atom_constant<caf::atom("convert")>;
// Pub/sub (actors/gateway/pubsub_hub_actor.hpp).
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using unsubscribe_atom = caf::atom_constant<caf::atom("unsubscr")>;
using publish_atom = caf::atom_constant<caf::atom("publish")>;
using message_atom = caf::atom_constant<caf::atom("message")>;
using pubcount_atom = caf::atom_constant<caf::atom("pubcount")>;
using pubsub_atom = caf::atom_constant<caf::atom("pubsub")>;
/// A connection's timer: its blocking command `seq` reached its timeout.
using unblock_atom = caf::atom_constant<caf::atom("unblock")>;
// Snapshots (docs/architecture.md §5): the state machine writes one through the snapshot actor
// (begin, pieces, end); the node tells the live role it is durable (taken); roles have chunks of
// it sent (send) or received ones stored (write, then received); a follower's state machine
// loads an installed one (restore).
using snap_begin_atom = caf::atom_constant<caf::atom("snapbegin")>;
using snap_piece_atom = caf::atom_constant<caf::atom("snappiece")>;
using snap_end_atom = caf::atom_constant<caf::atom("snapend")>;
using snap_abort_atom = caf::atom_constant<caf::atom("snapabort")>;
using snap_taken_atom = caf::atom_constant<caf::atom("snaptaken")>;
using snap_send_atom = caf::atom_constant<caf::atom("snapsend")>;
using snap_write_atom = caf::atom_constant<caf::atom("snapwrite")>;
using snap_recvd_atom = caf::atom_constant<caf::atom("snaprecvd")>;
using restore_atom = caf::atom_constant<caf::atom("restore")>;
using snapshot_atom = caf::atom_constant<caf::atom("snapshot")>;
using trim_atom = caf::atom_constant<caf::atom("trim")>;
// Backups (docs/decisions.md D25): a snapshot covering at least an index, made available to backup
// clients (fetch: node -> state machine; export: state machine -> snapshot actor), and its bytes
// read in chunks (read: node -> snapshot actor).
using snap_fetch_atom = caf::atom_constant<caf::atom("snapfetch")>;
using snap_export_atom = caf::atom_constant<caf::atom("snapexport")>;
using snap_read_atom = caf::atom_constant<caf::atom("snapread")>;
// Membership (thesis §4): a role tells the node the configuration in effect (links follow it);
// the state machine tells it each committed one (nodes.conf is rewritten from it).
using members_atom = caf::atom_constant<caf::atom("members")>;
// Leadership transfer (thesis §3.10): a graceful stop asks the node to hand leadership over.
using transfer_atom = caf::atom_constant<caf::atom("transfer")>;
// The audit log (actors/storage/audit_log_actor.hpp): the state machine sends a batch of lines,
// the actor answers with the bytes it has dealt with (written, skipped or lost).
using audit_atom = caf::atom_constant<caf::atom("audit")>;
using audited_atom = caf::atom_constant<caf::atom("audited")>;
// Background expiry (docs/decisions.md D33): the state machine tells the node the earliest
// deadline of its state (raft::deadline_report); the node hands the latest to the leader role.
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;

/// A role's end: the node spawns `next` with the context (ownership moves with the pointer).
struct role_handoff {
  std::uint64_t epoch = 0; ///< epoch of the role that ended
  raft::role next = raft::role::follower;
  std::shared_ptr<raft::raft_context> context;
  std::optional<raft_message> redeliver;
  node_name leader; ///< known leader for a new follower, if any
};

/// What the node tells the session manager whenever role, term or known leader change.
struct role_info {
  raft::role current = raft::role::follower;
  std::uint64_t term = 0;
  std::uint64_t epoch = 0;    ///< the node's role epoch: a new role actor, a new epoch
  node_name leader;           ///< empty when unknown
  std::string leader_address; ///< the leader's client address "host:port"; empty when unknown
  /// This node was removed from the cluster (RAFT.NODE REMOVE): it serves no command.
  bool removed = false;
};

/// The state machine's snapshots, for INFO persistence.
struct snapshot_stats {
  std::uint64_t index = 0; ///< newest snapshot taken or installed (0: none)
  std::uint64_t term = 0;
  std::uint64_t bytes = 0;
  std::uint64_t took_ms = 0;      ///< how long the last snapshot taken here took
  std::int64_t last_time_s = 0;   ///< unix time of the last one (0: none)
  bool running = false;           ///< one is being written now
  std::string last_status = "ok"; ///< "ok" or "err" (Redis's rdb_last_bgsave_status)
  std::uint64_t taken = 0;        ///< snapshots taken by this process
  std::uint64_t installed = 0;    ///< snapshots installed from a leader by this process
};

/// The state machine applied up to this index (for INFO and for waiting reads).
struct apply_status {
  std::uint64_t last_applied = 0;
  std::size_t keys = 0;
  std::size_t bytes = 0;    ///< key and value bytes held
  std::size_t expiring = 0; ///< keys with a deadline
  snapshot_stats snapshots;
  command_count_map commands_applied; ///< applied from the log by this process, by name
  /// Clients blocked in BLPOP and friends, cluster-wide (the replicated count).
  std::size_t blocked_clients = 0;
  /// Scripts in the replicated script cache (INFO memory's number_of_cached_scripts).
  std::size_t cached_scripts = 0;
};

/// What INFO shows of a node: its Raft role and indexes and its state machine.
struct node_status {
  raft::raft_status raft;
  apply_status applied;
  node_name self;
  std::string leader_address; ///< the leader's client address; empty when unknown
  std::size_t voters = 0;
  std::size_t learners = 0;
  std::string membership; ///< voter, learner, joining, none or removed (info_report.hpp)
  std::uint64_t role_epoch = 0;
  std::uint64_t frames_refused = 0;
  std::vector<peer_link_info> links; ///< one per peer, sorted by name
};

/// One answer from the session manager to a connection: the reply to its command `seq`.
struct connection_reply {
  std::uint64_t seq = 0;
  std::string text; ///< RESP2 bytes
};

/// What the gateway's acceptor counts.
struct gateway_status {
  std::uint64_t connected = 0;
  std::uint64_t accepted_total = 0;
};

} // namespace prez

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(prez::raft_message)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(prez::client_command)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<prez::client_command>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<prez::connection_reply>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(prez::forward_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(prez::forward_response)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(prez::forward_request_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(prez::forward_response_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(prez::persist_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(prez::persist_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(prez::role_handoff)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(prez::role_info)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(prez::apply_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(prez::node_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<prez::audit::audit_line>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(prez::peer_link_info)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(prez::gateway_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(prez::raft::raft_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(prez::raft::deadline_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(prez::membership)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(prez::raft::snapshot_ref)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(prez::raft::snapshot_send)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(prez::install_snapshot_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(prez::storage::snapshot_meta)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<prez::restored_state>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<prez::log_entry>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<prez::applied_result>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<prez::raft::read_ready>)
