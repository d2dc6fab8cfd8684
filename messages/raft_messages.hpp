#pragma once
// Raft RPCs as plain msgpack structs (Raft paper Figure 2, plus pre-vote from thesis §9.6 and a
// heartbeat sequence number for ReadIndex rounds, thesis §6.4). Pure: no CAF.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include <msgpack.hpp>

namespace prez {

/// A node's name from nodes.conf; unique in the cluster and never reused.
using node_name = std::string;

/// What a log entry carries.
enum class entry_type : std::uint8_t {
  noop = 0,    ///< committed by a new leader to learn its commit index (Raft §5.4.2, §8)
  command = 1, ///< a client command: data is a msgpack-encoded client_command
  /// A new cluster configuration (thesis §4), in effect on each node from the moment it is in
  /// that node's log: data is a msgpack-encoded config_change (messages/membership.hpp).
  config = 2,
};

/// One entry of the replicated log. Invariant: index >= 1 and term >= 1 for any stored entry.
struct log_entry {
  std::uint64_t term = 0;
  std::uint64_t index = 0;
  std::uint8_t type = static_cast<std::uint8_t>(entry_type::noop);
  std::string data;
  MSGPACK_DEFINE(term, index, type, data)

  entry_type kind() const { return static_cast<entry_type>(type); }
  friend bool operator==(const log_entry&, const log_entry&) = default;
};

/// RequestVote (Raft §5.2) or, with pre_vote set, the pre-vote probe of thesis §9.6, which asks
/// "would you vote for me at `term`?" without anyone changing their term.
struct vote_request {
  std::uint64_t term = 0;
  std::uint64_t last_log_index = 0;
  std::uint64_t last_log_term = 0;
  bool pre_vote = false;
  MSGPACK_DEFINE(term, last_log_index, last_log_term, pre_vote)
  friend bool operator==(const vote_request&, const vote_request&) = default;
};

struct vote_response {
  /// For a real vote: the voter's current term. For a pre-vote: the term that was asked about
  /// when granted, the voter's own term when refused.
  std::uint64_t term = 0;
  bool granted = false;
  bool pre_vote = false;
  MSGPACK_DEFINE(term, granted, pre_vote)
  friend bool operator==(const vote_response&, const vote_response&) = default;
};

/// AppendEntries (Raft §5.3). An empty `entries` is a heartbeat.
struct append_entries_request {
  std::uint64_t term = 0;
  std::uint64_t prev_log_index = 0;
  std::uint64_t prev_log_term = 0;
  std::vector<log_entry> entries;
  std::uint64_t leader_commit = 0;
  /// Leader's heartbeat round; echoed in the response so the leader can confirm ReadIndex rounds.
  std::uint64_t heartbeat_seq = 0;
  MSGPACK_DEFINE(term, prev_log_index, prev_log_term, entries, leader_commit, heartbeat_seq)
  friend bool operator==(const append_entries_request&, const append_entries_request&) = default;
};

struct append_entries_response {
  std::uint64_t term = 0;
  bool success = false;
  /// On success: the index of the last entry now known to match the leader's log (durable).
  std::uint64_t match_index = 0;
  /// On a rejection: where the leader should retry (fast back-off, Raft §5.3 last paragraph).
  /// conflict_term == 0 means the follower's log is shorter: retry at conflict_index.
  std::uint64_t conflict_index = 0;
  std::uint64_t conflict_term = 0;
  std::uint64_t heartbeat_seq = 0;
  /// On a rejection: the prev_log_index of the request it answers, so the leader can tell an
  /// answer to a request still in flight from a stale one.
  std::uint64_t rejected_index = 0;
  MSGPACK_DEFINE(term, success, match_index, conflict_index, conflict_term, heartbeat_seq,
                 rejected_index)
  friend bool operator==(const append_entries_response&, const append_entries_response&) = default;
};

/// InstallSnapshot (Raft §7): one chunk of the leader's snapshot file, sent when a follower needs
/// entries the leader has compacted away. The file carries its own checksum (snapshot_file.hpp).
struct install_snapshot_request {
  std::uint64_t term = 0;
  /// The snapshot covers log indexes 1..last_index; last_term is the term of last_index.
  std::uint64_t last_index = 0;
  std::uint64_t last_term = 0;
  /// Where `data` sits in the file; `done`: the chunk ends the file.
  std::uint64_t offset = 0;
  std::string data;
  bool done = false;
  MSGPACK_DEFINE(term, last_index, last_term, offset, data, done)
  friend bool operator==(const install_snapshot_request&,
                         const install_snapshot_request&) = default;
};

struct install_snapshot_response {
  std::uint64_t term = 0;
  /// The snapshot this answers (its last_index).
  std::uint64_t last_index = 0;
  /// Bytes of the file the follower holds: the offset it expects next (0: start again).
  std::uint64_t next_offset = 0;
  /// The snapshot is installed and durable: the follower's log matches the leader's up to
  /// last_index.
  bool installed = false;
  MSGPACK_DEFINE(term, last_index, next_offset, installed)
  friend bool operator==(const install_snapshot_response&,
                         const install_snapshot_response&) = default;
};

/// TimeoutNow (thesis §3.10, leadership transfer): the leader tells a caught-up voter to start an
/// election at once, without waiting for its election timeout and without a pre-vote.
struct timeout_now {
  std::uint64_t term = 0;
  MSGPACK_DEFINE(term)
  friend bool operator==(const timeout_now&, const timeout_now&) = default;
};

using raft_payload =
    std::variant<vote_request, vote_response, append_entries_request, append_entries_response,
                 install_snapshot_request, install_snapshot_response, timeout_now>;

/// A Raft message between two named nodes.
struct raft_message {
  node_name from;
  node_name to;
  raft_payload payload;

