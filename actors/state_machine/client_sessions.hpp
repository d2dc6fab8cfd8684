#pragma once
// Exactly-once application of client commands (thesis §6.3): every command carries
// (client_id, seq); the state machine remembers the replies of each client's recent commands, so
// a command applied twice (a forward retried after its leader died, a duplicate proposal) is
// answered with the stored reply instead of being applied again. Pure and deterministic: the
// table only changes at apply time, and expiry uses the leader's time stamped in the entries, so
// every replica keeps and drops exactly the same sessions.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace prez {

class client_sessions {
public:
  /// Commands of one client remembered at most (its pipeline depth that can be retried).
  static constexpr std::size_t replies_per_client_max = 128;
  /// A client idle this long (by log time) is forgotten.
  static constexpr std::uint64_t idle_ms_max = 10 * 60 * 1000;
  /// Clients remembered at most; beyond it the least recently active is forgotten.
  static constexpr std::size_t clients_max = 64 * 1024;

  /// What to do with a command about to be applied.
  enum class verdict {
    apply,     ///< new: apply it, then call record()
    duplicate, ///< already applied: answer with the stored reply (in `reply`)
    too_old,   ///< its reply is no longer remembered: the outcome cannot be told
  };

  /// Looks up (client_id, seq) at log time `time_ms`. Expires idle sessions first.
  verdict check(std::uint64_t client_id, std::uint64_t seq, std::uint64_t time_ms,
                std::string& reply);
  /// Remembers the reply of an applied command.
  void record(std::uint64_t client_id, std::uint64_t seq, std::uint64_t time_ms,
              const std::string& reply);

  std::size_t size() const { return clients_.size(); }

private:
  struct client {
    /// Replies by seq. Invariant: size() <= replies_per_client_max.
    std::map<std::uint64_t, std::string> replies;
    /// Seqs below this were forgotten. Invariant: every key of replies >= forgotten_below.
    std::uint64_t forgotten_below = 0;
    std::uint64_t last_active_ms = 0;
  };
  void expire(std::uint64_t time_ms);

  std::map<std::uint64_t, client> clients_;
  /// (last_active_ms, client_id) of every client, oldest first: expiry in log-time order.
  std::map<std::pair<std::uint64_t, std::uint64_t>, bool> by_activity_;
};

} // namespace prez
