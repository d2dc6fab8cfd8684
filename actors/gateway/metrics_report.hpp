#pragma once
// What the metrics port serves, built from the figures INFO shows (info_snapshot): the Prometheus
// text exposition format 0.0.4 for GET /metrics and the verdict of GET /health. Pure: no CAF, no
// clock.

#include <cstdint>
#include <string>
#include <string_view>

#include "actors/gateway/info_report.hpp"

namespace prez {

/// The Content-Type of format_metrics' text.
inline constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

/// A label value escaped for the exposition format: `\` as `\\`, `"` as `\"`, newline as `\n`.
std::string escape_label_value(std::string_view value);

/// The whole /metrics text: every metric preceded by its `# HELP` and `# TYPE`, one series per
/// label set, values as integers. Names and meanings are listed in README.md ("Metrics").
std::string format_metrics(const info_snapshot& info);

/// GET /health's answer.
struct health_verdict {
  bool healthy = false;
  std::string reason; ///< why not healthy; empty when healthy
  std::string body;   ///< JSON: {"health":"true"|"false", ...}
};

/// The /health rule (README.md "Metrics and health"): healthy only when the node
///   1. is not removed from the cluster,
///   2. knows a leader (itself or another node),
///   3. has heard from that leader within an election timeout (a leader: check-quorum holds it),
///   4. has applied up to at most `apply_lag_max` entries behind the commit index it knows.
health_verdict judge_health(const info_snapshot& info, std::uint64_t apply_lag_max);

} // namespace prez