  /// The term the message carries, whatever its kind.
  std::uint64_t term() const {
    return std::visit([](const auto& p) { return p.term; }, payload);
  }
  friend bool operator==(const raft_message&, const raft_message&) = default;
};

} // namespace prez

// raft_message travels as [from, to, kind, body] with kind the variant index.
namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {

  template <>
  struct pack<prez::raft_message> {
    template <typename Stream>
    packer<Stream>& operator()(packer<Stream>& o, const prez::raft_message& m) const {
      o.pack_array(4);
      o.pack(m.from);
      o.pack(m.to);
      o.pack(static_cast<std::uint8_t>(m.payload.index()));
      std::visit([&](const auto& p) { o.pack(p); }, m.payload);
      return o;
    }
  };

  template <>
  struct convert<prez::raft_message> {
    const msgpack::object& operator()(const msgpack::object& o, prez::raft_message& m) const {
      if (o.type != msgpack::type::ARRAY || o.via.array.size != 4) throw msgpack::type_error();
      const auto* e = o.via.array.ptr;
      e[0].convert(m.from);
      e[1].convert(m.to);
      auto kind = e[2].as<std::uint8_t>();
      switch (kind) {
        case 0:
          m.payload = e[3].as<prez::vote_request>();
          break;
        case 1:
          m.payload = e[3].as<prez::vote_response>();
          break;
        case 2:
          m.payload = e[3].as<prez::append_entries_request>();
          break;
        case 3:
          m.payload = e[3].as<prez::append_entries_response>();
          break;
        case 4:
          m.payload = e[3].as<prez::install_snapshot_request>();
          break;
        case 5:
          m.payload = e[3].as<prez::install_snapshot_response>();
          break;
        case 6:
          m.payload = e[3].as<prez::timeout_now>();
          break;
        default:
          throw msgpack::type_error();
      }
      return o;
    }
  };

  } // namespace adaptor
} // MSGPACK_API_VERSION_NAMESPACE
} // namespace msgpack
