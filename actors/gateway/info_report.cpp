#include "actors/gateway/info_report.hpp"

#include <cctype>
#include <cinttypes>
#include <cstdio>
#include <iterator>
#include <string_view>

namespace prez {

namespace {

struct section_writer {
  std::string out;
  void header(const char* name) {
    if (!out.empty()) out += "\r\n";
    out += "# ";
    out += name;
    out += "\r\n";
  }
  void line(std::string_view key, const std::string& value) {
    out += key;
    out += ':';
    out += value;
    out += "\r\n";
  }
  void line(std::string_view key, std::uint64_t value) { line(key, std::to_string(value)); }
};

std::string hex(std::uint64_t value) {
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016" PRIx64, value);
  return buffer;
}

void server(section_writer& w, const info_snapshot& i) {
  w.header("Server");
  w.line("redis_version", "7.0.0");
  w.line("prez_version", "0.1.0");
  w.line("redis_mode", "standalone");
  w.line("arch_bits", "64");
  w.line("process_id", i.process_id);
  w.line("run_id", hex(i.run_id));
  w.line("tcp_port", i.tcp_port);
  w.line("uptime_in_seconds", i.uptime_s);
  w.line("node_name", i.node_name);
}

void clients(section_writer& w, const info_snapshot& i) {
  w.header("Clients");
  w.line("connected_clients", i.connected_clients);
  w.line("blocked_clients", i.blocked_clients);
}

void memory(section_writer& w, const info_snapshot& i) {
  w.header("Memory");
  w.line("used_memory", i.used_memory);
  w.line("used_memory_rss", i.rss_bytes);
  w.line("number_of_cached_scripts", i.cached_scripts);
}

void stats(section_writer& w, const info_snapshot& i) {
  w.header("Stats");
  w.line("total_connections_received", i.total_connections);
  // prez has no MIGRATE, so it never caches a connection to another server.
  w.line("migrate_cached_sockets", "0");
}

/// Redis's replication section in Raft's terms: the leader is the master, followers its replicas.
/// Redis's persistence section: prez's snapshots stand for RDB saves (there is no AOF: the Raft
/// log is the journal).
void persistence(section_writer& w, const info_snapshot& i) {
  w.header("Persistence");
  w.line("loading", "0");
  w.line("rdb_bgsave_in_progress", i.snapshot_running ? "1" : "0");
  w.line("rdb_last_save_time", std::to_string(i.snapshot_time_s));
  w.line("rdb_last_bgsave_status", i.snapshot_status);
  w.line("rdb_last_bgsave_time_sec", std::to_string(i.snapshot_took_ms / 1000));
  w.line("aof_enabled", "0");
  w.line("snapshot_index", i.snapshot_index);
  w.line("snapshot_term", i.snapshot_term);
  w.line("snapshot_bytes", i.snapshot_bytes);
  w.line("snapshot_last_ms", i.snapshot_took_ms);
  w.line("snapshots_taken", i.snapshots_taken);
  w.line("snapshots_installed", i.snapshots_installed);
  w.line("log_first_index", i.log_first_index);
  w.line("log_entries", i.log_entries);
  w.line("log_bytes", i.log_bytes);
}

void replication(section_writer& w, const info_snapshot& i) {
  w.header("Replication");
  bool leader = i.role == "leader";
  w.line("role", leader ? "master" : "slave");
  if (leader) {
    w.line("connected_slaves", i.voters > 0 ? i.voters - 1 : 0);
  } else {
    auto colon = i.leader_address.rfind(':');
    w.line("master_host", colon == std::string::npos ? "" : i.leader_address.substr(0, colon));
    w.line("master_port", colon == std::string::npos ? "" : i.leader_address.substr(colon + 1));
    w.line("master_link_status", i.leader.empty() ? "down" : "up");
  }
  // Redis's byte offset of the replication stream; prez's stream is the log, counted in entries.
  w.line("master_repl_offset", i.last_applied);
}

void keyspace(section_writer& w, const info_snapshot& i) {
  w.header("Keyspace");
  if (i.keys > 0)
    w.line("db0", "keys=" + std::to_string(i.keys) + ",expires=" + std::to_string(i.expiring) +
                      ",avg_ttl=0");
}

std::string seconds(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6f", value);
  return buffer;
}

void cpu(section_writer& w, const info_snapshot& i) {
  w.header("CPU");
  w.line("used_cpu_sys", seconds(i.cpu_sys_s));
  w.line("used_cpu_user", seconds(i.cpu_user_s));
  w.line("used_cpu_sys_children", seconds(i.cpu_sys_children_s));
  w.line("used_cpu_user_children", seconds(i.cpu_user_children_s));
}

/// Redis's per-command lines, for the commands this node applied from the log (writes and reads
/// that went through it; reads served by ReadIndex and commands a connection answers itself are
/// not counted). prez does not time commands: usec is 0, and it counts no rejected or failed
/// calls here.
void commandstats(section_writer& w, const info_snapshot& i) {
  w.header("Commandstats");
  for (const auto& [name, calls] : i.commands_applied)
    w.line("cmdstat_" + name, "calls=" + std::to_string(calls) +
                                  ",usec=0,usec_per_call=0.00,rejected_calls=0,failed_calls=0");
}

/// prez does not count error replies by kind yet: the section is there, empty.
void errorstats(section_writer& w, const info_snapshot&) {
  w.header("Errorstats");
}

/// prez serves one key space per process, not Redis Cluster's slots (yet).
void cluster(section_writer& w, const info_snapshot&) {
  w.header("Cluster");
  w.line("cluster_enabled", "0");
}

void raft(section_writer& w, const info_snapshot& i) {
  w.header("Raft");
  w.line("node", i.node_name);
  w.line("role", i.role);
  w.line("term", i.term);
  w.line("leader", i.leader);
  w.line("leader_addr", i.leader_address);
  w.line("commit_index", i.commit_index);
  w.line("last_applied", i.last_applied);
  w.line("last_log_index", i.last_log_index);
  w.line("persisted_index", i.persisted_index);
  w.line("snapshot_index", i.snapshot_index);
  w.line("log_first_index", i.log_first_index);
  w.line("log_bytes", i.log_bytes);
  w.line("voters", i.voters);
  w.line("learners", i.learners);
  w.line("membership", i.membership);
  w.line("role_epoch", i.role_epoch);
  w.line("peer_frames_refused", i.peer_frames_refused);
  for (const auto& link : i.peer_links)
    w.line("link_" + link.peer, "connected=" + std::to_string(link.connected ? 1 : 0) +
                                    ",frames_sent=" + std::to_string(link.frames_sent) +
                                    ",frames_dropped=" + std::to_string(link.frames_dropped) +
                                    ",window_drops=" + std::to_string(link.window_drops) +
                                    ",bytes_in_flight=" + std::to_string(link.bytes_in_flight));
}

/// The sections in Redis's order; `in_default`: part of INFO with no argument.
struct section_entry {
  std::string_view name;
  bool in_default;
  void (*write)(section_writer&, const info_snapshot&);
};

constexpr section_entry section_table[] = {
    {"server", true, server},
    {"clients", true, clients},
    {"memory", true, memory},
    {"persistence", true, persistence},
    {"stats", true, stats},
    {"replication", true, replication},
    {"cpu", true, cpu},
    {"commandstats", false, commandstats},
    {"errorstats", true, errorstats},
    {"cluster", true, cluster},
    {"keyspace", true, keyspace},
    {"raft", true, raft},
};

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

} // namespace

std::string format_info(const info_snapshot& info, const std::vector<std::string>& sections) {
  constexpr auto count = std::size(section_table);
  bool wanted[count] = {};
  auto add_default = [&] {
    for (std::size_t i = 0; i < count; ++i)
      wanted[i] = wanted[i] || section_table[i].in_default;
  };
  if (sections.empty()) add_default();
  for (const auto& asked : sections) {
    const auto name = lower(asked);
    if (name == "default") {
      add_default();
    } else if (name == "all" || name == "everything") {
      for (auto& w : wanted)
        w = true;
    } else {
      for (std::size_t i = 0; i < count; ++i)
        wanted[i] = wanted[i] || section_table[i].name == name;
    }
  }
  section_writer w;
  for (std::size_t i = 0; i < count; ++i)
    if (wanted[i]) section_table[i].write(w, info);
  return w.out;
}

std::string format_info(const info_snapshot& info, const std::string& section) {
  return section.empty() ? format_info(info, std::vector<std::string>{})
                         : format_info(info, std::vector<std::string>{section});
}

} // namespace prez
