#pragma once
// Replies to COMMAND and CONFIG, the introspection clients run at connect time (redis-cli's hints,
// redis-benchmark's CONFIG probe, cluster-aware clients' COMMAND INFO) and the parts of CONFIG
// that need no actor. Pure.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace prez {

/// COMMAND, COMMAND COUNT, COMMAND INFO [name...], COMMAND DOCS [name...], COMMAND LIST.
/// `argv` includes "COMMAND". Returns the RESP reply.
std::string command_reply(const std::vector<std::string>& argv);

class runtime_config;

/// Checks the shape of a CONFIG call as Redis 7.0 does: `CONFIG` alone, each subcommand's arity,
/// an unknown subcommand. Returns the error reply, or empty when `argv` (which includes "CONFIG")
/// is well formed; `sub` is then the lower-case subcommand (get, set, resetstat, rewrite, help).
std::string config_shape_error(const std::vector<std::string>& argv, std::string& sub);

/// CONFIG GET pattern...: a flat name/value array (a map in RESP3, resp3.cpp).
std::string config_get_reply(const runtime_config& config, const std::vector<std::string>& argv);

/// CONFIG HELP.
std::string config_help_reply();

} // namespace prez
