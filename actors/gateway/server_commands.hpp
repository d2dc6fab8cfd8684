#pragma once
// Replies to COMMAND and CONFIG GET, the introspection clients run at connect time (redis-cli's
// hints, redis-benchmark's CONFIG probe, cluster-aware clients' COMMAND INFO). Pure.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace prez {

/// COMMAND, COMMAND COUNT, COMMAND INFO [name...], COMMAND DOCS [name...], COMMAND LIST.
/// `argv` includes "COMMAND". Returns the RESP reply.
std::string command_reply(const std::vector<std::string>& argv);

/// CONFIG GET pattern... over `parameters` (name, value); glob patterns as Redis. Other CONFIG
/// subcommands get an error saying prez is configured by prez.conf.
std::string config_reply(const std::vector<std::string>& argv,
                         const std::vector<std::pair<std::string, std::string>>& parameters);

} // namespace prez
