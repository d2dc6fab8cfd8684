#pragma once
// Pub/sub on one node (docs/architecture.md §3.7): who is subscribed to which channels and
// patterns, who receives a published message, PUBSUB's answers, and the frames a subscriber
// gets, in RESP2 and RESP3. Pure: the hub actor (pubsub_hub_actor.cpp) and the connections are
// the glue. Messages themselves travel through the log (PUBLISH is a write), so every node
// delivers every channel's messages in the same order, the commit order.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace prez::pubsub {

/// A subscribed connection, by a number unique on this node.
using subscriber = std::uint64_t;

/// One delivery of a published message: to whom, and through which pattern (empty for a
/// channel subscription).
struct delivery {
  subscriber to = 0;
  std::string pattern;
  friend bool operator==(const delivery&, const delivery&) = default;
};

/// The subscriptions of one node.
class registry {
public:
  /// Each returns whether the subscription changed (a repeated SUBSCRIBE changes nothing).
  bool subscribe(subscriber who, const std::string& channel);
  bool unsubscribe(subscriber who, const std::string& channel);
  bool psubscribe(subscriber who, const std::string& pattern);
  bool punsubscribe(subscriber who, const std::string& pattern);
  /// Drops every subscription of `who` (its connection closed).
  void remove(subscriber who);

  /// Who receives a message on `channel`: channel subscribers by subscriber number, then
  /// pattern subscribers by pattern then number (a connection subscribed both ways gets both).
  std::vector<delivery> receivers(std::string_view channel) const;
  /// How many deliveries a message on `channel` makes (PUBLISH's answer).
  std::size_t count(std::string_view channel) const { return receivers(channel).size(); }

  /// PUBSUB CHANNELS [pattern], NUMSUB [channel...], NUMPAT, HELP, as Redis 7.0 answers them
  /// (RESP2). `argv` is the whole command. Unknown subcommands and wrong arities get Redis's
  /// errors. SHARDCHANNELS and SHARDNUMSUB answer as for a server without shard channels.
  std::string command(const std::vector<std::string>& argv) const;

  std::size_t channel_count() const { return channels_.size(); }
  std::size_t pattern_count() const { return patterns_.size(); }

private:
  std::map<std::string, std::set<subscriber>, std::less<>> channels_;
  std::map<std::string, std::set<subscriber>, std::less<>> patterns_;
};

/// The reply to one (P)SUBSCRIBE or (P)UNSUBSCRIBE of one channel: [kind, channel, count] with
/// `count` the connection's subscriptions after it; a nullopt channel (UNSUBSCRIBE with nothing
/// to drop) is a null. RESP3 sends it as a push (`>`), as Redis 7 does.
std::string confirmation(std::string_view kind, const std::optional<std::string>& channel,
                         std::size_t count, int protocol);
/// A message for a channel subscriber ([message, channel, payload]) or a pattern subscriber
/// ([pmessage, pattern, channel, payload]: `pattern` not empty), as a push in RESP3.
std::string message(const std::string& pattern, const std::string& channel,
                    const std::string& payload, int protocol);
/// PING in RESP2 subscribed mode: [pong, argument or ""].
std::string subscribed_pong(const std::vector<std::string>& argv);
/// Whether a RESP2 connection with subscriptions may run `name` (lowercase): only (P)SUBSCRIBE,
/// (P)UNSUBSCRIBE, PING, QUIT and RESET, as in Redis.
bool allowed_while_subscribed(std::string_view name);
/// The error for any other command then.
std::string not_allowed_while_subscribed(std::string_view name);

} // namespace prez::pubsub
