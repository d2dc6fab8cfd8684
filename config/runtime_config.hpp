#pragma once
// The parameters CONFIG GET / SET / REWRITE know (docs/decisions.md D27): one table holding each
// parameter's name and aliases, its type and bounds, whether CONFIG SET may change it and whether
// a change has an effect in prez. Pure: string in, string out; the gateway applies the effects
// (spdlog's level, the acceptor's maxclients, the password new connections and AUTH check).
//
// Node-local: a CONFIG SET changes this node only and is never replicated (Redis's semantics; a
// cluster-wide setting would have to go through the Raft log, which CONFIG does not).
//
// Values are held as text in the form CONFIG GET reports them (memory values in bytes, booleans
// as yes/no, enums in lower case), so GET, SET and REWRITE agree by construction.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "config/node_config.hpp"

namespace prez {

/// What CONFIG SET does with a parameter.
enum class parameter_effect {
  live,      ///< changed at once, node-local (loglevel, requirepass, maxclients, ...)
  stored,    ///< accepted, stored and reported, no effect (Redis's encoding knobs)
  immutable, ///< reported; CONFIG SET answers Redis's "can't set immutable config"
  fixed,     ///< reported; CONFIG SET accepts only the one value prez has (appendonly yes, ...)
};

/// One row of the parameter table, for documentation and tests.
struct parameter_info {
  std::string_view name;  ///< canonical lower-case name
  std::string_view alias; ///< Redis's older name (hash-max-ziplist-entries), or empty
  parameter_effect effect;
  /// The prez.conf key CONFIG REWRITE writes (the name itself for the encoding parameters, which
  /// prez.conf accepts too), or empty when prez.conf cannot hold it (fixed values).
  std::string_view prez_conf_key;
};

/// Every parameter CONFIG knows, sorted by name.
const std::vector<parameter_info>& config_parameter_table();

/// True when `pattern` holds a glob character (`*`, `?`, `[`): CONFIG GET then lists every
/// matching name and alias; otherwise it answers the one parameter under the name as given.
bool is_glob_pattern(std::string_view pattern);

/// A node's runtime configuration: the current value of every parameter in the table.
class runtime_config {
public:
  /// Values from a validated prez.conf (the rest at their Redis 7.0 defaults).
  explicit runtime_config(const node_config& config);

  /// CONFIG SET: `pairs` alternates names and values (argv after "CONFIG SET"; the caller checks
  /// there are at least two). All or nothing, as Redis 7: every pair is parsed and validated
  /// first and nothing changes unless all pass. Returns the error reply text without the leading
  /// '-' ("ERR ..."), or empty on success.
  std::string set(const std::vector<std::string>& pairs);

  /// CONFIG GET: (name, value) for each parameter a pattern names. A glob pattern lists every
  /// matching canonical name and alias (case-insensitive); a plain name answers under the name as
  /// the client wrote it. Each parameter name appears at most once.
  std::vector<std::pair<std::string, std::string>>
  get(const std::vector<std::string>& patterns) const;

  /// The current value of `name` (canonical or alias, any case); nullopt when unknown.
  std::optional<std::string> value(std::string_view name) const;

  /// Typed views of the live parameters.
  std::uint64_t maxclients() const;
  std::string requirepass() const;
  std::string loglevel() const;
  bool protected_mode() const;
  std::uint64_t snapshot_entries() const;
  std::uint64_t snapshot_bytes() const;
  /// notify-keyspace-events as kv::notify flags (0: off).
  int notify_keyspace_events() const;

  /// CONFIG REWRITE: `old_text` (prez.conf as it is on disk, named `file_name` in messages) with
  /// every parameter prez.conf can hold whose value differs from the file's set to the current
  /// value: the line holding it is replaced in place, or a line is appended. Comments, blank
  /// lines, order and every other line are kept. An empty requirepass removes its line (prez.conf
  /// cannot hold an empty password). The result is parsed again and must give the current
  /// values. Returns the new text, or the reason (a config_error) it cannot be written.
  std::variant<std::string, config_error> rewrite(std::string_view old_text,
                                                  const std::string& file_name) const;

private:
  /// Canonical name -> value text. Invariant: holds every row of the table, each value valid.
  std::map<std::string, std::string, std::less<>> values_;
};

/// A runtime_config shared by the gateway's acceptor and its connection brokers (they run on
/// different threads), plus the INFO counters' baseline since CONFIG RESETSTAT. One per node,
/// never global: several nodes may share a process (docs/decisions.md D27).
class shared_runtime_config {
public:
  explicit shared_runtime_config(const node_config& config) : config_(config) {}

  /// See runtime_config::set. `on_success` runs under the lock with the new values, so effects
  /// (spdlog's level) are applied in the same order as the changes.
  template <class OnSuccess>
  std::string set(const std::vector<std::string>& pairs, OnSuccess f) {
    std::lock_guard<std::mutex> guard(mutex_);
    auto error = config_.set(pairs);
    if (error.empty()) f(config_);
    return error;
  }
  /// Calls `f(const runtime_config&)` under the lock and returns what it returns.
  template <class F>
  auto read(F f) const {
    std::lock_guard<std::mutex> guard(mutex_);
    return f(config_);
  }
  /// Held by CONFIG REWRITE from reading prez.conf to renaming the new file over it, so two
  /// rewrites never interleave (a separate lock: the file's fsyncs never block an accept).
  std::unique_lock<std::mutex> lock_file() { return std::unique_lock<std::mutex>(file_mutex_); }
  /// A copy of the current configuration.
  runtime_config snapshot() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return config_;
  }
  /// INFO's total_connections_received counts from this many accepted connections on.
  std::uint64_t connections_baseline() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return connections_baseline_;
  }
  void reset_stats(std::uint64_t connections_accepted) {
    std::lock_guard<std::mutex> guard(mutex_);
    connections_baseline_ = connections_accepted;
  }

private:
  mutable std::mutex mutex_;
  std::mutex file_mutex_;
  runtime_config config_;                  ///< guarded by mutex_
  std::uint64_t connections_baseline_ = 0; ///< guarded by mutex_
};

} // namespace prez
