// kv_state: the entry points the state machine actor calls. Each applied entry first advances the
// cluster clock, runs bounded active expiry and times out blocked clients past their deadline,
// then runs its command (or its transaction), then serves the blocked clients its keys can serve.

#include "actors/state_machine/kv_state.hpp"

#include <algorithm>
#include <deque>
#include <set>

#include "actors/state_machine/kv_commands.hpp"
#include "config/limits.hpp"

namespace prez {

std::uint64_t kv_state::begin_entry(std::uint64_t time_ms) {
  const std::uint64_t now = keys_.advance_clock(time_ms);
  keys_.expire_due(now, limits::kv_expire_per_apply_max);
  auto& blocked = keys_.blocked();
  if (!blocked.empty())
    for (const auto& id : blocked.due(now)) {
      blocked.remove(id);
      served_.push_back({id.first, id.second, kv::blocking_timed_out_reply()});
    }
  return now;
}

std::string kv_state::apply(const std::vector<std::string>& argv, std::uint64_t time_ms) {
  const std::uint64_t now = begin_entry(time_ms);
  std::string reply = run(argv, now);
  serve_blocked(argv, now);
  return reply;
}

std::optional<std::string> kv_state::apply_client(std::uint64_t client_id, std::uint64_t seq,
                                                  const std::vector<std::string>& argv,
                                                  std::uint64_t time_ms) {
  const std::uint64_t now = begin_entry(time_ms);
  auto& blocked = keys_.blocked();
  if ((argv.size() == 2 || argv.size() == 3) && argv[0] == unblock_command) {
    const auto target = kv::parse_integer(argv[1]);
    if (!target || *target < 0 || !blocked.remove({client_id, static_cast<std::uint64_t>(*target)}))
      return kv::integer(0);
    // With ERROR (CLIENT UNBLOCK ... ERROR) the command fails as Redis's does; else it times out.
    served_.push_back({client_id, static_cast<std::uint64_t>(*target),
                       argv.size() == 3
                           ? kv::error_reply("UNBLOCKED client unblocked via CLIENT UNBLOCK")
                           : kv::blocking_timed_out_reply()});
    return kv::integer(1);
  }
  if (blocked.contains({client_id, seq})) return std::nullopt; // a retry of a blocked command
  std::string error;
  if (auto call = kv::parse_blocking(argv, error)) {
    auto reply = kv::try_blocking(keys_, argv, *call, now);
    if (!reply) {
      // XREAD's "$" means the last ID now, when it blocks: kept resolved in the blocked argv.
      block(client_id, seq, call->stream ? kv::xread_resolve(keys_, argv, *call->xread, now) : argv,
            call->timeout_ms, std::move(call->keys), now);
      return std::nullopt;
    }
    serve_blocked(argv, now); // BLMOVE's destination may be waited on
    return reply;
  }
  std::string reply = run(argv, now);
  serve_blocked(argv, now);
  return reply;
}

void kv_state::block(std::uint64_t client_id, std::uint64_t seq,
                     const std::vector<std::string>& argv, std::uint64_t timeout_ms,
                     std::vector<std::string> keys, std::uint64_t time_ms) {
  kv::blocked_client client;
  client.client_id = client_id;
  client.seq = seq;
  client.argv = argv;
  client.keys = std::move(keys);
  client.deadline_ms =
      timeout_ms == 0 ? 0 : time_ms + timeout_ms + limits::blocked_deadline_grace_ms;
  keys_.blocked().add(std::move(client));
}

void kv_state::serve_blocked(const std::vector<std::string>& argv, std::uint64_t time_ms) {
  auto& blocked = keys_.blocked();
  if (blocked.empty()) return;
  // Keys that may have data for a waiting client, in the order they became ready (Redis's
  // ready list); each is served until its waiters or its data run out.
  std::deque<std::string> ready;
  std::set<std::string, std::less<>> queued;
  auto note = [&](const std::vector<std::string>& args) {
    for (std::size_t i = 1; i < args.size(); ++i)
      if (blocked.waited(args[i]) && queued.insert(args[i]).second) ready.push_back(args[i]);
  };
  note(argv);
  // FLUSHALL and FLUSHDB name no key but delete them all: every waited key may have changed.
  if (!argv.empty() && (kv::is_word(argv[0], "flushall") || kv::is_word(argv[0], "flushdb")))
    for (auto& key : blocked.waited_keys())
      if (queued.insert(key).second) ready.push_back(std::move(key));
  while (!ready.empty()) {
    const std::string key = std::move(ready.front());
    ready.pop_front();
    queued.erase(key);
    for (const auto& id : blocked.waiting_on(key)) {
      if (keys_.peek_live(key, time_ms) == nullptr) break; // emptied by the clients before
      std::string error;
      const auto call = kv::parse_blocking(blocked.at(id).argv, error);
      std::optional<std::string> reply;
      if (call) {
        // A key of another type (or a stream with nothing after the client's ID) does not
        // serve this client: it stays blocked, as in Redis 7.0.
        reply = kv::serve_blocked(keys_, blocked.at(id).argv, *call, key, time_ms);
        if (!reply) continue;
      } else {
        reply = error.empty() ? kv::blocking_timed_out_reply() : error;
      }
      auto client = *blocked.remove(id);
      served_.push_back({client.client_id, client.seq, std::move(*reply)});
      note(client.argv); // BLMOVE/BRPOPLPUSH pushed to their destination
    }
    // An XREADGROUP waits on a stream that had its group when it blocked: once the key is
    // deleted or holds another type, its readers are answered, as Redis 7.0.15 answers them.
    const kv::entry* e = keys_.peek_live(key, time_ms);
    if (e != nullptr && std::holds_alternative<kv::stream_value>(e->data)) continue;
    for (const auto& id : blocked.waiting_on(key)) {
      if (!kv::is_word(blocked.at(id).argv[0], "xreadgroup")) continue;
      auto client = *blocked.remove(id);
      served_.push_back({client.client_id, client.seq,
                         kv::error_reply("UNBLOCKED the stream key no longer exists")});
    }
  }
}

std::optional<std::uint64_t> kv_state::next_deadline_ms() const {
  const auto key = keys_.next_expiry_ms();
  const auto client = keys_.blocked().next_deadline_ms();
  if (key && client) return std::min(*key, *client);
  return key ? key : client;
}

void kv_state::advance_clock(std::uint64_t time_ms) {
  begin_entry(time_ms);
}

std::string kv_state::apply_transaction(const std::vector<std::vector<std::string>>& commands,
                                        std::uint64_t time_ms,
                                        const std::vector<watched_key>& watched) {
  const std::uint64_t now = begin_entry(time_ms);
  for (const auto& [key, version] : watched) {
    // A watched key whose deadline has passed but that is not deleted yet counts as deleted.
    keys_.maybe_expire(key, now);
    if (keys_.version(key) != version) return kv::null_array();
  }
  std::string reply = kv::array_header(commands.size());
  for (const auto& argv : commands)
    reply += run(argv, now);
  // Blocked clients are served after the whole transaction, as Redis serves them after EXEC.
  for (const auto& argv : commands)
    serve_blocked(argv, now);
  return reply;
}

std::string kv_state::run(const std::vector<std::string>& argv, std::uint64_t time_ms) {
  std::string error;
  const kv::command_spec* command = kv::validate(argv, error);
  if (command == nullptr) return error;
  switch (command->kind) {
    case command_kind::write:
      return command->write(keys_, argv, time_ms);
    case command_kind::read:
      return command->read(keys_, argv, time_ms);
    case command_kind::local:
      return run_local(argv);
    case command_kind::unknown:
      break;
  }
  return kv::error_reply("ERR internal error: command without a handler");
}

std::string kv_state::read(const std::vector<std::string>& argv, std::uint64_t now_ms) const {
  // The leader's clock is >= every stamped time; the max keeps a lagging clock from showing a
  // key that apply already treats as expired.
  const std::uint64_t now = std::max(now_ms, keys_.clock_ms());
  std::string error;
  const kv::command_spec* command = kv::validate(argv, error);
  if (command == nullptr) return error;
  if (kv::kind_of(*command, argv) == command_kind::read && command->read != nullptr)
    return command->read(keys_, argv, now);
  if (command->kind == command_kind::local) return run_local(argv);
  return kv::error_reply("ERR internal error: '" + std::string(command->name) +
                         "' is not a read command");
}

std::string kv_state::read(const std::vector<std::string>& argv) const {
  return read(argv, keys_.clock_ms());
}

std::string kv_state::read_random(const std::vector<std::string>& argv, std::uint64_t now_ms,
                                  std::uint64_t entropy) const {
  keys_.read_entropy_ = entropy;
  std::string reply = read(argv, now_ms);
  keys_.read_entropy_ = 0;
  return reply;
}

} // namespace prez
