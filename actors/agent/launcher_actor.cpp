// Remote spawning from the launcher (actors/agent/launcher_actor.hpp).
#include "actors/agent/launcher_actor.hpp"

#include "caf/all.hpp"
#include "caf/io/all.hpp"

#include "actors/caf_messages.hpp"

namespace prez {

std::string spawn_on_agent(caf::actor_system& system, const std::string& host, std::uint16_t port,
                           const std::vector<char>& sealed, std::chrono::milliseconds timeout) {
  caf::scoped_actor self{system};
  caf::node_id agent;
  std::string reason;
  self->request(system.middleman().actor_handle(), timeout, caf::connect_atom::value, host, port)
      .receive([&](const caf::node_id& nid, caf::strong_actor_ptr&,
                   std::set<std::string>&) { agent = nid; },
               [&](const caf::error& error) {
                 reason = "cannot reach the agent: " + system.render(error);
               });
  if (!reason.empty()) return reason;
  if (!agent) return "cannot reach the agent: no node id in its answer";
  auto spawned = system.middleman().remote_spawn<caf::actor>(
      agent, "prez-node", caf::make_message(sealed), caf::duration{timeout});
  if (!spawned)
    return "the agent did not spawn the node (is it a prez agent of this version?): " +
           system.render(spawned.error());
  self->request(*spawned, timeout, start_atom::value)
      .receive([&](const std::string& answer) { reason = answer; },
               [&](const caf::error& error) {
                 reason = "no answer from the agent: " + system.render(error);
               });
  return reason;
}

} // namespace prez
