// The RESP gateway: a listening broker (the acceptor) forks one broker per client connection.
// This file holds the acceptor, the connection's behaviour and its reply pipeline (replies leave in
// command order; a connection's commands take effect in order). The commands a connection
// answers itself are in connection_commands_broker.cpp.

#include "actors/gateway/resp_gateway_actor.hpp"

#include <algorithm>
#include <charconv>
#include <deque>
#include <functional>
#include <map>

#include <spdlog/spdlog.h>

#include "actors/caf_messages.hpp"
#include "actors/gateway/client_gate.hpp"
#include "actors/gateway/connection.hpp"
#include "actors/gateway/pubsub.hpp"
#include "actors/state_machine/kv_state.hpp"
#include "config/assert.hpp"
#include "config/limits.hpp"

namespace prez {

namespace gateway {

void flush_ready(connection* self) {
  auto& st = self->state;
  bool wrote = false;
  bool close = false;
  auto& out = self->wr_buf(st.handle);
  while (!st.slots.empty() && st.slots.front().ready) {
    auto& slot = st.slots.front();
    if (!slot.silent) out.insert(out.end(), slot.text.begin(), slot.text.end());
    close = close || slot.close_after;
    st.slots.pop_front();
    ++st.first_slot;
    wrote = true;
    if (close) break;
  }
  if (wrote) {
    // A close writes out only what was flushed: the replies before it must be.
    if (st.defer_flush && !close)
      st.unflushed = true;
    else
      self->flush(st.handle);
  }
  if (close || out.size() > limits::reply_buffer_bytes_max) {
    if (!close) {
      spdlog::warn("client {}: reply buffer over {} bytes; disconnecting a slow reader",
                   st.client_id, limits::reply_buffer_bytes_max);
      // Drop what it has not taken: CAF's close still writes out its buffers before the FIN.
      out.clear();
      out.shrink_to_fit();
    }
    st.closing = true;
    send_unblock(self);
    send_outbox(self);
    self->close(st.handle);
    self->quit();
    return;
  }
  if (st.reading_halted && st.slots.size() < limits::pipelined_commands_max / 2 &&
      st.held.size() < limits::pipelined_commands_max / 2) {
    st.reading_halted = false;
    self->trigger(st.handle);
  }
}

flush_guard::flush_guard(connection* self) : self_(self), outer_(!self->state.defer_flush) {
  self->state.defer_flush = true;
}

flush_guard::~flush_guard() {
  if (!outer_) return;
  auto& st = self_->state;
  st.defer_flush = false;
  if (st.unflushed && !st.closing) self_->flush(st.handle);
  st.unflushed = false;
}

namespace {

/// How often a connection checks its commands' deadlines while any awaits an answer.
constexpr auto deadline_sweep = std::chrono::milliseconds(500);

/// Hands command `seq`'s answer (nullopt: none in time) to what waits for it, once.
void take_answer(connection* self, std::uint64_t seq, std::optional<std::string> text) {
  auto& st = self->state;
  const auto it = st.awaiting.find(seq);
  if (it == st.awaiting.end()) return; // given up on already: a late answer is dropped
  auto done = std::move(it->second.done);
  st.awaiting.erase(it);
  done(std::move(text));
}

void schedule_sweep(connection* self) {
  auto& st = self->state;
  if (st.sweep_scheduled) return;
  st.sweep_scheduled = true;
  // Anonymous, as every message a broker sends itself (docs/architecture.md §8): one still
  // pending when the broker ends would otherwise keep it alive.
  caf::delayed_anon_send(caf::actor_cast<caf::actor>(self), deadline_sweep, tick_atom::value);
}

/// Gives up on the commands past their deadline, then sweeps again while any has one.
void sweep_deadlines(connection* self) {
  auto& st = self->state;
  st.sweep_scheduled = false;
  const auto now = self->clock().now();
  std::vector<std::uint64_t> expired;
  for (const auto& [seq, waiting] : st.awaiting)
    if (waiting.deadline && *waiting.deadline <= now) expired.push_back(seq);
  for (const auto seq : expired)
    take_answer(self, seq, std::nullopt);
  if (std::any_of(st.awaiting.begin(), st.awaiting.end(),
                  [](const auto& w) { return w.second.deadline.has_value(); }))
    schedule_sweep(self);
}

} // namespace

void to_session(connection* self, client_command command,
                std::optional<std::chrono::milliseconds> wait,
                std::function<void(std::optional<std::string>)> done) {
  auto& st = self->state;
  awaiting_reply waiting{std::move(done), std::nullopt};
  if (wait) waiting.deadline = self->clock().now() + *wait;
  st.awaiting.insert_or_assign(command.seq, std::move(waiting));
  if (st.outbox.empty()) caf::anon_send(caf::actor_cast<caf::actor>(self), flush_atom::value);
  st.outbox.push_back(std::move(command));
  if (wait) schedule_sweep(self);
}

void send_outbox(connection* self) {
  auto& st = self->state;
  if (st.outbox.empty()) return;
  self->send(st.settings.session, command_atom::value, std::move(st.outbox));
  st.outbox.clear();
}

reply_slot& slot_at(connection* self, std::uint64_t slot) {
  if (slot >= exec_part_slot_base) return self->state.exec_parts.at(slot).slot;
  return self->state.slots[slot - self->state.first_slot];
}

namespace {

bool slot_pending(const connection_state& st, std::uint64_t slot) {
  return !st.closing && slot >= st.first_slot && slot - st.first_slot < st.slots.size();
}

/// Makes slot `slot` ready with its final text and writes what is now next in line.
void fill_final(connection* self, std::uint64_t slot, std::string text, bool close_after) {
  if (!slot_pending(self->state, slot)) return;
  auto& s = slot_at(self, slot);
  s.ready = true;
  s.text = std::move(text);
  s.close_after = close_after;
  flush_ready(self);
}

/// A reply in the connection's protocol: RESP3 rewritten from RESP2 (D13), or for RESP2 a script's
/// RESP3 types downgraded (resp3.hpp, may_hold_resp3).
std::string in_protocol(const std::string& text, int protocol, resp3_shape shape,
                        const std::vector<resp3_shape>& queued) {
  return protocol == 3 ? to_resp3(text, shape, queued) : to_resp2(text);
}

/// A one-shot worker on CAF's scheduler (not the middleman's I/O thread) that rewrites one reply
/// into the connection's protocol (in_protocol) and ends.
caf::behavior resp3_converter_actor(caf::event_based_actor* self, int protocol, resp3_shape shape,
                                    std::vector<resp3_shape> queued) {
  return {
      [=](convert_atom, const std::string& text) -> std::string {
        self->quit();
        return in_protocol(text, protocol, shape, queued);
      },
  };
}

/// Converts a large reply off the I/O thread (limits::resp3_inline_bytes_max). The slot stays
/// pending meanwhile, so the replies behind it wait and the connection's order holds.
void convert_elsewhere(connection* self, std::uint64_t slot, std::string text, bool close_after) {
  const auto& s = slot_at(self, slot);
  spdlog::debug("client {}: a {}-byte reply goes to a worker for RESP3", self->state.client_id,
                text.size());
  auto converter = self->system().spawn(resp3_converter_actor, s.protocol, s.shape, s.queued);
  self->request(converter, caf::infinite, convert_atom::value, std::move(text))
      .then(
          [=](std::string& converted) {
            fill_final(self, slot, std::move(converted), close_after);
          },
          [=](const caf::error& error) {
            spdlog::error("client {}: RESP3 conversion failed: {}", self->state.client_id,
                          self->system().render(error));
            fill_final(self, slot, resp::error("ERR reply conversion to RESP3 failed"), true);
          });
}

} // namespace

/// An EXEC part's reply (RESP2: EXEC's whole reply is converted for RESP3 with its queued
/// commands' shapes): kept in its EXEC's assembly; the last one in answers EXEC.
void fill_part(connection* self, std::uint64_t slot, std::string text) {
  auto& st = self->state;
  const auto it = st.exec_parts.find(slot);
  if (it == st.exec_parts.end()) return; // answered already
  auto assembly = it->second.assembly;
  assembly->local_replies[it->second.index] = std::move(text);
  st.exec_parts.erase(it);
  PREZ_ASSERT(assembly->missing > 0);
  if (--assembly->missing > 0) return;
  fill(self, assembly->slot,
       splice_exec_reply(assembly->data_replies, assembly->local_replies,
                         assembly->local_positions));
}

void fill_raw(connection* self, std::uint64_t slot, std::string text) {
  if (slot >= exec_part_slot_base) return fill_part(self, slot, std::move(text));
  fill_final(self, slot, std::move(text), false);
}

void push_out(connection* self, std::string text) {
  auto& st = self->state;
  if (st.closing) return;
  auto& pushed = st.slots.emplace_back();
  pushed.ready = true;
  pushed.text = std::move(text);
  flush_ready(self);
}

void fill(connection* self, std::uint64_t slot, std::string text, bool close_after) {
  auto& st = self->state;
  if (slot >= exec_part_slot_base) return fill_part(self, slot, std::move(text));
  if (!slot_pending(st, slot)) return;
  const auto& s = slot_at(self, slot);
  if (s.protocol != 3 && !may_hold_resp3(s.shape, s.queued))
    return fill_final(self, slot, std::move(text), close_after);
  if (text.size() > limits::resp3_inline_bytes_max)
    return convert_elsewhere(self, slot, std::move(text), close_after);
  fill_final(self, slot, in_protocol(text, s.protocol, s.shape, s.queued), close_after);
}

void run_exec_locals(connection* self, std::uint64_t slot, const std::shared_ptr<exec_plan>& plan,
                     std::vector<std::string> data_replies) {
  auto& st = self->state;
  PREZ_ASSERT(data_replies.size() == plan->data.size());
  if (plan->local.empty()) return fill(self, slot, splice_exec_reply(data_replies, {}, {}));
  auto assembly = std::make_shared<exec_assembly>();
  assembly->slot = slot;
  assembly->data_replies = std::move(data_replies);
  assembly->local_replies.resize(plan->local.size());
  assembly->local_positions = plan->local_positions;
  assembly->missing = plan->local.size();
  // Every part is registered before any runs, so EXEC is answered only after the last one.
  std::vector<std::uint64_t> parts;
  for (std::size_t i = 0; i < plan->local.size(); ++i) {
    parts.push_back(st.next_part_slot++);
    st.exec_parts.emplace(parts.back(), exec_part{assembly, i, reply_slot{}});
  }
  for (std::size_t i = 0; i < plan->local.size(); ++i) {
    if (self->state.closing) return;
    run_queued_local(self, parts[i], plan->local[i]);
  }
}

namespace {

void dispatch(connection* self, deferred_command&& item);

bool is_publish(const std::vector<std::string>& argv) {
  return argv.size() == 3 && lower(argv[0]) == "publish";
}

/// EXEC's reply with each PUBLISH's count made this node's, as a PUBLISH alone answers (the log
/// keeps 0: receivers are known only per node), handed to `then`. False (and `then` never
/// called) when the transaction holds no PUBLISH whose reply is a count: nothing to ask.
bool count_exec_publishes(connection* self, const std::shared_ptr<exec_plan>& plan,
                          const std::string& reply, std::function<void(std::string)> then) {
  auto elements = array_elements(reply);
  if (!elements || elements->size() != plan->data.size() || !self->state.settings.pubsub)
    return false;
  std::vector<std::size_t> publishes;
  for (std::size_t i = 0; i < plan->data.size(); ++i)
    if (is_publish(plan->data[i]) && (*elements)[i].starts_with(':')) publishes.push_back(i);
  if (publishes.empty()) return false;
  auto counted = std::make_shared<std::vector<std::string>>(std::move(*elements));
  auto missing = std::make_shared<std::size_t>(publishes.size());
  auto answered = [=] {
    if (--*missing > 0) return;
    std::string out = resp::array_header(counted->size());
    for (const auto& element : *counted)
      out += element;
    then(std::move(out));
  };
  for (const auto i : publishes)
    self->request(self->state.settings.pubsub, std::chrono::seconds(5), pubcount_atom::value,
                  plan->data[i][1])
        .then(
            [=](std::uint64_t count) {
              (*counted)[i] = resp::integer(static_cast<long long>(count));
              answered();
            },
            [=](const caf::error&) { answered(); });
  return true;
}

/// EXEC's reply from the log, for an EXEC put together here: a null array (a WATCHed key
/// changed) or an error goes to the client as it is and runs none of the connection commands;
/// otherwise they run now, after the transaction's data commands were applied (D30).
void finish_exec(connection* self, std::uint64_t slot, const std::shared_ptr<exec_plan>& plan,
                 const std::string& reply) {
  auto elements = array_elements(reply);
  // With no data command the log ran a stand-in (only the WATCH check counts).
  if (elements && plan->data.empty()) elements->clear();
  if (!elements || elements->size() != plan->data.size())
    fill(self, slot, reply);
  else
    run_exec_locals(self, slot, plan, std::move(*elements));
}

bool watches_done(const std::vector<std::shared_ptr<watch_result>>& watches) {
  return std::all_of(watches.begin(), watches.end(), [](const auto& w) { return w->done; });
}

/// May `item` be sent now? Nothing goes while a blocking command is in flight (connection_state::
/// blocked_seq). Everything keeps its order (the deferred queue); an EXEC waits for the
/// WATCH reads it depends on. A connection's commands take effect in order (docs/decisions.md
/// D14): a write waits for the connection's ReadIndex reads (which would otherwise see it), and a
/// WATCH for its writes (it reads versions outside the log). Any other read goes at once: through
/// the log behind the connection's writes when some are in flight, else by ReadIndex.
bool ready(const connection_state& st, const deferred_command& item) {
  if (st.blocked_seq != 0) return false;
  if (!watches_done(item.watches)) return false;
  if (item.write) return st.reads_in_flight == 0;
  if (item.watch_target) return st.log_in_flight.empty();
  return true;
}

/// Sends deferred commands, in order, while the one in front may go.
void release_deferred(connection* self) {
  auto& st = self->state;
  while (!st.deferred.empty() && ready(st, st.deferred.front())) {
    auto item = std::move(st.deferred.front());
    st.deferred.pop_front();
    dispatch(self, std::move(item));
  }
}

/// Reads a WATCH read's reply (an array with one integer version per watched key) into `target`,
/// with the one RESP reply reader (parse_resp2_reply, resp3.hpp). Anything else (an error such as
/// -CLUSTERDOWN, a wrong count, a non-integer) fails the WATCH, so the EXEC that depends on it
/// aborts.
void take_watch_reply(watch_result& target, const std::vector<std::string>& keys,
                      const std::string& reply) {
  target.done = true;
  auto parsed = parse_resp2_reply(reply);
  // keys is the WATCH command itself: keys[0] is "WATCH".
  if (!parsed || parsed->type != '*' || parsed->null ||
      parsed->elements.size() + 1 != keys.size()) {
    target.failed = true;
    return;
  }
  std::vector<std::pair<std::string, std::uint64_t>> versions;
  for (std::size_t i = 0; i < parsed->elements.size(); ++i) {
    const auto& element = parsed->elements[i];
    std::uint64_t version = 0;
    const auto* end = element.payload.data() + element.payload.size();
    auto [stop, ec] = std::from_chars(element.payload.data(), end, version);
    if (element.type != ':' || ec != std::errc{} || stop != end) {
      target.failed = true;
      return;
    }
    versions.emplace_back(keys[i + 1], version);
  }
  target.versions.insert(target.versions.end(), versions.begin(), versions.end());
}

void dispatch(connection* self, deferred_command&& item) {
  auto& st = self->state;
  if (!item.watches.empty()) {
    bool aborted = false;
    for (const auto& w : item.watches) {
      aborted = aborted || w->failed;
      item.command.watched.insert(item.command.watched.end(), w->versions.begin(),
                                  w->versions.end());
    }
    if (aborted) { // a WATCH that could not be confirmed: abort the transaction, as a changed key
      if (!item.exec) return fill(self, item.slot, "*-1\r\n");
      finish_exec(self, item.slot, item.exec, "*-1\r\n");
      release_exec_hold(self, item.slot);
      return;
    }
  }
  const bool through_log = item.write || (!item.watch_target && !st.log_in_flight.empty());
  const auto seq = item.command.seq;
  item.command.through_log = through_log;
  if (through_log) {
    item.command.after_seq = st.log_in_flight.empty() ? 0 : *st.log_in_flight.rbegin();
    st.log_in_flight.insert(seq);
  } else {
    ++st.reads_in_flight;
  }
  auto slot = item.slot;
  auto exec = std::move(item.exec);
  auto target = std::move(item.watch_target);
  auto keys = target ? item.command.argv : std::vector<std::string>{};
  // A blocking command (BLPOP, ...) waits as long as it blocks: its timeout, then the
  // PREZ.UNBLOCK this connection sends, then a write's time; without a timeout, forever.
  const auto block = item.write ? blocking_timeout_ms(item.command.argv) : std::nullopt;
  std::optional<std::chrono::milliseconds> wait = st.settings.reply_deadline;
  if (block) {
    st.blocked_seq = seq;
    if (*block == 0)
      wait.reset();
    else
      wait = st.settings.reply_deadline + std::chrono::milliseconds(*block);
    if (*block > 0)
      caf::delayed_anon_send(caf::actor_cast<caf::actor>(self), std::chrono::milliseconds(*block),
                             unblock_atom::value, seq);
  }
  // PUBLISH's count is this node's (the log keeps 0): the hub counts its receivers here.
  const bool publish = is_publish(item.command.argv);
  const std::string channel = publish ? item.command.argv[1] : std::string();
  auto done = [=](std::string reply) {
    bool exec_counting = false; // EXEC waits for its PUBLISH counts; its hold goes after them
    if (target) {
      take_watch_reply(*target, keys, reply);
      if (!target->failed) reply = resp::simple("OK");
    }
    if (publish && !reply.empty() && reply[0] == ':' && self->state.settings.pubsub) {
      self->request(self->state.settings.pubsub, std::chrono::seconds(5), pubcount_atom::value,
                    channel)
          .then(
              [=](std::uint64_t count) {
                fill(self, slot, resp::integer(static_cast<long long>(count)));
              },
              [=](const caf::error&) { fill(self, slot, resp::integer(0)); });
    } else if (exec) {
      exec_counting = count_exec_publishes(self, exec, reply, [=](std::string counted) {
        finish_exec(self, slot, exec, counted);
        release_exec_hold(self, slot);
      });
      if (!exec_counting) finish_exec(self, slot, exec, reply);
    } else {
      fill(self, slot, std::move(reply));
    }
    if (self->state.blocked_seq == seq) self->state.blocked_seq = 0;
    if (through_log)
      self->state.log_in_flight.erase(seq);
    else
      --self->state.reads_in_flight;
    release_deferred(self);
    if (exec && !exec_counting) release_exec_hold(self, slot);
  };
  to_session(self, std::move(item.command), wait, [=](std::optional<std::string> reply) {
    done(reply ? std::move(*reply)
               : resp::error("UNKNOWN no answer from the cluster in time; a write may or may "
                             "not have been applied"));
  });
}

} // namespace

void send_unblock(connection* self, bool error) {
  auto& st = self->state;
  if (st.blocked_seq == 0) return;
  std::vector<std::string> argv{std::string(unblock_command), std::to_string(st.blocked_seq)};
  if (error) argv.emplace_back("ERROR");
  client_command command{st.client_id, ++st.next_seq, 0, std::move(argv), {}, {}};
  command.through_log = true;
  // After the blocked command: if that one is still being retried, the state machine answers
  // this out_of_order and the session sends it again behind it, so it never overtakes it.
  command.after_seq = st.blocked_seq;
  // Its reply (:1 or :0) is not the client's: the blocked command's own reply answers it.
  to_session(self, std::move(command), st.settings.reply_deadline,
             [](const std::optional<std::string>&) {});
}

/// Queues `item` behind anything waiting, or sends it at once.
void submit(connection* self, deferred_command&& item) {
  auto& st = self->state;
  if (!st.deferred.empty() || !ready(st, item)) {
    st.deferred.push_back(std::move(item));
    return;
  }
  dispatch(self, std::move(item));
}

} // namespace gateway

using namespace gateway;

namespace {

void handle_command(connection* self, std::vector<std::string>&& argv) {
  auto& st = self->state;
  if (st.holding_exec) { // behind an EXEC whose connection commands have not run yet (D30)
    st.held.push_back(std::move(argv));
    return;
  }
  auto slot = st.first_slot + st.slots.size();
  auto& pending = st.slots.emplace_back();
  pending.protocol = st.protocol;
  pending.shape = resp3_shape_of(argv);
  auto name = lower(argv[0]);
  // CLIENT REPLY OFF/SKIP silence what follows (CLIENT REPLY itself decides its own slot);
  // subscription confirmations are pushes in Redis and always go out.
  const bool client_reply = name == "client" && argv.size() > 1 && lower(argv[1]) == "reply";
  if (!client_reply && st.replies != connection_state::reply_mode::on &&
      !(name == "subscribe" || name == "psubscribe" || name == "unsubscribe" ||
        name == "punsubscribe")) {
    pending.silent = true;
    if (st.replies == connection_state::reply_mode::skip)
      st.replies = connection_state::reply_mode::on;
  }
  if (name == "exec")
    for (const auto& queued : st.queued)
      pending.queued.push_back(resp3_shape_of(queued));
  if (name == "quit") {
    // As Redis 7: answered at once, also inside MULTI and before AUTH; the connection closes
    // after its earlier replies and this one, and nothing sent after QUIT runs.
    st.quit_received = true;
    return fill(self, slot, resp::simple("OK"), true);
  }
  // Inside MULTI, AUTH and HELLO are queued like every connection command (Redis queues all
  // but its no-multi commands; D30); only MULTI, EXEC, DISCARD, WATCH and RESET act at once.
  if ((!st.in_multi || !st.authenticated) && handle_auth(self, slot, name, argv)) return;
  if (!st.in_multi && handle_pubsub(self, slot, name, argv)) return;
  if (handle_transaction(self, slot, name, argv)) return;
  if ((!st.in_multi || name == "reset") && handle_local(self, slot, argv)) return;
  std::string error;
  auto kind = classify(argv, error);
  std::size_t command_bytes = 0;
  for (const auto& arg : argv)
    command_bytes += arg.size();
  if (error.empty() && command_bytes > limits::command_bytes_max)
    error = resp::error("ERR command too large: its arguments exceed " +
                        std::to_string(limits::command_bytes_max) + " bytes");
  if (st.in_multi) {
    // Queued as Redis queues (queueable_in_transaction); a refused one dooms the EXEC.
    std::string refusal;
    if (!queueable_in_transaction(argv, refusal))
      error = refusal;
    else if (command_bytes <= limits::command_bytes_max)
      error.clear();
    if (!error.empty()) {
      st.multi_refused = true;
      return fill(self, slot, error);
    }
    st.queued.push_back(std::move(argv));
    return fill(self, slot, resp::simple("QUEUED"));
  }
  if (kind == command_kind::unknown || kind == command_kind::local || !error.empty()) {
    fill(self, slot, error.empty() ? resp::error("ERR unknown command '" + name + "'") : error);
    return;
  }
  bool write = kind == command_kind::write;
  client_command command{st.client_id, ++st.next_seq, 0, std::move(argv), {}, {}};
  submit(self, {slot, std::move(command), write, {}, nullptr, nullptr});
}

} // namespace

void gateway::release_exec_hold(connection* self, std::uint64_t slot) {
  auto& st = self->state;
  if (st.holding_exec != slot) return;
  st.holding_exec.reset();
  while (!st.holding_exec && !st.held.empty() && !st.closing && !st.quit_received) {
    auto argv = std::move(st.held.front());
    st.held.pop_front();
    handle_command(self, std::move(argv));
  }
  if (st.quit_received || st.closing) st.held.clear(); // what follows QUIT is never run
  if (!st.holding_exec && st.held_protocol_error && !st.closing && !st.quit_received) {
    auto error = std::move(*st.held_protocol_error);
    st.held_protocol_error.reset();
    auto error_slot = st.first_slot + st.slots.size();
    st.slots.emplace_back();
    fill(self, error_slot, std::move(error), true);
    return;
  }
  if (st.reading_halted && !st.closing && !st.quit_received &&
      st.slots.size() < limits::pipelined_commands_max / 2 &&
      st.held.size() < limits::pipelined_commands_max / 2) {
    st.reading_halted = false;
    self->trigger(st.handle);
  }
}

namespace {

caf::behavior connection_actor(connection* self, caf::io::connection_handle handle,
                               gateway_settings settings, std::uint64_t client_id,
                               std::uint64_t connection_number, caf::actor acceptor) {
  auto& st = self->state;
  st.connection_number = connection_number;
  st.acceptor = std::move(acceptor);
  st.settings = std::move(settings);
  st.handle = handle;
  st.client_id = client_id;
  st.authenticated = st.settings.requirepass.empty();
  st.parser.set_authenticated(st.authenticated);
  self->configure_read(handle, caf::io::receive_policy::at_most(limits::read_chunk_bytes));
  if (refused_by_protected_mode(st.settings.protected_mode, !st.settings.requirepass.empty(),
                                self->remote_addr(handle))) {
    // Redis's protected mode: no password set and not on loopback: explain, then hang up.
    auto slot = st.first_slot + st.slots.size();
    st.slots.emplace_back();
    fill(self, slot,
         resp::error("DENIED prez is running in protected mode because protected mode is enabled "
                     "and no password is set. Connect from the loopback interface, set "
                     "requirepass in prez.conf, or set protected-mode no."),
         true);
  }
  return {
      [=](const caf::io::new_data_msg& msg) {
        auto& st = self->state;
        if (st.closing || st.quit_received || st.held_protocol_error) return;
        flush_guard one_flush(self);
        std::vector<std::vector<std::string>> commands;
        bool ok = st.parser.feed(msg.buf.data(), msg.buf.size(), commands);
        for (auto& argv : commands) {
          if (argv.empty()) continue;
          handle_command(self, std::move(argv));
          if (st.quit_received) return; // what follows QUIT is never run
        }
        if (!ok) {
          spdlog::debug("client {}: {}", st.client_id, st.parser.error());
          auto error = resp::error("ERR " + st.parser.error());
          if (st.holding_exec) { // answered after the commands held before it
            st.held_protocol_error = std::move(error);
            return;
          }
          auto slot = st.first_slot + st.slots.size();
          st.slots.emplace_back();
          fill(self, slot, std::move(error), true);
          return;
        }
        if (!st.reading_halted && (st.slots.size() >= limits::pipelined_commands_max ||
                                   st.held.size() >= limits::pipelined_commands_max)) {
          st.reading_halted = true;
          self->halt(st.handle);
        }
      },
      // The session manager's answers to this connection's commands.
      [=](reply_atom, std::vector<connection_reply>& replies) {
        flush_guard one_flush(self);
        for (auto& reply : replies)
          take_answer(self, reply.seq, std::move(reply.text));
      },
      [=](flush_atom) { send_outbox(self); },
      [=](tick_atom) { sweep_deadlines(self); },
      [=](message_atom, const std::string& pattern, const std::string& channel,
          const std::string& payload) {
        push_out(self, pubsub::message(pattern, channel, payload, self->state.protocol));
      },
      [=](unblock_atom, std::uint64_t seq) {
        if (self->state.blocked_seq == seq) send_unblock(self);
      },
      // CLIENT UNBLOCK from another connection (through the acceptor).
      [=](unblock_atom, bool error) {
        if (self->state.blocked_seq == 0) return false;
        send_unblock(self, error);
        return true;
      },
      [=](const caf::io::connection_closed_msg&) {
        // A client blocked when it left must not be served an element nobody reads. What it sent
        // before it left still runs, as in Redis.
        send_unblock(self);
        send_outbox(self);
        self->quit();
      },
  };
}

struct acceptor_state {
  gateway_settings settings;
  std::uint64_t connections = 0; ///< accepted since start
  /// Open now. Invariant: connected <= settings.maxclients as of the last accept (a lower
  /// maxclients set by CONFIG SET closes no one, as in Redis).
  std::uint64_t connected = 0;
  std::uint64_t refused = 0; ///< connections refused over maxclients
  /// The open connections by number (CLIENT ID), for CLIENT UNBLOCK, and back.
  std::map<std::uint64_t, caf::actor> by_number;
  std::map<caf::actor_addr, std::uint64_t> numbers;
  static inline const char* name = "resp_gateway";
};

using acceptor = caf::io::stateful_broker<acceptor_state>;

/// Cluster-unique client ids: a mix of this start's random incarnation and a counter.
std::uint64_t make_client_id(std::uint64_t incarnation, std::uint64_t counter) {
  std::uint64_t z = incarnation + counter * 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// Over maxclients: Redis's refusal, then hang up (CAF's close writes the buffer out before the
/// FIN). The connection is never forked, so it is not counted as connected.
void refuse_connection(acceptor* self, caf::io::connection_handle handle) {
  auto& st = self->state;
  if (++st.refused % 1000 == 1)
    spdlog::warn("client refused: {} clients connected, maxclients is {} ({} refused so far)",
                 st.connected, st.settings.maxclients, st.refused);
  static constexpr char refusal[] = "-ERR max number of clients reached\r\n";
  self->write(handle, sizeof refusal - 1, refusal);
  self->flush(handle);
  self->close(handle);
}

caf::behavior acceptor_actor(acceptor* self, caf::io::doorman_ptr doorman,
                             gateway_settings settings) {
  self->state.settings = std::move(settings);
  self->add_doorman(std::move(doorman));
  self->set_down_handler([=](caf::down_msg& down) {
    auto& st = self->state;
    --st.connected;
    if (const auto it = st.numbers.find(down.source); it != st.numbers.end()) {
      st.by_number.erase(it->second);
      st.numbers.erase(it);
    }
  });
  return {
      [=](const caf::io::new_connection_msg& msg) {
        auto& st = self->state;
        refresh_door_settings(st.settings); // CONFIG SET may have changed them
        if (st.connected >= st.settings.maxclients) {
          refuse_connection(self, msg.handle);
          return;
        }
        auto id = make_client_id(st.settings.incarnation, ++st.connections);
        auto worker = self->fork(connection_actor, msg.handle, st.settings, id, st.connections,
                                 caf::actor_cast<caf::actor>(self));
        self->monitor(worker);
        ++st.connected;
        st.by_number.emplace(st.connections, worker);
        st.numbers.emplace(worker.address(), st.connections);
      },
      // CLIENT UNBLOCK: asks connection `number` to end its blocked command; true when it had one.
      [=](unblock_atom, std::uint64_t number, bool error) -> caf::result<bool> {
        const auto it = self->state.by_number.find(number);
        if (it == self->state.by_number.end()) return false;
        auto promise = self->make_response_promise<bool>();
        self->request(it->second, std::chrono::seconds(5), unblock_atom::value, error)
            .then([=](bool unblocked) mutable { promise.deliver(unblocked); },
                  [=](const caf::error&) mutable { promise.deliver(false); });
        return promise;
      },
      [=](status_atom) {
        return gateway_status{self->state.connected, self->state.connections};
      },
      // A connection refused over maxclients, closed by us or by the client.
      [=](const caf::io::connection_closed_msg&) {},
  };
}

} // namespace

caf::expected<caf::actor> spawn_resp_gateway(caf::actor_system& system,
                                             const gateway_settings& settings) {
  auto& mm = system.middleman();
  auto doorman = mm.backend().new_tcp_doorman(settings.port, settings.bind.c_str(), true);
  if (!doorman) return doorman.error();
  return mm.spawn_broker(acceptor_actor, std::move(*doorman), settings);
}

} // namespace prez
