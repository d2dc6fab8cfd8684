#pragma once
// Internal to the RESP gateway: the state of one client connection's broker and the functions its
// parts share (resp_gateway_actor.cpp: the reply pipeline and the acceptor;
// connection_commands_broker.cpp: AUTH, transactions and the commands a connection answers
// itself). Included only by those two files.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "caf/all.hpp"
#include "caf/io/all.hpp"

#include "actors/gateway/exec_splice.hpp"
#include "actors/gateway/resp3.hpp"
#include "actors/gateway/resp_gateway_actor.hpp"
#include "actors/gateway/resp_parser.hpp"
#include "actors/gateway/resp_writer.hpp"
#include "messages/client_messages.hpp"

namespace prez::gateway {

/// One reply position in a connection's pipeline. Replies leave in command order.
struct reply_slot {
  bool ready = false;
  bool close_after = false;
  /// CLIENT REPLY OFF or SKIP: the reply is computed and dropped, never written.
  bool silent = false;
  std::string text;
  /// The protocol the command was given in (2 or 3; HELLO's own reply uses the one it selects)
  /// and what its RESP2 reply becomes in RESP3 (resp3.hpp).
  int protocol = 2;
  resp3_shape shape = resp3_shape::plain;
  std::vector<resp3_shape> queued; ///< EXEC: its queued commands' shapes
};

/// The versions a WATCH read returned (kv_state::key_version), for the EXEC that follows.
struct watch_result {
  bool done = false;
  bool failed = false; ///< the WATCH got an error: the EXEC that depends on it aborts
  std::vector<std::pair<std::string, std::uint64_t>> versions;
};

/// A command waiting for its turn on a connection.
struct deferred_command {
  std::uint64_t slot;
  client_command command;
  bool write;
  /// EXEC only: the WATCHes it depends on; it is sent once all are answered.
  std::vector<std::shared_ptr<watch_result>> watches;
  /// WATCH only: where its versions go.
  std::shared_ptr<watch_result> watch_target;
  /// EXEC only, when its reply is put together at the connection (connection commands queued,
  /// or no data command at all): the plan the log's reply is spliced with (docs/decisions.md D30).
  std::shared_ptr<exec_plan> exec;
};

/// Reply slot numbers from here up are parts of an EXEC's reply (a connection command run at
/// EXEC), not places in the pipeline: fill() puts their text into their EXEC's array.
constexpr std::uint64_t exec_part_slot_base = std::uint64_t{1} << 62;

/// An EXEC whose connection commands are running: their replies, gathered until all are in.
struct exec_assembly {
  std::uint64_t slot = 0; ///< EXEC's own reply slot
  std::vector<std::string> data_replies;
  std::vector<std::string> local_replies;
  std::vector<std::size_t> local_positions;
  std::size_t missing = 0; ///< local replies not in yet. Invariant: <= local_replies.size()
};

/// One connection command run at EXEC, under its part slot number.
struct exec_part {
  std::shared_ptr<exec_assembly> assembly;
  std::size_t index = 0; ///< into assembly->local_replies
  reply_slot slot;       ///< what handlers may look at (HELLO sets its protocol); never written
};

/// A command sent to the session manager and not answered yet: what its answer does (nullopt:
/// no answer in time), and when it is given up on (none: a blocking command without a timeout).
struct awaiting_reply {
  std::function<void(std::optional<std::string>)> done;
  std::optional<caf::actor_clock::time_point> deadline;
};

struct connection_state {
  gateway_settings settings;
  caf::io::connection_handle handle;
  resp_parser parser;
  std::uint64_t client_id = 0;
  std::uint64_t next_seq = 0;
  /// slots[0] has number first_slot. Invariant: slots.size() <= limits::pipelined_commands_max +
  /// read batch.
  std::deque<reply_slot> slots;
  std::uint64_t first_slot = 0;
  bool reading_halted = false;
  bool closing = false;
  /// QUIT was read: the connection closes once the replies before it are out, and nothing read
  /// after it runs.
  bool quit_received = false;
  /// Commands sent to the session manager, by seq (to_session).
  std::map<std::uint64_t, awaiting_reply> awaiting;
  /// Commands given to to_session while this message is handled: they leave as one batch.
  std::vector<client_command> outbox;
  /// A deadline sweep is scheduled (it runs while a command with a deadline awaits its answer).
  bool sweep_scheduled = false;
  /// Replies written while one message is handled go to the socket in one flush at its end
  /// (flush_guard); `unflushed` says one is owed.
  bool defer_flush = false;
  bool unflushed = false;
  /// Seqs of this connection's commands sent through the log and not yet answered.
  std::set<std::uint64_t> log_in_flight;
  /// Reads sent to be served by ReadIndex and not yet answered.
  std::size_t reads_in_flight = 0;
  /// The seq of this connection's blocking command in flight (BLPOP, ...), 0 when none: nothing
  /// after it is sent until it is answered, as Redis runs a blocked client's next commands only
  /// once it is unblocked.
  std::uint64_t blocked_seq = 0;
  /// CLIENT REPLY: whether the replies of the next commands are written (on), dropped (off), or
  /// the next one dropped (skip). Pub/sub confirmations and messages are pushes: always written.
  enum class reply_mode { on, off, skip } replies = reply_mode::on;
  /// Pub/sub: the channels and patterns this connection is subscribed to (docs/architecture.md
  /// §3.7). While either is non-empty a RESP2 connection takes only pub/sub commands, PING,
  /// QUIT and RESET.
  std::set<std::string> channels;
  std::set<std::string> patterns;
  /// Commands held back to keep per-connection order (see handle_command).
  std::deque<deferred_command> deferred;
  /// MULTI: commands queued until EXEC, and whether one of them was refused while queueing.
  bool in_multi = false;
  bool multi_refused = false;
  std::vector<std::vector<std::string>> queued;
  /// WATCH results since the last EXEC/DISCARD/UNWATCH, in order; filled when their reads return.
  std::vector<std::shared_ptr<watch_result>> watches;
  /// The connection commands of EXECs now running, by part slot number (exec_part_slot_base up).
  std::map<std::uint64_t, exec_part> exec_parts;
  std::uint64_t next_part_slot = exec_part_slot_base;
  /// The reply slot of the EXEC with connection commands that waits for the log, if any: the
  /// commands read meanwhile are held (not run) until EXEC's connection commands ran, so their
  /// effects (CLIENT SETNAME, CONFIG SET, HELLO) come before anything sent after EXEC (D30).
  /// Invariant: held is empty when there is none (but while the held commands are replayed).
  std::optional<std::uint64_t> holding_exec;
  std::deque<std::vector<std::string>> held;
  /// A protocol error read while holding: answered (and the connection closed) after the held
  /// commands ran. Nothing more is read once it is set.
  std::optional<std::string> held_protocol_error;
  std::string client_name;
  /// RESP version chosen with HELLO (2 until then, and again after RESET).
  int protocol = 2;
  std::uint64_t connection_number = 0;
  /// True once AUTH succeeded, or from the start when no requirepass is set.
  bool authenticated = true;
  caf::actor acceptor; ///< the gateway's listening broker (client counts for INFO)
  static inline const char* name = "resp_connection";
};

using connection = caf::io::stateful_broker<connection_state>;

inline std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// Fills reply `slot` (a RESP2 reply, rewritten to RESP3 when the command was given in RESP3) and
/// writes every reply that is now next in line.
void fill(connection* self, std::uint64_t slot, std::string text, bool close_after = false);
/// Makes reply `slot` ready with `text` as it is (already in the connection's protocol).
void fill_raw(connection* self, std::uint64_t slot, std::string text);
/// Writes a push (a pub/sub message) at once, or behind the replies still pending.
void push_out(connection* self, std::string text);
/// SUBSCRIBE, PSUBSCRIBE, UNSUBSCRIBE, PUNSUBSCRIBE, PUBSUB; and the RESP2 subscribed-mode gate
/// (PING's form there, other commands refused). True when the command was answered here.
bool handle_pubsub(connection* self, std::uint64_t slot, const std::string& name,
                   const std::vector<std::string>& argv);
/// Drops every subscription of the connection (RESET).
void unsubscribe_all(connection* self);
/// Sends a data command to the session manager now, or queues it behind earlier ones.
void submit(connection* self, deferred_command&& item);
/// Sends `command` to the session manager (in one batch with the others sent while this message
/// is handled); `done` gets its reply, or nullopt if none came within `wait` (never given up on
/// without one).
void to_session(connection* self, client_command command,
                std::optional<std::chrono::milliseconds> wait,
                std::function<void(std::optional<std::string>)> done);
/// Sends the commands to_session gathered, if any.
void send_outbox(connection* self);
/// While one lives, replies made ready are written to the socket in one flush at its end.
class flush_guard {
public:
  explicit flush_guard(connection* self);
  ~flush_guard();
  flush_guard(const flush_guard&) = delete;
  flush_guard& operator=(const flush_guard&) = delete;

private:
  connection* self_;
  bool outer_;
};
/// AUTH and the gate before authentication. True when the command was answered.
bool handle_auth(connection* self, std::uint64_t slot, const std::string& name,
                 std::vector<std::string>& argv);
/// MULTI, EXEC, DISCARD, WATCH, UNWATCH. True when the command was one of them.
bool handle_transaction(connection* self, std::uint64_t slot, const std::string& name,
                        std::vector<std::string>& argv);
/// The reply slot of number `slot` (which must be pending).
reply_slot& slot_at(connection* self, std::uint64_t slot);
/// Copies maxclients, requirepass and protected-mode from settings.runtime (when set) into
/// `settings`: the acceptor calls it at each accept, so a new connection sees CONFIG SET's values.
void refresh_door_settings(gateway_settings& settings);
/// Ends the connection's blocked command: sends PREZ.UNBLOCK <blocked_seq> through the log as
/// this client (its timeout passed, the connection closed, or CLIENT UNBLOCK asked: with
/// `error`, the command answers -UNBLOCKED). Nothing when none is blocked.
void send_unblock(connection* self, bool error = false);
/// Commands a connection answers without the cluster. True when the command was one of them.
bool handle_local(connection* self, std::uint64_t slot, const std::vector<std::string>& argv);
/// Ends the hold of the EXEC answering `slot` (connection_state::holding_exec), if it holds, and
/// runs the commands held meanwhile, in order.
void release_exec_hold(connection* self, std::uint64_t slot);
/// Runs a connection command queued in MULTI, at EXEC (AUTH, HELLO, UNWATCH, PUBSUB and what
/// handle_local answers); it answers `slot` (an EXEC part) exactly once, now or later.
void run_queued_local(connection* self, std::uint64_t slot, const std::vector<std::string>& argv);
/// Runs `plan`'s connection commands and answers EXEC's `slot` with their replies spliced among
/// `data_replies` (the log's replies to the plan's data commands) once all are in.
void run_exec_locals(connection* self, std::uint64_t slot, const std::shared_ptr<exec_plan>& plan,
                     std::vector<std::string> data_replies);

} // namespace prez::gateway
