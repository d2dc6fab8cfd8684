#pragma once
// INFO's text, built from plain numbers the gateway gathers from the node, the state machine and
// the acceptor. Pure: no CAF, no clock (uptime comes in as a number).

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "actors/net/peer_link_info.hpp"

namespace prez {

/// Everything INFO reports.
struct info_snapshot {
  // server
  std::string node_name;
  std::uint64_t process_id = 0;
  std::uint64_t run_id = 0; ///< the node's random incarnation
  std::uint16_t tcp_port = 0;
  std::uint64_t uptime_s = 0;
  // clients and stats
  std::uint64_t connected_clients = 0;
  /// Clients blocked in BLPOP and friends on the whole cluster (Redis counts one server's).
  std::uint64_t blocked_clients = 0;
  std::uint64_t cached_scripts = 0; ///< replicated script cache (number_of_cached_scripts)
  std::uint64_t total_connections = 0;
  // memory
  std::uint64_t used_memory = 0; ///< bytes of keys and values
  std::uint64_t rss_bytes = 0;
  // raft
  std::string role; ///< leader, follower, candidate
  std::uint64_t term = 0;
  std::string leader;
  std::string leader_address;
  bool leader_heard_recently = false; ///< raft_status::leader_heard_recently
  std::uint64_t commit_index = 0;
  std::uint64_t last_applied = 0;
  std::uint64_t last_log_index = 0;
  std::uint64_t persisted_index = 0;
  // Snapshots and the log they let go of (INFO persistence, INFO raft).
  std::uint64_t snapshot_index = 0;
  std::uint64_t snapshot_term = 0;
  std::uint64_t snapshot_bytes = 0;
  std::uint64_t snapshot_took_ms = 0;
  std::int64_t snapshot_time_s = 0;
  bool snapshot_running = false;
  std::string snapshot_status = "ok";
  std::uint64_t snapshots_taken = 0;
  std::uint64_t snapshots_installed = 0;
  std::uint64_t log_first_index = 1;
  std::uint64_t log_entries = 0;
  std::uint64_t log_bytes = 0;
  std::uint64_t voters = 0;
  std::uint64_t learners = 0;
  /// This node in the configuration in effect: voter, learner, joining (a learner to be
  /// promoted), none (waiting to be added) or removed.
  std::string membership = "voter";
  std::uint64_t role_epoch = 0;
  std::uint64_t peer_frames_refused = 0;
  std::vector<peer_link_info> peer_links;
  // keyspace
  std::uint64_t keys = 0;
  std::uint64_t expiring = 0;
  /// Commands applied from the log by this process, by lower-case name (INFO commandstats and the
  /// metrics port).
  std::vector<std::pair<std::string, std::uint64_t>> commands_applied;
  // cpu: seconds of CPU time (getrusage), the process's and its waited-for children's
  double cpu_sys_s = 0, cpu_user_s = 0, cpu_sys_children_s = 0, cpu_user_children_s = 0;
};

/// The INFO text for the sections asked (INFO's arguments, any case), as Redis 7 answers: none or
/// `default` gives the default sections, `all` adds commandstats, `everything` is all (prez has no
/// modules); any mix of names may be given, each section appears once and in Redis's order
/// (server, clients, memory, persistence, stats, replication, cpu, commandstats, errorstats,
/// cluster, keyspace, then prez's raft, which is in the default set). Unknown names add nothing.
std::string format_info(const info_snapshot& info, const std::vector<std::string>& sections);
/// One section (or "" for the default ones).
std::string format_info(const info_snapshot& info, const std::string& section);

} // namespace prez
