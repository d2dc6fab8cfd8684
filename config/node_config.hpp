#pragma once
// prez.conf and nodes.conf: parsing and validation. Pure apart from load_node_config(), which reads
// the two files from disk; everything else is string in, result out, so tests need no files.
//
// prez.conf format (Redis style): one `key value` per line, `#` starts a comment line, blank lines
// are ignored, keys are case-insensitive, a value may be double-quoted (`\"` and `\\` escapes) to
// hold spaces or `#`. A `#` after a value is NOT a comment (as in Redis): it is an extra token.
//
// nodes.conf format: one `node-name host:cluster-port [learner]` per line (IPv6 hosts in
// brackets: `[::1]:7000`), same comment and blank-line rules. prez rewrites it from every
// committed configuration (format_nodes_file), so a restart sees the current membership.
//
// Every error reads `file:line: reason`, or `file: reason` when it concerns the whole file.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "config/limits.hpp"

namespace prez {

/// One voter from nodes.conf.
struct cluster_member {
  std::string name;               ///< valid node name (see is_valid_node_name)
  std::string host;               ///< IPv4/IPv6 (without brackets) or host name; never empty
  std::uint16_t cluster_port = 0; ///< 1..65535 (0 only in the single-node default: no peer port)
  std::size_t source_line = 0;    ///< line in nodes.conf, 0 when not read from a file
  /// A third field `learner`: a non-voting member (it receives the log, never votes).
  bool learner = false;
  friend bool operator==(const cluster_member&, const cluster_member&) = default;
};

/// How a follower treats client commands that need the leader.
enum class follower_mode { proxy, redirect };

/// A node's whole validated configuration.
struct node_config {
  /// Unique, never reused in the cluster. Invariant: is_valid_node_name(name).
  std::string name = "prez";
  std::string bind = "127.0.0.1"; ///< client (RESP) listen address
  std::uint16_t port = 9000;      ///< client (RESP) port, 1..65535
  std::uint16_t cluster_port = 0; ///< peer port; 0 = none (single node without peers)
  /// HTTP port for GET /metrics (Prometheus) and GET /health, on `bind`; 0 = not served.
  /// Invariant: 0, or 1..65535 and different from `port` and `cluster_port`.
  std::uint16_t metrics_port = 0;
  std::string cluster_config_file; ///< resolved path of nodes.conf; empty = single node
  std::uint32_t cluster_node_timeout_ms = 1000; ///< election timeout base, 50..600000
  std::string loglevel = "notice"; ///< lower-case, one of the words is_valid_loglevel accepts
  /// Keyspace notifications this node publishes (Redis's notify-keyspace-events letters, held
  /// as CONFIG GET reports them); empty: off. Node-local (docs/decisions.md D32).
  std::string notify_keyspace_events;
  std::string dir = "./prez-data"; ///< data directory, resolved against prez.conf's directory
  follower_mode mode = follower_mode::proxy;
  /// Clients must AUTH with this password first (Redis's requirepass); empty: no password.
  std::string requirepass;
  /// Redis's protected mode: without a requirepass, only loopback clients are served.
  bool protected_mode = true;
  /// Shared by every node: each peer frame carries an HMAC-SHA256 under it, so only processes that
  /// know it are heard. Empty: frames are accepted from any process claiming a member's name.
  std::string cluster_secret;
  /// TLS for node links (docs/decisions.md D24): this node's certificate (PEM, chain allowed), its
  /// private key (PEM, unencrypted) and the CA certificate every node's certificate must be signed
  /// by, all resolved against prez.conf's directory. Invariant: all three set or all three empty.
  /// Only the node links use them; the client port stays plain.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_ca_cert_file;
  /// A peer link stops sending (and drops, as a lossy network would) once this many bytes are
  /// sent and not yet acknowledged by the peer node: the bound on what CAF buffers per peer.
  std::uint64_t cluster_link_window_bytes = limits::link_window_bytes_default;
  /// Client connections served at once; one more gets Redis's "max number of clients reached".
  /// Invariant: 1 <= maxclients <= limits::maxclients_max.
  std::uint64_t maxclients = limits::maxclients_default;
  /// The state machine takes a snapshot (and the log is compacted) once this many entries, or
  /// this many bytes of entry data, were applied since the last one. 0 turns a trigger off.
  std::uint64_t snapshot_entries = limits::snapshot_entries_default;
  std::uint64_t snapshot_bytes = limits::snapshot_bytes_default;
  /// Entries kept in the log before a snapshot's end, so a follower a little behind catches up
  /// from the log instead of by InstallSnapshot.
  std::uint64_t snapshot_trailing_entries = limits::snapshot_trailing_entries_default;
  /// audit-log: the file every applied command is listed in (resolved against prez.conf's
  /// directory); empty: no audit log. Rotated before it would exceed audit_log_max_bytes (0:
  /// never), keeping audit_log_keep older files (1..limits::audit_log_keep_max).
  std::string audit_log;
  std::uint64_t audit_log_max_bytes = limits::audit_log_max_bytes_default;
  std::uint64_t audit_log_keep = limits::audit_log_keep_default;
  /// Every voter including self, sorted by name, unique names and addresses. Filled by
  /// load_node_config / attach_members / default_single_node_config; parse_node_config fills it
  /// only in single-node mode (no cluster-config-file), with self alone.
  std::vector<cluster_member> members;
  std::string source_file; ///< path of prez.conf as given; empty for the built-in default
  /// Redis's encoding parameters (hash-max-listpack-entries, ...) given in prez.conf: canonical
  /// name -> value as CONFIG GET reports it. Accepted so that CONFIG REWRITE's file loads again;
  /// they have no effect (docs/decisions.md D27, config/runtime_config.hpp).
  std::map<std::string, std::string> stored_parameters;
  /// `cluster-join yes`: this node joins a running cluster. With an empty data dir it starts with
  /// no configuration, never campaigns, and waits to be added with RAFT.NODE ADD; nodes.conf
  /// then only tells it where the other nodes are.
  bool cluster_join = false;
  /// `role learner`: this node is a learner of the bootstrap configuration; nodes.conf must tag
  /// its line `learner` too (every node reads the same file, so all agree who votes).
  bool learner = false;
};

/// A configuration error, ready to print.
struct config_error {
  std::string message;  ///< "file:line: reason" or "file: reason"
  std::string file;     ///< file the error is about
  std::size_t line = 0; ///< 1-based line, 0 = the whole file
};

/// The text of a configuration file, at most limits::config_file_bytes_max bytes.
std::variant<std::string, config_error> read_config_file(const std::string& path);

/// Splits one line of prez.conf syntax into its tokens (double quotes with `\"` and `\\`
/// escapes); none for a blank or comment line. Returns the reason a line is refused.
std::variant<std::vector<std::string>, std::string> split_config_line(std::string_view line);

/// `value` as one token of prez.conf syntax: double-quoted and escaped when it is empty or holds a
/// blank, a quote or a backslash. Precondition: no newline (prez.conf values are one line).
std::string quote_config_value(std::string_view value);

/// True if `name` matches [A-Za-z0-9._-]+ and is at most node_name_bytes_max (64) bytes.
bool is_valid_node_name(std::string_view name);

/// Splits `host:port` (IPv6 as `[addr]:port`) into host (without brackets) and port 1..65535.
/// Returns the reason on failure.
std::variant<std::pair<std::string, std::uint16_t>, std::string>
parse_address(std::string_view address);

/// True for the accepted `loglevel` words (lower-case): debug verbose notice warning (Redis) and
/// trace info warn error critical off (spdlog).
bool is_valid_loglevel(std::string_view level);

/// Maps a valid `loglevel` word to the spdlog level name spdlog::level::from_str understands
/// ("trace", "debug", "info", "warning", "error", "critical", "off"). Redis's `verbose` maps to
/// "debug", `notice` to "info".
std::string_view spdlog_level_name(std::string_view level);

/// Parses prez.conf text. `file_name` is used in messages and its directory resolves the relative
/// `dir` and `cluster-config-file` paths (pure path arithmetic, no file access). In cluster mode
/// (cluster-config-file set) `name` and `cluster-port` are required and `members` is left empty
/// for attach_members; otherwise `members` holds self alone at 127.0.0.1:cluster_port.
std::variant<node_config, config_error> parse_node_config(std::string_view text,
                                                          const std::string& file_name);

/// A prez.conf line for a parameter CONFIG accepts without effect (runtime_config.hpp).
struct stored_parameter {
  std::string name;    ///< canonical name (hash-max-ziplist-entries -> hash-max-listpack-entries)
  std::string value;   ///< as CONFIG GET reports it (memory values in bytes)
  std::string refusal; ///< why the value is refused (Redis's reason); empty when accepted
};

/// nullopt when `key` (lower case) is no parameter CONFIG accepts without effect; otherwise the
/// parsed line. Defined in runtime_config.cpp, beside the parameter table.
std::optional<stored_parameter> parse_stored_parameter(std::string_view key,
                                                       const std::string& value);

/// Applies one prez.conf `key value` line to `config` with prez.conf's own validation (`key` in
/// lower case). Returns the reason the line is refused, empty on success. CONFIG SET checks its
/// values with it too, so CONFIG REWRITE never writes a line prez.conf would refuse.
std::string apply_config_key(node_config& config, const std::string& key, const std::string& value);

/// Parses nodes.conf text into members sorted by name. Rejects bad lines, bad ports, duplicate
/// names or addresses, more than limits::cluster_nodes_max nodes and a file with no node.
std::variant<std::vector<cluster_member>, config_error>
parse_nodes_file(std::string_view text, const std::string& file_name);

/// Checks that `config.name` is listed in `members` with the same cluster port, then stores the
/// members in `config`. `nodes_file_name` is used in messages. Returns the error, if any; on error
/// `config` is unchanged.
std::variant<std::monostate, config_error> attach_members(node_config& config,
                                                          std::vector<cluster_member> members,
                                                          const std::string& nodes_file_name);

/// Reads prez.conf at `path`, then its cluster-config-file (if set), and validates membership.
/// Files larger than limits::config_file_bytes_max are rejected. Does not check ports or the data
/// directory: the server does that at start-up.
std::variant<node_config, config_error> load_node_config(const std::string& path);

/// nodes.conf text for `members` (sorted by name) and the names of removed nodes (as comments:
/// the cluster itself remembers them).
std::string format_nodes_file(const std::vector<cluster_member>& members,
                              const std::vector<std::string>& removed);

/// True when node links use TLS (all three tls-* files are set).
inline bool tls_enabled(const node_config& config) {
  return !config.tls_cert_file.empty();
}

/// The no-argument single-node configuration: name "prez", 127.0.0.1:9000, dir ./prez-data
/// (relative to the working directory), no cluster port, members = {self at 127.0.0.1:0}.
node_config default_single_node_config();

} // namespace prez
