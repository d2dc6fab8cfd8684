#pragma once
// Small builders for the step-by-step Raft rule tests: contexts, logs and messages, and finders
// over effects. Header-only; each *_test.cpp in this folder includes it.

#include <algorithm>
#include <string>
#include <vector>

#include "actors/raft/raft_types.hpp"

namespace prez::raft::test {

/// A log whose entry i has term terms[i - 1] and data "e<i>".
inline raft_log log_of(const std::vector<std::uint64_t>& terms) {
  std::vector<log_entry> entries;
  for (std::size_t i = 0; i < terms.size(); ++i) {
    log_entry e;
    e.index = i + 1;
    e.term = terms[i];
    e.type = static_cast<std::uint8_t>(entry_type::command);
    e.data = "e" + std::to_string(i + 1);
    entries.push_back(e);
  }
  return raft_log(entries);
}

inline log_entry entry(std::uint64_t index, std::uint64_t term, std::string data = {}) {
  log_entry e;
  e.index = index;
  e.term = term;
  e.type = static_cast<std::uint8_t>(entry_type::command);
  e.data = data.empty() ? "e" + std::to_string(index) : std::move(data);
  return e;
}

/// Context of `self` in a cluster of n1..n<size>, at `term`, with a durable log of `terms`.
inline raft_context context_for(const std::string& self, std::size_t size, std::uint64_t term,
                                const std::vector<std::uint64_t>& terms = {},
                                std::uint64_t seed = 7) {
  raft_context c;
  c.config.self = self;
  for (std::size_t i = 1; i <= size; ++i)
    c.config.voters.push_back("n" + std::to_string(i));
  c.config.election_timeout_ticks = 10;
  c.config.heartbeat_ticks = 1;
  c.hard.term = term;
  c.log = log_of(terms);
  c.persisted_index = c.log.last_index();
  c.random.state = seed;
  return c;
}

inline raft_message append(const std::string& from, const std::string& to, std::uint64_t term,
                           std::uint64_t prev_index, std::uint64_t prev_term,
                           std::vector<log_entry> entries = {}, std::uint64_t commit = 0,
                           std::uint64_t seq = 0) {
  append_entries_request r;
  r.term = term;
  r.prev_log_index = prev_index;
  r.prev_log_term = prev_term;
  r.entries = std::move(entries);
  r.leader_commit = commit;
  r.heartbeat_seq = seq;
  return raft_message{from, to, r};
}

inline raft_message vote(const std::string& from, const std::string& to, std::uint64_t term,
                         std::uint64_t last_index, std::uint64_t last_term, bool pre_vote = false) {
  return raft_message{from, to, vote_request{term, last_index, last_term, pre_vote}};
}

inline raft_message vote_reply(const std::string& from, const std::string& to, std::uint64_t term,
                               bool granted, bool pre_vote = false) {
  return raft_message{from, to, vote_response{term, granted, pre_vote}};
}

inline raft_message append_reply(const std::string& from, const std::string& to, std::uint64_t term,
                                 bool success, std::uint64_t match, std::uint64_t seq = 0,
                                 std::uint64_t conflict_index = 0, std::uint64_t conflict_term = 0,
                                 std::uint64_t rejected_index = 0) {
  append_entries_response r;
  r.rejected_index = rejected_index;
  r.term = term;
  r.success = success;
  r.match_index = match;
  r.conflict_index = conflict_index;
  r.conflict_term = conflict_term;
  r.heartbeat_seq = seq;
  return raft_message{from, to, r};
}

/// Payloads of type T sent to `to` (any recipient when empty) in `messages`.
template <class T>
std::vector<T> sent(const std::vector<raft_message>& messages, const std::string& to = {}) {
  std::vector<T> result;
  for (const auto& m : messages)
    if (const auto* p = std::get_if<T>(&m.payload); p && (to.empty() || m.to == to))
      result.push_back(*p);
  return result;
}

} // namespace prez::raft::test
