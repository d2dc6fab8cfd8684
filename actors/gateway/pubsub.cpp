#include "actors/gateway/pubsub.hpp"

#include "actors/gateway/resp_writer.hpp"
#include "actors/state_machine/kv_commands.hpp"

namespace prez::pubsub {

namespace {

bool add(std::map<std::string, std::set<subscriber>, std::less<>>& index, subscriber who,
         const std::string& name) {
  return index[name].insert(who).second;
}

bool drop(std::map<std::string, std::set<subscriber>, std::less<>>& index, subscriber who,
          const std::string& name) {
  const auto it = index.find(name);
  if (it == index.end() || it->second.erase(who) == 0) return false;
  if (it->second.empty()) index.erase(it);
  return true;
}

std::string header(int protocol, std::size_t items) {
  return (protocol == 3 ? ">" : "*") + std::to_string(items) + "\r\n";
}

} // namespace

bool registry::subscribe(subscriber who, const std::string& channel) {
  return add(channels_, who, channel);
}
bool registry::unsubscribe(subscriber who, const std::string& channel) {
  return drop(channels_, who, channel);
}
bool registry::psubscribe(subscriber who, const std::string& pattern) {
  return add(patterns_, who, pattern);
}
bool registry::punsubscribe(subscriber who, const std::string& pattern) {
  return drop(patterns_, who, pattern);
}

void registry::remove(subscriber who) {
  for (auto* index : {&channels_, &patterns_})
    for (auto it = index->begin(); it != index->end();) {
      it->second.erase(who);
      it = it->second.empty() ? index->erase(it) : std::next(it);
    }
}

std::vector<delivery> registry::receivers(std::string_view channel) const {
  std::vector<delivery> out;
  if (const auto it = channels_.find(channel); it != channels_.end())
    for (const subscriber who : it->second)
      out.push_back({who, {}});
  for (const auto& [pattern, who_set] : patterns_)
    if (kv::glob_match(pattern, channel))
      for (const subscriber who : who_set)
        out.push_back({who, pattern});
  return out;
}

std::string registry::command(const std::vector<std::string>& argv) const {
  const std::string sub = argv.size() > 1 ? kv::lowercase(argv[1]) : std::string();
  if (sub == "channels" || sub == "shardchannels") {
    if (argv.size() > 3)
      return resp::error("ERR unknown subcommand or wrong number of arguments for '" + argv[1] +
                         "'. Try PUBSUB HELP.");
    std::vector<std::string> names;
    if (sub == "channels")
      for (const auto& [name, who] : channels_)
        if (argv.size() == 2 || kv::glob_match(argv[2], name)) names.push_back(name);
    return resp::bulk_array(names);
  }
  if (sub == "numsub" || sub == "shardnumsub") {
    std::string out = resp::array_header((argv.size() - 2) * 2);
    for (std::size_t i = 2; i < argv.size(); ++i) {
      const auto it = sub == "numsub" ? channels_.find(argv[i]) : channels_.end();
      out += resp::bulk(argv[i]) +
             resp::integer(static_cast<long long>(it == channels_.end() ? 0 : it->second.size()));
    }
    return out;
  }
  if (sub == "numpat") {
    if (argv.size() != 2) return kv::arity_error("pubsub|numpat");
    return resp::integer(static_cast<long long>(patterns_.size()));
  }
  if (sub == "help") {
    const std::vector<std::string_view> lines = {
        "PUBSUB CHANNELS [pattern]: channels with subscribers on this node",
        "PUBSUB NUMSUB [channel ...]: subscribers of each channel on this node",
        "PUBSUB NUMPAT: patterns subscribed to on this node",
        "PUBSUB SHARDCHANNELS, SHARDNUMSUB: prez has no shard channels", "PUBSUB HELP: this text"};
    return resp::simple_array(lines);
  }
  return resp::error("ERR unknown subcommand '" + argv[1] + "'. Try PUBSUB HELP.");
}

std::string confirmation(std::string_view kind, const std::optional<std::string>& channel,
                         std::size_t count, int protocol) {
  std::string out = header(protocol, 3) + resp::bulk(kind);
  out += channel ? resp::bulk(*channel) : (protocol == 3 ? "_\r\n" : "$-1\r\n");
  return out + resp::integer(static_cast<long long>(count));
}

std::string message(const std::string& pattern, const std::string& channel,
                    const std::string& payload, int protocol) {
  if (pattern.empty())
    return header(protocol, 3) + resp::bulk("message") + resp::bulk(channel) + resp::bulk(payload);
  return header(protocol, 4) + resp::bulk("pmessage") + resp::bulk(pattern) + resp::bulk(channel) +
         resp::bulk(payload);
}

std::string subscribed_pong(const std::vector<std::string>& argv) {
  return resp::array_header(2) + resp::bulk("pong") + resp::bulk(argv.size() > 1 ? argv[1] : "");
}

bool allowed_while_subscribed(std::string_view name) {
  return name == "subscribe" || name == "psubscribe" || name == "unsubscribe" ||
         name == "punsubscribe" || name == "ping" || name == "quit" || name == "reset";
}

std::string not_allowed_while_subscribed(std::string_view name) {
  return resp::error("ERR Can't execute '" + std::string(name) +
                     "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed "
                     "in this context");
}

} // namespace prez::pubsub
