#pragma once
// splitmix64's mixing step, the one source of pseudo-randomness and hash finishing in pure code:
// the Raft logic's seeded PRNG, the key hash, SPOP/SRANDMEMBER/RANDOMKEY draws (docs/expiry.md,
// Randomness). Deterministic: the same input always gives the same output on every replica.

#include <cstdint>

namespace prez {

/// splitmix64's increment (2^64 / golden ratio).
inline constexpr std::uint64_t mix64_increment = 0x9e3779b97f4a7c15ULL;

/// splitmix64 (Steele, Lea, Flood 2014): the output for state `x`, i.e. the finaliser of
/// `x + mix64_increment`. A stream is mix64(s), mix64(s + increment), ...
constexpr std::uint64_t mix64(std::uint64_t x) {
  x += mix64_increment;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

} // namespace prez
