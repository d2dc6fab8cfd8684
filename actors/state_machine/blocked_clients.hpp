#pragma once
// The clients blocked by BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP and
// XREAD BLOCK (kv_blocking.cpp, docs/architecture.md §3.6). Part of the replicated state: a
// blocking command that finds nothing to pop is applied by registering its client here, identically
// on every replica, and a later entry that gives one of its keys data serves it there, in the order
// the clients blocked (Redis's FIFO per key). So an element is popped for exactly one client, at
// the same log position on every replica, and a snapshot carries the waiting clients along. A
// blocked XREAD pops nothing: every reader waiting on a stream is served by its new entries (D35).
// Pure.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <msgpack.hpp>

namespace prez::kv {

/// One blocked client: the command it is blocked in.
struct blocked_client {
  std::uint64_t client_id = 0;
  std::uint64_t seq = 0;
  /// The blocking command as the client sent it.
  std::vector<std::string> argv;
  /// The keys it waits on, in its order (parse_blocking(argv).keys).
  std::vector<std::string> keys;
  /// On the cluster clock: past it the client is answered as timed out even if its node never
  /// sends the timeout (kv_blocking.cpp); 0 for none.
  std::uint64_t deadline_ms = 0;
  friend bool operator==(const blocked_client&, const blocked_client&) = default;
};

class blocked_clients {
public:
  using client_key = std::pair<std::uint64_t, std::uint64_t>; ///< (client_id, seq)

  bool contains(client_key id) const { return orders_.count(id) != 0; }
  std::size_t size() const { return by_order_.size(); }
  bool empty() const { return by_order_.empty(); }
  /// Whether some client waits on `key`.
  bool waited(std::string_view key) const { return by_key_.find(key) != by_key_.end(); }
  /// Every key some client waits on, in key order.
  std::vector<std::string> waited_keys() const {
    std::vector<std::string> keys;
    for (const auto& [key, orders] : by_key_)
      keys.push_back(key);
    return keys;
  }

  /// Registers a client behind every client already blocked. Precondition: !contains(its id).
  void add(blocked_client client);
  /// Unregisters a client; nullopt when it is not blocked.
  std::optional<blocked_client> remove(client_key id);
  /// The clients waiting on `key`, the earliest blocked first.
  std::vector<client_key> waiting_on(std::string_view key) const;
  /// The clients whose deadline is <= clock_ms, the earliest deadline first.
  std::vector<client_key> due(std::uint64_t clock_ms) const;
  /// The earliest deadline of a blocked client, nullopt when none has one.
  std::optional<std::uint64_t> next_deadline_ms() const {
    if (deadlines_.empty()) return std::nullopt;
    return deadlines_.begin()->first;
  }
  /// The blocked client `id`. Precondition: contains(id).
  const blocked_client& at(client_key id) const;

  /// Appends one snapshot record per client, the earliest blocked first:
  ///   [7, client_id, seq, deadline_ms, [argv...]]
  /// Restoring them in that order rebuilds the same queues.
  void serialise(std::string& out) const;

  friend bool operator==(const blocked_clients&, const blocked_clients&) = default;

private:
  /// Order numbers only grow, so the map's order is the order clients blocked in.
  std::uint64_t next_order_ = 0;
  std::map<std::uint64_t, blocked_client> by_order_;
  /// Invariant: one item per client of by_order_, mapping its id to its order.
  std::map<client_key, std::uint64_t> orders_;
  /// Invariant: key -> orders of the clients waiting on it (never an empty set).
  std::map<std::string, std::set<std::uint64_t>, std::less<>> by_key_;
  /// Invariant: (deadline, order) of every client with a deadline.
  std::set<std::pair<std::uint64_t, std::uint64_t>> deadlines_;
};

} // namespace prez::kv
