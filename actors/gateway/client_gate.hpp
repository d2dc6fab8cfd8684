#pragma once
// The checks at the client door: password comparison and Redis's protected mode. Pure.

#include <string>

namespace prez {

/// Compares without an early exit, so the time taken does not tell how much of a guess was right.
bool equal_constant_time(const std::string& a, const std::string& b);

/// Protected mode (as Redis): with it on and no password set, only loopback clients are served.
bool refused_by_protected_mode(bool protected_mode, bool has_password,
                               const std::string& client_address);

} // namespace prez
