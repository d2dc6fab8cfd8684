#include "actors/gateway/ctl_backup.hpp"

#include <charconv>

namespace prez {

namespace {

std::optional<std::uint64_t> integer_of(const resp2_reply& reply) {
  if (reply.type != ':' || reply.payload.empty()) return std::nullopt;
  std::uint64_t value = 0;
  const auto* end = reply.payload.data() + reply.payload.size();
  auto [at, ec] = std::from_chars(reply.payload.data(), end, value);
  if (ec != std::errc{} || at != end) return std::nullopt;
  return value;
}

} // namespace

std::string parse_snapshot_save(const std::vector<std::string>& words, ctl_args& out) {
  if (words.size() < 3 || words.size() > 4) return "snapshot save takes <file> [host:port]";
  if (words[2].empty()) return "snapshot save: the file name is empty";
  out.action = ctl_action::snapshot_save;
  out.save_path = words[2];
  if (words.size() == 4) {
    auto endpoint = parse_endpoint(words[3]);
    if (!endpoint) return "snapshot save: bad address '" + words[3] + "' (want host:port)";
    out.target = *endpoint;
  }
  return {};
}

std::optional<fetched_snapshot> parse_fetch_reply(const resp2_reply& reply) {
  if (reply.type != '*' || reply.null || reply.elements.size() != 3) return std::nullopt;
  auto index = integer_of(reply.elements[0]);
  auto term = integer_of(reply.elements[1]);
  auto bytes = integer_of(reply.elements[2]);
  if (!index || !term || !bytes || *index == 0) return std::nullopt;
  return fetched_snapshot{*index, *term, *bytes};
}

bool is_retryable_fetch_error(std::string_view error) {
  for (std::string_view prefix : {"CLUSTERDOWN", "TRYAGAIN", "UNKNOWN"})
    if (error.substr(0, prefix.size()) == prefix) return true;
  return false;
}

std::optional<ctl_endpoint> moved_to(std::string_view error) {
  constexpr std::string_view prefix = "MOVED ";
  if (error.substr(0, prefix.size()) != prefix) return std::nullopt;
  const auto space = error.find(' ', prefix.size());
  if (space == std::string_view::npos) return std::nullopt;
  return parse_endpoint(error.substr(space + 1));
}

bool is_snapshot_gone(std::string_view error) {
  return error.find("is not being served") != std::string_view::npos;
}

std::string format_saved(const std::string& path, const fetched_snapshot& snapshot,
                         std::uint64_t keys, const std::string& from) {
  return "saved " + path + ": index " + std::to_string(snapshot.index) + ", term " +
         std::to_string(snapshot.term) + ", " + std::to_string(keys) + " keys, " +
         std::to_string(snapshot.bytes) + " bytes (from " + from + ")\n";
}

} // namespace prez
