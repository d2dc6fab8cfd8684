#include <catch2/catch.hpp>

#include "actors/gateway/client_gate.hpp"

using namespace prez;

TEST_CASE("passwords compare equal only when identical") {
  CHECK(equal_constant_time("secret", "secret"));
  CHECK_FALSE(equal_constant_time("secret", "secreT"));
  CHECK_FALSE(equal_constant_time("secret", "secret2"));
  CHECK_FALSE(equal_constant_time("secret2", "secret"));
  CHECK_FALSE(equal_constant_time("", "x"));
  CHECK(equal_constant_time("", ""));
}

TEST_CASE("protected mode serves only loopback clients when no password is set") {
  CHECK_FALSE(refused_by_protected_mode(true, false, "127.0.0.1"));
  CHECK_FALSE(refused_by_protected_mode(true, false, "::1"));
  CHECK_FALSE(refused_by_protected_mode(true, false, "::ffff:127.0.0.1"));
  CHECK(refused_by_protected_mode(true, false, "10.1.2.3"));
  CHECK(refused_by_protected_mode(true, false, "192.168.0.7"));
  CHECK_FALSE(refused_by_protected_mode(true, true, "10.1.2.3"));   // a password opens the door
  CHECK_FALSE(refused_by_protected_mode(false, false, "10.1.2.3")); // protected-mode no
}
