// HMAC-SHA256 from OpenSSL's libcrypto (docs/architecture.md §8: cryptography from the vetted
// library). Pure: no CAF, no I/O; libcrypto's one-shot functions keep no state between calls.

#include "messages/frame_auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "config/assert.hpp"

namespace prez {

namespace {

const unsigned char* bytes_of(std::string_view data) {
  // libcrypto wants a valid pointer even for no bytes.
  static const unsigned char nothing = 0;
  return data.empty() ? &nothing : reinterpret_cast<const unsigned char*>(data.data());
}

} // namespace

std::array<std::uint8_t, 32> sha256(std::string_view data) {
  static_assert(SHA256_DIGEST_LENGTH == 32);
  std::array<std::uint8_t, 32> digest{};
  SHA256(bytes_of(data), data.size(), digest.data());
  return digest;
}

std::array<std::uint8_t, 32> hmac_sha256(std::string_view key, std::string_view data) {
  std::array<std::uint8_t, 32> mac{};
  unsigned int mac_bytes = 0;
  const auto* result = HMAC(EVP_sha256(), bytes_of(key), static_cast<int>(key.size()),
                            bytes_of(data), data.size(), mac.data(), &mac_bytes);
  // Fails only if libcrypto itself is broken (SHA-256 unavailable, out of memory).
  PREZ_ASSERT(result != nullptr);
  PREZ_ASSERT(mac_bytes == mac.size());
  return mac;
}

void seal_frame(std::vector<char>& frame, const std::string& secret) {
  auto mac = hmac_sha256(secret, {frame.data(), frame.size()});
  frame.insert(frame.end(), mac.begin(), mac.end());
}

std::optional<std::size_t> open_frame(const std::vector<char>& sealed, const std::string& secret) {
  if (sealed.size() < frame_mac_bytes) return std::nullopt;
  auto size = sealed.size() - frame_mac_bytes;
  auto expected = hmac_sha256(secret, {sealed.data(), size});
  // Constant time: how many leading bytes match must not show in how long the check takes.
  if (CRYPTO_memcmp(expected.data(), sealed.data() + size, frame_mac_bytes) != 0)
    return std::nullopt;
  return size;
}

} // namespace prez
