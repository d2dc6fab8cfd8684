// Sealing and opening spawn requests (messages/spawn_request.hpp).
#include "messages/spawn_request.hpp"

#include "config/node_config.hpp"
#include "messages/frame_auth.hpp"

namespace prez {

std::vector<char> seal_spawn_request(const spawn_request& request, const std::string& secret) {
  msgpack::sbuffer buffer;
  msgpack::pack(buffer, request);
  std::vector<char> sealed(buffer.data(), buffer.data() + buffer.size());
  seal_frame(sealed, secret);
  return sealed;
}

std::variant<spawn_request, std::string> open_spawn_request(const std::vector<char>& sealed,
                                                            const std::string& secret,
                                                            std::uint64_t now_ms) {
  if (secret.empty()) return std::string("this agent has no cluster secret");
  if (sealed.size() > spawn_request_bytes_max)
    return "the request is " + std::to_string(sealed.size()) + " bytes, more than " +
           std::to_string(spawn_request_bytes_max);
  auto length = open_frame(sealed, secret);
  if (!length) return std::string("the request is not sealed with this agent's cluster secret");
  spawn_request request;
  try {
    auto handle = msgpack::unpack(sealed.data(), *length);
    request = handle.get().as<spawn_request>();
  } catch (const std::exception&) {
    return std::string("the request is not a spawn request (undecodable)");
  }
  if (request.version != spawn_request_version)
    return "spawn request version " + std::to_string(request.version) + ", this agent speaks " +
           std::to_string(spawn_request_version) + " (upgrade prez-ctl and the agents together)";
  if (!is_valid_node_name(request.node)) return "'" + request.node + "' is not a valid node name";
  const auto age =
      now_ms > request.issued_ms ? now_ms - request.issued_ms : request.issued_ms - now_ms;
  if (age > spawn_request_age_max_ms)
    return "the request was issued " + std::to_string(age / 1000) +
           " s away from this agent's clock (at most " +
           std::to_string(spawn_request_age_max_ms / 1000) + " s): replayed, or clocks differ";
  return request;
}

} // namespace prez
