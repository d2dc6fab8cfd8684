#pragma once
// The pub/sub hub of one node (docs/architecture.md §3.7): holds the node's subscriptions
// (pubsub::registry) and hands each message the state machine applied to its subscribers.
// Messages:
//   (subscribe_atom, id, pattern?, names, connection)  -> bool: registered (the connection
//                                                         writes its confirmations after it)
//   (unsubscribe_atom, id, pattern?, names)            -> bool; the connection says which
//   (publish_atom, [channel, payload, ...])            from the state machine, in commit order
//   (pubcount_atom, channel)                           -> std::uint64_t: deliveries a message
//                                                         on `channel` makes now (PUBLISH)
//   (pubsub_atom, argv)                                -> std::string: PUBSUB's RESP2 reply
// It monitors each subscribed connection and forgets it when it ends. To a connection it sends
//   (message_atom, pattern, channel, payload)          pattern empty for a channel subscription

#include <string>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

namespace prez {

caf::actor spawn_pubsub_hub(caf::actor_system& system, const std::string& node_name);

} // namespace prez
