#include "actors/gateway/client_gate.hpp"

namespace prez {

bool equal_constant_time(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

bool refused_by_protected_mode(bool protected_mode, bool has_password,
                               const std::string& client_address) {
  if (!protected_mode || has_password) return false;
  bool loopback = client_address.rfind("127.", 0) == 0 || client_address == "::1" ||
                  client_address.rfind("::ffff:127.", 0) == 0;
  return !loopback;
}

} // namespace prez
