#pragma once
// EXEC with connection commands inside (docs/decisions.md D30): the queued data commands go
// through the log as one transaction; the connection commands (CONFIG, CLIENT, INFO, PING, ...)
// are run by the connection once the transaction's reply is back, and their replies are put into
// EXEC's array at their places. Pure.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace prez {

/// True when the connection runs `argv` itself (a command the command table calls local:
/// PING, ECHO, CONFIG, CLIENT, INFO, TIME, SELECT, COMMAND, HELLO, AUTH, ...), false when it goes
/// through the log with the transaction's data commands.
bool runs_at_connection(const std::vector<std::string>& argv);

/// A transaction's queued commands, split by where they run.
struct exec_plan {
  /// The data commands, in their queued order: the transaction the log applies.
  std::vector<std::vector<std::string>> data;
  /// The connection commands, in their queued order, and their places in EXEC's reply.
  std::vector<std::vector<std::string>> local;
  std::vector<std::size_t> local_positions; ///< Invariant: ascending, same size as `local`
  std::size_t size() const { return data.size() + local.size(); }
};

/// Splits `queued` (MULTI's commands in order) with runs_at_connection.
exec_plan plan_exec(std::vector<std::vector<std::string>> queued);

/// The elements of a RESP2 array reply, each as its own complete reply text; nullopt when
/// `reply` is not a (non-null) array: a null array (a WATCHed key changed) or an error.
std::optional<std::vector<std::string>> array_elements(const std::string& reply);

/// EXEC's RESP2 reply: `data_replies` (one per data command, in order) at the places no local
/// command holds, `local_replies` (one per local command) at `local_positions`. Sizes must match
/// the plan's (asserted).
std::string splice_exec_reply(const std::vector<std::string>& data_replies,
                              const std::vector<std::string>& local_replies,
                              const std::vector<std::size_t>& local_positions);

} // namespace prez
