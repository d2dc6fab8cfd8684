// Safety invariants of Raft over a simulated cluster's history.
#include "tests/sim/invariants.hpp"

#include <algorithm>
#include <sstream>

namespace prez::sim {

void invariant_checker::fail(std::string message) {
  if (failure_.empty()) failure_ = std::move(message);
}

void invariant_checker::on_leader(std::uint64_t term, const node_name& node,
                                  const raft::raft_log& log) {
  auto [it, inserted] = leaders_.emplace(term, node);
  if (!inserted && it->second != node) {
    std::ostringstream out;
    out << "election safety: " << it->second << " and " << node << " both leaders of term " << term;
    fail(out.str());
    return;
  }
  for (std::uint64_t index = 1; index <= committed_.size(); ++index) {
    if (committed_term_[index - 1] >= term)
      continue; // committed in this term or later (a delayed election): not covered by §5.4
    const auto ours = log.term_at(index);
    const auto& e = committed_[index - 1];
    // Compacted away: covered by the leader's snapshot, whose own end is checked by term.
    if (index < log.first_index() && index != log.snapshot_index()) continue;
    const bool same =
        ours && *ours == e.term && (index == log.snapshot_index() || log.at(index).data == e.data);
    if (!same) {
      std::ostringstream out;
      out << "leader completeness: leader " << node << " of term " << term
          << " lacks committed entry " << index << " (term " << e.term << ")";
      fail(out.str());
      return;
    }
  }
}

void invariant_checker::on_append(const node_name& node, const log_entry& entry,
                                  std::uint64_t prev_term) {
  entry_fingerprint print{entry.data, entry.type, prev_term};
  auto [it, inserted] = entries_.emplace(std::make_pair(entry.index, entry.term), print);
  if (inserted) return;
  if (it->second.data != print.data || it->second.type != print.type ||
      it->second.prev_term != print.prev_term) {
    std::ostringstream out;
    out << "log matching: " << node << " holds a different entry at index " << entry.index
        << " term " << entry.term << " (or a different predecessor term " << prev_term << " vs "
        << it->second.prev_term << ")";
    fail(out.str());
  }
}

void invariant_checker::on_apply(const node_name& node, std::uint64_t term_now,
                                 const log_entry& entry) {
  auto& applied = applied_[node];
  if (entry.index != applied + 1) {
    std::ostringstream out;
    out << "state machine safety: " << node << " applied index " << entry.index << " after "
        << applied;
    fail(out.str());
    return;
  }
  applied = entry.index;
  if (entry.index <= committed_.size()) {
    const auto& known = committed_[entry.index - 1];
    if (known.term != entry.term || known.data != entry.data || known.type != entry.type) {
      std::ostringstream out;
      out << "state machine safety: " << node << " applied (" << entry.index << ", term "
          << entry.term << ") but (" << known.index << ", term " << known.term
          << ") was applied elsewhere";
      fail(out.str());
    }
    committed_term_[entry.index - 1] = std::min(committed_term_[entry.index - 1], term_now);
    return;
  }
  committed_.push_back(entry);
  committed_term_.push_back(term_now);
  if (entry.kind() == entry_type::config) on_config_committed(entry);
}

void invariant_checker::on_restore(const node_name& node, std::uint64_t index, std::uint64_t term) {
  auto& applied = applied_[node];
  std::ostringstream out;
  if (index <= applied) {
    out << "snapshot: " << node << " restored index " << index << " after applying " << applied;
  } else if (index > committed_.size()) {
    out << "snapshot: " << node << " restored index " << index << " but only " << committed_.size()
        << " entries are known committed";
  } else if (committed_[index - 1].term != term) {
    out << "snapshot: " << node << " restored (" << index << ", term " << term
        << ") but the committed entry there has term " << committed_[index - 1].term;
  } else {
    applied = index;
    return;
  }
  fail(out.str());
}

void invariant_checker::on_commit_index(const node_name& node, std::uint64_t commit_index,
                                        bool restarted) {
  auto& floor = commit_floor_[node];
  if (restarted) {
    floor = commit_index;
    applied_[node] = 0;
    return;
  }
  if (commit_index < floor) {
    std::ostringstream out;
    out << "commit index of " << node << " moved back from " << floor << " to " << commit_index;
    fail(out.str());
    return;
  }
  floor = commit_index;
}

void invariant_checker::check_logs(
    const std::vector<std::pair<node_name, const raft::raft_log*>>& logs) {
  for (std::size_t a = 0; a < logs.size(); ++a) {
    for (std::size_t b = a + 1; b < logs.size(); ++b) {
      const auto& x = *logs[a].second;
      const auto& y = *logs[b].second;
      const auto common = std::min(x.last_index(), y.last_index());
      // Only entries both still hold can be compared (compacted ones are in snapshots).
      const auto held_from = std::max(x.first_index(), y.first_index());
      // Find the highest index where the terms agree; everything up to it must be identical.
      std::uint64_t agree = 0;
      for (auto i = common; i >= held_from; --i) {
        if (x.term_at(i) == y.term_at(i)) {
          agree = i;
          break;
        }
      }
      for (std::uint64_t i = held_from; i <= agree; ++i) {
        if (!(x.at(i) == y.at(i))) {
          std::ostringstream out;
          out << "log matching: " << logs[a].first << " and " << logs[b].first
              << " agree on the term at " << agree << " but differ at " << i;
          fail(out.str());
          return;
        }
      }
    }
  }
}

void invariant_checker::on_read_ready(std::uint64_t read_id, std::uint64_t committed_at_start,
                                      std::uint64_t index) {
  if (index < committed_at_start) {
    std::ostringstream out;
    out << "linearizable read: read " << read_id << " confirmed at index " << index << " but "
        << committed_at_start << " entries were committed before it started";
    fail(out.str());
  }
}

namespace {

/// Voters of `a` that are not voters of `b`, and the other way round.
std::size_t voters_changed(const membership& a, const membership& b) {
  std::size_t changed = 0;
  for (const auto& name : a.voters())
    changed += b.is_voter(name) ? 0 : 1;
  for (const auto& name : b.voters())
    changed += a.is_voter(name) ? 0 : 1;
  return changed;
}

std::string names(const std::vector<node_name>& list) {
  std::string out;
  for (const auto& name : list)
    out += (out.empty() ? "" : ",") + name;
  return "{" + out + "}";
}

} // namespace

void invariant_checker::set_initial_config(membership config) {
  committed_configs_[0] = std::move(config);
}

void invariant_checker::on_config_committed(const log_entry& entry) {
  auto change = decode_config_change(entry.data);
  if (!change) {
    fail("membership: committed entry " + std::to_string(entry.index) +
         " holds no valid configuration");
    return;
  }
  if (!committed_configs_.empty()) {
    const auto& [previous_index, previous] = *committed_configs_.rbegin();
    if (voters_changed(previous, change->config) > 1) {
      std::ostringstream out;
      out << "membership: committed configuration at " << entry.index << " (voters "
          << names(change->config.voters()) << ") differs from the previous one at "
          << previous_index << " (voters " << names(previous.voters())
          << ") by more than one voter";
      fail(out.str());
    }
  }
  committed_configs_[entry.index] = std::move(change->config);
}

void invariant_checker::on_config_applied(const node_name& node, std::uint64_t index,
                                          const membership& config) {
  if (config.members.empty()) return; // a snapshot that carries none
  // The committed configuration in effect at `index`: the newest at or before it.
  auto it = committed_configs_.upper_bound(index);
  if (it == committed_configs_.begin()) return; // no initial configuration given
  --it;
  if (index > committed_.size() || !(it->second == config)) {
    std::ostringstream out;
    out << "membership: " << node << " holds configuration (voters " << names(config.voters())
        << ", " << config.members.size() << " members) as of index " << index
        << " but the committed one there is the entry at " << it->first << " (voters "
        << names(it->second.voters()) << ", " << it->second.members.size() << " members)";
    fail(out.str());
  }
}

void invariant_checker::on_campaign(const node_name& node, std::uint64_t term,
                                    const membership& config, bool leader,
                                    const membership* committed, std::uint64_t known_commit) {
  const char* what = leader ? "leader" : "candidate";
  if (!config.is_voter(node) && !(committed != nullptr && committed->is_voter(node))) {
    std::ostringstream out;
    out << "membership: " << node << " became " << what << " (term " << term
        << ") but is no voter of its configuration in effect (voters " << names(config.voters())
        << ")";
    fail(out.str());
    return;
  }
  if (!leader || committed_configs_.empty()) return;
  // Removed names are never reused and every configuration keeps the list: the newest
  // committed configuration names every removal committed so far.
  const auto& [index, newest] = *committed_configs_.rbegin();
  if (!newest.was_removed(node)) return;
  for (const auto& [at, c] : committed_configs_) {
    if (!c.was_removed(node)) continue;
    if (known_commit >= at) {
      std::ostringstream out;
      out << "membership: " << node << " became leader of term " << term
          << " knowing its removal was committed (configuration entry " << at
          << ", its commit index " << known_commit << ")";
      fail(out.str());
    }
    return;
  }
}

} // namespace prez::sim
