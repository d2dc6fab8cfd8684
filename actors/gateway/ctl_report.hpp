#pragma once
// The decisions of prez-ctl (apps/prez_ctl.cpp), the operator's command-line tool: its argument
// parsing, reading INFO raft replies, the lag of each node behind the leader, the status table and
// JSON, and how a reply is printed. Pure: no sockets, no clock; the app only moves bytes.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/gateway/resp3.hpp"

namespace prez {

// prez-ctl's limits sit here rather than in config/limits.hpp: no server file reads them, and
// prez-ctl is their only user.
namespace ctl_limits {
/// How long prez-ctl waits for one node: connecting, sending and the whole reply. A node that
/// takes longer is reported down ("timeout"), so `prez-ctl status` ends even with nodes hung.
inline constexpr int timeout_ms = 2000;
/// Bytes of one reply prez-ctl accepts: INFO and RAFT.NODE LIST are a few KiB; far more means the
/// other end is not prez, and the reply is refused rather than buffered without end.
inline constexpr std::size_t reply_bytes_max = 16 * 1024 * 1024;
/// Nodes one `prez-ctl status` asks (one connection each, in turn).
inline constexpr std::size_t status_nodes_max = 64;
} // namespace ctl_limits

/// What prez-ctl was asked to do.
enum class ctl_action {
  help,    ///< print usage, exit 0
  status,  ///< INFO raft on every target, one row each
  command, ///< send `command` to host:port, print the reply
  /// `snapshot save <file> [host:port]`: a consistent backup into save_path (ctl_backup.hpp)
  snapshot_save,
};

/// A host and a TCP port, as given on the command line (`host:port`, `[v6]:port`).
struct ctl_endpoint {
  std::string host;
  std::uint16_t port = 0;
};

/// prez-ctl's parsed command line.
struct ctl_args {
  ctl_action action = ctl_action::help;
  ctl_endpoint target{"127.0.0.1", 9000}; ///< --host / --port: where `command` goes
  std::string password;                   ///< --password: AUTH first when not empty
  bool json = false;                      ///< status --json
  std::vector<ctl_endpoint> nodes;        ///< status: the nodes to ask (at least one)
  std::vector<std::string> command;       ///< command: the RESP argv to send (non-empty)
  std::string save_path;                  ///< snapshot_save: the backup file to write
};

/// parse_ctl_args's answer: `error` is empty on success, else a usage error (exit 2).
struct ctl_parse_result {
  ctl_args args;
  std::string error;
};

/// The usage text `prez-ctl --help` prints.
std::string ctl_usage();

/// Parses `host:port` (or `[v6]:port`); nullopt unless the port is 1..65535 and the host is not
/// empty.
std::optional<ctl_endpoint> parse_endpoint(std::string_view text);

/// Parses prez-ctl's arguments (without the program name). Options may come before or after the
/// command words. Never throws; every mistake is a usage error naming the culprit.
ctl_parse_result parse_ctl_args(const std::vector<std::string>& args);

/// The `key:value` lines of an INFO reply (section headers, blank lines and lines without a colon
/// are skipped; a `\r` before the line end is dropped). Later keys win.
std::map<std::string, std::string> parse_info_fields(std::string_view text);

/// One node as `prez-ctl status` shows it.
struct node_status {
  std::string address;     ///< as given on the command line
  bool up = false;         ///< it answered INFO raft with every field below
  std::string down_reason; ///< why not, when !up ("connection refused", "timeout", ...)
  std::string name;
  std::string role;       ///< leader, follower, candidate, ...
  std::string membership; ///< voter, learner, joining, none, removed
  std::string leader;     ///< the leader this node knows of (may be empty)
  std::uint64_t term = 0;
  std::uint64_t commit_index = 0;
  std::uint64_t last_applied = 0;
  std::uint64_t last_log_index = 0;
  std::uint64_t snapshot_index = 0;
  /// The leader's commit index minus this node's last applied index (0 when it is ahead); empty
  /// when no leader answered or the node is down. Set by compute_lag.
  std::optional<std::uint64_t> lag;
};

/// A node that did not answer.
node_status node_down(std::string address, std::string reason);

/// A node from its INFO raft text; down (with the missing field named) when a field is missing or
/// not a number, so a foreign server is never shown as a healthy node.
node_status node_from_info(std::string address, std::string_view info_text);

/// Index in `nodes` of the leader lag is measured against: among the nodes that are up and report
/// role leader, the one with the highest term (a deposed leader not yet aware of it has a lower
/// one). nullopt when none.
std::optional<std::size_t> find_leader(const std::vector<node_status>& nodes);

/// Sets every up node's lag against find_leader's leader (leaves it empty when there is none).
void compute_lag(std::vector<node_status>& nodes);

/// Up nodes reporting role leader.
std::size_t count_leaders(const std::vector<node_status>& nodes);

/// `prez-ctl status`'s exit code: 0 when every node is up and exactly one is leader, else 1.
int status_exit_code(const std::vector<node_status>& nodes);

/// The status as an aligned table with a header line, one row per node, in the given order.
std::string format_status_table(const std::vector<node_status>& nodes);

/// The status as a JSON array of objects (one per node, in order), ending in a newline.
std::string format_status_json(const std::vector<node_status>& nodes);

/// `text` as a JSON string literal, quotes included (control bytes as \u00XX, other bytes as is).
std::string json_quote(std::string_view text);

/// A reply as prez-ctl prints it: a string or an integer on one line; nil as `(nil)`; an array
/// one element per line, an element that is itself an array as its items in aligned columns
/// (RAFT.NODE LIST prints one member per line). Every line ends in '\n'. Errors are not printed
/// here (the app writes them to stderr).
std::string format_reply(const resp2_reply& reply);

} // namespace prez
