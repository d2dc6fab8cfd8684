#pragma once
// The cluster's membership as Raft replicates it (thesis §4): who votes, who only listens
// (learners), where each is reached, and which names are gone for good. It travels inside
// configuration log entries and snapshot metadata. Pure: no CAF.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <msgpack.hpp>

#include "messages/client_messages.hpp"
#include "messages/raft_messages.hpp"

namespace prez {

/// One node of the cluster.
struct member_info {
  node_name name;
  std::string address; ///< "host:cluster-port" ("[v6]:port" for IPv6)
  /// Counts toward elections and commit quorums. A learner (false) only receives the log.
  bool voter = true;
  /// A learner added to become a voter: the leader promotes it once it has caught up.
  bool promote = false;
  MSGPACK_DEFINE(name, address, voter, promote)
  friend bool operator==(const member_info&, const member_info&) = default;
};

/// A cluster configuration. Invariant (check_membership): members sorted by name with unique
/// names and addresses; removed sorted, unique, and disjoint from members.
struct membership {
  std::vector<member_info> members;
  /// Names of removed nodes: never reused, and nothing they send is heard.
  std::vector<node_name> removed;
  MSGPACK_DEFINE(members, removed)
  friend bool operator==(const membership&, const membership&) = default;

  const member_info* find(std::string_view name) const;
  bool is_member(std::string_view name) const { return find(name) != nullptr; }
  bool is_voter(std::string_view name) const;
  bool was_removed(std::string_view name) const;
  std::vector<node_name> voters() const;
  std::size_t voter_count() const;
  /// Votes or acknowledgements that make a majority of the voters (1 with no voter: such a
  /// configuration never elects anyone, since nobody in it campaigns).
  std::size_t quorum() const { return voter_count() / 2 + 1; }
};

/// The data of a configuration entry (entry_type::config): the new membership, and the client
/// command that asked for it (client_id 0: made by the leader itself, such as a promotion), so
/// the state machine can answer that command exactly once.
struct config_change {
  membership config;
  client_command origin;
  MSGPACK_DEFINE(config, origin)
};

/// The reason `m` breaks the membership invariant, empty when it holds.
std::string check_membership(const membership& m);

std::string encode_config_change(const config_change& change);
/// nullopt when the bytes are not a config_change or its membership breaks the invariant.
std::optional<config_change> decode_config_change(std::string_view data);

} // namespace prez
