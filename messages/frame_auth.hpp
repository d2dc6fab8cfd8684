#pragma once
// Authenticated peer frames: with a cluster secret configured, every frame between nodes carries
// an HMAC-SHA256 (RFC 2104, FIPS 180-4, computed by OpenSSL's libcrypto) of its bytes, so a
// process that does not know the secret cannot make a node accept its votes, appends or forwarded
// commands. Pure: no CAF, no I/O.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace prez {

inline constexpr std::size_t frame_mac_bytes = 32;

/// SHA-256 of `data`.
std::array<std::uint8_t, 32> sha256(std::string_view data);

/// HMAC-SHA256 of `data` under `key`.
std::array<std::uint8_t, 32> hmac_sha256(std::string_view key, std::string_view data);

/// Appends the MAC of `frame` under `secret`. Precondition: !secret.empty().
void seal_frame(std::vector<char>& frame, const std::string& secret);

/// Checks and strips the MAC. Returns the size of the authentic frame, or nullopt when the bytes
/// are too short or the MAC does not match (compared in constant time).
std::optional<std::size_t> open_frame(const std::vector<char>& sealed, const std::string& secret);

} // namespace prez
