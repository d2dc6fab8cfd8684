#pragma once
// Shared by the kv family tests: runs a script of commands through classify/apply/read the way
// the server routes them and checks each exact RESP reply.

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "actors/state_machine/client_sessions.hpp"
#include "actors/state_machine/kv_state.hpp"
#include "actors/state_machine/state_restore.hpp"

namespace prez::kv_script {

using argv_type = std::vector<std::string>;

/// The leader's clock for the whole script (entries are stamped with it too).
inline constexpr std::uint64_t now_ms = 1'000'000;

struct step {
  argv_type argv;
  std::string reply;
};

/// Runs each step the way the server routes it (classify, then apply or read) and checks the
/// exact reply bytes.
inline void run_script(kv_state& state, const std::vector<step>& steps) {
  for (const auto& s : steps) {
    std::string shown;
    for (const auto& arg : s.argv)
      shown += arg + " ";
    INFO(shown);
    std::string error;
    const command_kind kind = classify(s.argv, error);
    const std::string reply = kind == command_kind::unknown ? error
                              : kind == command_kind::read  ? state.read(s.argv, now_ms)
                                                            : state.apply(s.argv, now_ms);
    CHECK(reply == s.reply);
    REQUIRE(state.bytes() == state.keys().recount_bytes());
  }
}

/// The contents of a bulk string reply.
inline std::string bulk_body(const std::string& reply) {
  REQUIRE(reply.size() >= 4);
  REQUIRE(reply[0] == '$');
  const std::size_t line_end = reply.find("\r\n");
  REQUIRE(line_end != std::string::npos);
  const std::size_t size = std::stoul(reply.substr(1, line_end - 1));
  REQUIRE(reply.size() == line_end + 2 + size + 2);
  return reply.substr(line_end + 2, size);
}

/// A snapshot of `state` written `budget` bytes per call, restored.
inline std::variant<restored_state, std::string> round_trip(kv_state& state, std::size_t budget) {
  client_sessions sessions;
  state.begin_snapshot(sessions);
  std::string bytes;
  while (!state.snapshot_next(bytes, budget)) {
  }
  return restore_state(bytes);
}

} // namespace prez::kv_script
