// kv_state: the entry points the state machine actor calls. Each applied entry first advances the
// cluster clock and runs bounded active expiry, then runs its command (or its transaction).

#include "actors/state_machine/kv_state.hpp"

#include "actors/state_machine/kv_commands.hpp"
#include "config/limits.hpp"

namespace prez {

std::string kv_state::apply(const std::vector<std::string>& argv, std::uint64_t time_ms) {
  const std::uint64_t now = keys_.advance_clock(time_ms);
  keys_.expire_due(now, limits::kv_expire_per_apply_max);
  return run(argv, now);
}

void kv_state::advance_clock(std::uint64_t time_ms) {
  keys_.expire_due(keys_.advance_clock(time_ms), limits::kv_expire_per_apply_max);
}

std::string kv_state::apply_transaction(const std::vector<std::vector<std::string>>& commands,
                                        std::uint64_t time_ms,
                                        const std::vector<watched_key>& watched) {
  const std::uint64_t now = keys_.advance_clock(time_ms);
  keys_.expire_due(now, limits::kv_expire_per_apply_max);
  for (const auto& [key, version] : watched) {
    // A watched key whose deadline has passed but that is not deleted yet counts as deleted.
    keys_.maybe_expire(key, now);
    if (keys_.version(key) != version) return kv::null_array();
  }
  std::string reply = kv::array_header(commands.size());
  for (const auto& argv : commands)
    reply += run(argv, now);
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

} // namespace prez
