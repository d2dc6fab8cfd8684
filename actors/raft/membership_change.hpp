#pragma once
// RAFT.NODE ADD / REMOVE: the configuration a request asks for, checked against the one in
// effect. Pure: no clock, no I/O, no CAF.

#include <string>
#include <variant>
#include <vector>

#include "messages/membership.hpp"

namespace prez::raft {

/// Whether argv is RAFT.NODE ADD or RAFT.NODE REMOVE (any case): a configuration change that
/// the leader's Raft role turns into a configuration entry.
bool is_membership_change(const std::vector<std::string>& argv);

/// The configuration `argv` asks for, starting from `current`, or the error reply text (without
/// the leading '-'):
///   RAFT.NODE ADD <name> <host:port> [LEARNER]   a learner, promoted to voter once caught up
///                                                 unless LEARNER (a permanent learner)
///   RAFT.NODE REMOVE <name>
/// Names are never reused: adding a removed name is refused. The last voter cannot be removed.
std::variant<membership, std::string> plan_membership_change(const membership& current,
                                                             const std::vector<std::string>& argv);

} // namespace prez::raft
