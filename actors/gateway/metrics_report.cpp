// /metrics and /health text (metrics_report.hpp). Pure.
#include "actors/gateway/metrics_report.hpp"

#include <array>

namespace prez {

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

namespace {

/// Writes metric families: each family's HELP and TYPE once, before its series.
class exposition {
public:
  /// Starts a family. `type` is "gauge" or "counter"; `help` is plain text without newlines.
  void family(std::string_view name, std::string_view type, std::string_view help) {
    text_ += "# HELP ";
    text_ += name;
    text_ += ' ';
    text_ += help;
    text_ += "\n# TYPE ";
    text_ += name;
    text_ += ' ';
    text_ += type;
    text_ += '\n';
  }

  /// One series of the family just started; `label` empty for none.
  void series(std::string_view name, std::uint64_t value, std::string_view label = {},
              std::string_view label_value = {}) {
    text_ += name;
    if (!label.empty()) {
      text_ += '{';
      text_ += label;
      text_ += "=\"";
      text_ += escape_label_value(label_value);
      text_ += "\"}";
    }
    text_ += ' ';
    text_ += std::to_string(value);
    text_ += '\n';
  }

  /// A family with a single unlabelled series.
  void single(std::string_view name, std::string_view type, std::string_view help,
              std::uint64_t value) {
    family(name, type, help);
    series(name, value);
  }

  std::string take() { return std::move(text_); }

private:
  std::string text_;
};

void raft_metrics(exposition& out, const info_snapshot& i) {
  out.single("prez_raft_term", "gauge", "Current Raft term of this node.", i.term);
  out.family("prez_raft_role", "gauge", "1 for this node's current Raft role, 0 for the others.");
  for (std::string_view role : std::array<std::string_view, 3>{"leader", "follower", "candidate"})
    out.series("prez_raft_role", i.role == role ? 1 : 0, "role", role);
  out.single("prez_raft_commit_index", "gauge", "Highest log index this node knows committed.",
             i.commit_index);
  out.single("prez_raft_applied_index", "gauge", "Highest log index applied to the state machine.",
             i.last_applied);
  out.single("prez_raft_last_log_index", "gauge", "Index of the last entry in this node's log.",
             i.last_log_index);
  out.single("prez_raft_persisted_index", "gauge", "Highest log index durable on this node's disk.",
             i.persisted_index);
  out.single("prez_raft_voters", "gauge", "Voting members in the configuration in effect.",
             i.voters);
  out.single("prez_raft_learners", "gauge", "Non-voting members in the configuration in effect.",
             i.learners);
  out.single("prez_leader_known", "gauge", "1 when this node knows a leader, else 0.",
             i.leader.empty() ? 0 : 1);
  out.single("prez_role_changes_total", "counter",
             "Role actors started by this process (the node's role epoch).", i.role_epoch);
}

void snapshot_metrics(exposition& out, const info_snapshot& i) {
  out.single("prez_snapshot_index", "gauge", "Last log index covered by the newest snapshot.",
             i.snapshot_index);
  out.single("prez_snapshot_bytes", "gauge", "Size of the newest snapshot in bytes.",
             i.snapshot_bytes);
  out.single("prez_snapshots_taken_total", "counter", "Snapshots taken by this process.",
             i.snapshots_taken);
  out.single("prez_snapshots_installed_total", "counter",
             "Snapshots installed from a leader by this process.", i.snapshots_installed);
}

void peer_metrics(exposition& out, const info_snapshot& i) {
  out.family("prez_peer_link_connected", "gauge", "1 while the link to the peer is connected.");
  for (const auto& link : i.peer_links)
    out.series("prez_peer_link_connected", link.connected ? 1 : 0, "peer", link.peer);
  out.family("prez_peer_link_frames_sent_total", "counter", "Frames sent to the peer.");
  for (const auto& link : i.peer_links)
    out.series("prez_peer_link_frames_sent_total", link.frames_sent, "peer", link.peer);
  out.family("prez_peer_link_frames_dropped_total", "counter",
             "Frames to the peer dropped: disconnected, cut, or the send window full.");
  for (const auto& link : i.peer_links)
    out.series("prez_peer_link_frames_dropped_total", link.frames_dropped, "peer", link.peer);
  out.single("prez_peer_frames_refused_total", "counter",
             "Peer frames refused: undecodable, unauthenticated or from a non-member.",
             i.peer_frames_refused);
}

} // namespace

std::string format_metrics(const info_snapshot& info) {
  exposition out;
  raft_metrics(out, info);
  snapshot_metrics(out, info);
  peer_metrics(out, info);
  out.single("prez_keys", "gauge", "Keys in the state machine.", info.keys);
  out.family("prez_commands_applied_total", "counter",
             "Commands applied from the log by this process, by name (writes, and reads that "
             "waited behind a write; a transaction counts once as exec).");
  for (const auto& [name, count] : info.commands_applied)
    out.series("prez_commands_applied_total", count, "command", name);
  out.single("prez_clients_connected", "gauge", "Client (RESP) connections open now.",
             info.connected_clients);
  out.single("prez_clients_accepted_total", "counter",
             "Client (RESP) connections accepted by this process.", info.total_connections);
  return out.take();
}

namespace {

/// A JSON string literal of `text`: `"` and `\` escaped, control characters as \u00XX.
std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 0xf];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

} // namespace

health_verdict judge_health(const info_snapshot& info, std::uint64_t apply_lag_max) {
  health_verdict out;
  const std::uint64_t lag =
      info.commit_index > info.last_applied ? info.commit_index - info.last_applied : 0;
  if (info.membership == "removed")
    out.reason = "removed from the cluster";
  else if (info.leader.empty())
    out.reason = "no leader known";
  else if (!info.leader_heard_recently)
    out.reason = "no contact with the leader within an election timeout";
  else if (lag > apply_lag_max)
    out.reason = "applied index " + std::to_string(info.last_applied) + " trails commit index " +
                 std::to_string(info.commit_index) + " by more than " +
                 std::to_string(apply_lag_max);
  out.healthy = out.reason.empty();
  out.body = std::string("{\"health\":\"") + (out.healthy ? "true" : "false") + "\"";
  if (!out.healthy) out.body += ",\"reason\":" + json_string(out.reason);
  out.body += ",\"role\":" + json_string(info.role) + ",\"leader\":" + json_string(info.leader) +
              ",\"term\":" + std::to_string(info.term) +
              ",\"commit_index\":" + std::to_string(info.commit_index) +
              ",\"applied_index\":" + std::to_string(info.last_applied) + "}\n";
  return out;
}

} // namespace prez
