#pragma once
// The replicated key-value state: Redis semantics, RESP replies as bytes. Pure and
// deterministic (STYLE §1): the same commands in the same order give the same replies and the
// same state on every replica. Owned by the state_machine_actor.

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

namespace prez {

/// How a command travels.
enum class command_kind : std::uint8_t {
  read,    ///< served from the state after a ReadIndex round (GET, EXISTS)
  write,   ///< proposed to the log, then applied on every replica (SET, DEL)
  local,   ///< answered by the receiving node, never replicated (PING, ECHO)
  unknown, ///< not runnable: unknown name, wrong arity or bad syntax; error_reply says why
};

/// Classifies a client command and checks its arity and syntax the way Redis 7 does, so an
/// invalid command is answered at once and never enters the log. Returns command_kind::unknown
/// exactly when it sets `error_reply` to a RESP error (e.g. "-ERR wrong number of arguments for
/// 'set' command\r\n", "-ERR syntax error\r\n", "-ERR unknown command 'foo', with args beginning
/// with: \r\n"); otherwise clears `error_reply`. Command names are case-insensitive.
command_kind classify(const std::vector<std::string>& argv, std::string& error_reply);

/// Runs a command of kind `local` (PING, ECHO) and returns its RESP reply. Any other command
/// gets the same error reply classify() gives, or an error saying it is not local.
std::string run_local(const std::vector<std::string>& argv);

/// The key space. Values are strings for now; the variant is where lists, hashes, sets and
/// sorted sets will go, and where a per-key expiry will sit beside the value.
class kv_state {
public:
  /// Applies a command taken from the committed log and returns its RESP reply. Deterministic:
  /// depends only on the state and the arguments. `time_ms` is the leader's clock stamped in the
  /// entry (the only time replicas may use: future expiry). Write, read and local commands are
  /// all accepted, so reads sent through the log work too; an invalid command gets the error
  /// reply classify() gives and changes nothing.
  std::string apply(const std::vector<std::string>& argv, std::uint64_t time_ms);

  /// Serves a read command (GET, EXISTS) from the current state and returns its RESP reply.
  /// Never changes the state. A write command gets "-ERR ... is not a read command" (a routing
  /// bug in the caller; writes must go through apply()).
  std::string read(const std::vector<std::string>& argv) const;

  /// Number of keys.
  std::size_t size() const { return keys_.size(); }
  /// Bytes of keys plus values held (payload only, not allocator overhead).
  std::size_t bytes() const { return bytes_; }

private:
  friend struct kv_commands; // the command table in kv_state.cpp

  using value = std::variant<std::string>;
  static std::size_t value_bytes(const value& v);
  void put(const std::string& key, value v);
  bool erase(const std::string& key);

  /// Iteration order of this map is unspecified: anything that walks it (SCAN, KEYS, snapshots)
  /// must sort first, so replicas agree (STYLE §6).
  std::unordered_map<std::string, value> keys_;
  /// Invariant: bytes_ == sum over keys_ of key.size() + value_bytes(value).
  std::size_t bytes_ = 0;
};

} // namespace prez
