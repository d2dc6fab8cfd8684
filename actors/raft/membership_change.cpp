// RAFT.NODE ADD / REMOVE planning. Pure: no CAF.
#include "actors/raft/membership_change.hpp"

#include <algorithm>
#include <cctype>

#include "config/limits.hpp"
#include "config/node_config.hpp"

namespace prez::raft {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string arity_error() {
  return "ERR wrong number of arguments for 'raft.node' command";
}

} // namespace

bool is_membership_change(const std::vector<std::string>& argv) {
  if (argv.size() < 2 || lower(argv[0]) != "raft.node") return false;
  const auto sub = lower(argv[1]);
  return sub == "add" || sub == "remove";
}

std::variant<membership, std::string> plan_membership_change(const membership& current,
                                                             const std::vector<std::string>& argv) {
  if (!is_membership_change(argv)) return std::string("ERR not a RAFT.NODE ADD or REMOVE");
  const auto sub = lower(argv[1]);
  membership next = current;
  if (sub == "add") {
    if (argv.size() != 4 && argv.size() != 5) return arity_error();
    const auto& name = argv[2];
    const bool learner = argv.size() == 5;
    if (learner && lower(argv[4]) != "learner")
      return "ERR syntax error: expected LEARNER, got '" + argv[4] + "'";
    if (!is_valid_node_name(name))
      return "ERR invalid node name '" + name + "': use 1.." +
             std::to_string(limits::node_name_bytes_max) + " characters from [A-Za-z0-9._-]";
    if (current.is_member(name)) return "ERR node '" + name + "' is already a member";
    if (current.was_removed(name))
      return "ERR node name '" + name + "' belonged to a removed node; names are never reused";
    auto parsed = parse_address(argv[3]);
    if (auto* reason = std::get_if<std::string>(&parsed)) return "ERR " + *reason;
    for (const auto& m : current.members)
      if (m.address == argv[3])
        return "ERR address '" + argv[3] + "' belongs to node '" + m.name + "'";
    if (current.members.size() >= limits::cluster_nodes_max)
      return "ERR the cluster already has " + std::to_string(limits::cluster_nodes_max) +
             " nodes, the most prez supports";
    member_info added{name, argv[3], false, !learner};
    next.members.insert(std::lower_bound(next.members.begin(), next.members.end(), added,
                                         [](const member_info& a, const member_info& b) {
                                           return a.name < b.name;
                                         }),
                        std::move(added));
    return next;
  }
  if (argv.size() != 3) return arity_error();
  const auto& name = argv[2];
  const auto* member = current.find(name);
  if (member == nullptr) return "ERR no node '" + name + "' in the cluster";
  if (member->voter && current.voter_count() == 1)
    return "ERR cannot remove '" + name + "', the last voter";
  if (current.removed.size() >= limits::removed_names_max)
    return "ERR this cluster has removed " + std::to_string(limits::removed_names_max) +
           " nodes, the most it remembers";
  std::erase_if(next.members, [&](const member_info& m) { return m.name == name; });
  next.removed.insert(std::lower_bound(next.removed.begin(), next.removed.end(), name), name);
  return next;
}

} // namespace prez::raft
