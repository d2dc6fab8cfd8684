#include "messages/frame_auth.hpp"

#include <cstring>

namespace prez {

namespace {

constexpr std::uint32_t round_constants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr std::uint32_t rotr(std::uint32_t x, int n) {
  return (x >> n) | (x << (32 - n));
}

/// Incremental SHA-256 (FIPS 180-4 §6.2).
class sha256_state {
public:
  void update(std::string_view data) {
    for (unsigned char c : data) {
      block_[block_size_++] = c;
      if (block_size_ == 64) {
        compress();
        block_size_ = 0;
      }
    }
    length_bits_ += static_cast<std::uint64_t>(data.size()) * 8;
  }

  std::array<std::uint8_t, 32> finish() {
    std::uint64_t length = length_bits_;
    block_[block_size_++] = 0x80;
    if (block_size_ > 56) {
      while (block_size_ < 64)
        block_[block_size_++] = 0;
      compress();
      block_size_ = 0;
    }
    while (block_size_ < 56)
      block_[block_size_++] = 0;
    for (int i = 7; i >= 0; --i)
      block_[block_size_++] = static_cast<std::uint8_t>(length >> (i * 8));
    compress();
    std::array<std::uint8_t, 32> out{};
    for (int i = 0; i < 8; ++i)
      for (int b = 0; b < 4; ++b)
        out[i * 4 + b] = static_cast<std::uint8_t>(h_[i] >> (24 - b * 8));
    return out;
  }

private:
  void compress() {
    std::uint32_t w[64];
    for (int i = 0; i < 16; ++i)
      w[i] = (std::uint32_t{block_[i * 4]} << 24) | (std::uint32_t{block_[i * 4 + 1]} << 16) |
             (std::uint32_t{block_[i * 4 + 2]} << 8) | std::uint32_t{block_[i * 4 + 3]};
    for (int i = 16; i < 64; ++i) {
      auto s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      auto s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    auto a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
    for (int i = 0; i < 64; ++i) {
      auto s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      auto choose = (e & f) ^ (~e & g);
      auto t1 = h + s1 + choose + round_constants[i] + w[i];
      auto s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      auto majority = (a & b) ^ (a & c) ^ (b & c);
      auto t2 = s0 + majority;
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    h_[0] += a;
    h_[1] += b;
    h_[2] += c;
    h_[3] += d;
    h_[4] += e;
    h_[5] += f;
    h_[6] += g;
    h_[7] += h;
  }

  std::uint32_t h_[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                         0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::uint8_t block_[64] = {};
  std::size_t block_size_ = 0;
  std::uint64_t length_bits_ = 0;
};

std::string_view as_view(const std::array<std::uint8_t, 32>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

} // namespace

std::array<std::uint8_t, 32> sha256(std::string_view data) {
  sha256_state state;
  state.update(data);
  return state.finish();
}

std::array<std::uint8_t, 32> hmac_sha256(std::string_view key, std::string_view data) {
  // RFC 2104: keys longer than the block are hashed first; then inner and outer pads.
  std::array<std::uint8_t, 32> hashed_key{};
  if (key.size() > 64) {
    hashed_key = sha256(key);
    key = as_view(hashed_key);
  }
  char inner_pad[64], outer_pad[64];
  for (std::size_t i = 0; i < 64; ++i) {
    auto k = static_cast<unsigned char>(i < key.size() ? key[i] : 0);
    inner_pad[i] = static_cast<char>(k ^ 0x36);
    outer_pad[i] = static_cast<char>(k ^ 0x5c);
  }
  sha256_state inner;
  inner.update({inner_pad, 64});
  inner.update(data);
  auto inner_hash = inner.finish();
  sha256_state outer;
  outer.update({outer_pad, 64});
  outer.update(as_view(inner_hash));
  return outer.finish();
}

void seal_frame(std::vector<char>& frame, const std::string& secret) {
  auto mac = hmac_sha256(secret, {frame.data(), frame.size()});
  frame.insert(frame.end(), mac.begin(), mac.end());
}

std::optional<std::size_t> open_frame(const std::vector<char>& sealed, const std::string& secret) {
  if (sealed.size() < frame_mac_bytes) return std::nullopt;
  auto size = sealed.size() - frame_mac_bytes;
  auto expected = hmac_sha256(secret, {sealed.data(), size});
  unsigned char diff = 0;
  for (std::size_t i = 0; i < frame_mac_bytes; ++i)
    diff |= static_cast<unsigned char>(expected[i] ^ static_cast<std::uint8_t>(sealed[size + i]));
  if (diff != 0) return std::nullopt;
  return size;
}

} // namespace prez
