#include <catch2/catch.hpp>

#include <cstdio>

#include "messages/frame_auth.hpp"

using namespace prez;

namespace {
std::string hex(const std::array<std::uint8_t, 32>& bytes) {
  std::string out;
  char buffer[3];
  for (auto b : bytes) {
    std::snprintf(buffer, sizeof buffer, "%02x", b);
    out += buffer;
  }
  return out;
}
} // namespace

TEST_CASE("SHA-256 matches the FIPS 180-4 examples") {
  CHECK(hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex(sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(hex(sha256(std::string(1000000, 'a'))) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("HMAC-SHA256 matches RFC 4231") {
  CHECK(hex(hmac_sha256(std::string(20, '\x0b'), "Hi There")) ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(hex(hmac_sha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block size is hashed first.
  CHECK(hex(hmac_sha256(std::string(131, '\xaa'),
                        "Test Using Larger Than Block-Size Key - Hash Key First")) ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  // Test case 7: a long key and data longer than the block size.
  CHECK(hex(hmac_sha256(std::string(131, '\xaa'),
                        "This is a test using a larger than block-size key and a larger than "
                        "block-size data. The key needs to be hashed before being used by the "
                        "HMAC algorithm.")) ==
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
  // No key and no data at all (an empty string_view may carry a null pointer).
  CHECK(hex(hmac_sha256({}, {})) ==
        "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST_CASE("a sealed frame opens only with the same secret and unmodified bytes") {
  std::vector<char> frame{'a', 'b', 'c', '\0', 'd'};
  auto sealed = frame;
  seal_frame(sealed, "cluster-secret-1");
  REQUIRE(sealed.size() == frame.size() + frame_mac_bytes);
  CHECK(open_frame(sealed, "cluster-secret-1") == frame.size());
  CHECK_FALSE(open_frame(sealed, "cluster-secret-2"));
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    auto tampered = sealed;
    tampered[i] = static_cast<char>(tampered[i] ^ 1);
    CHECK_FALSE(open_frame(tampered, "cluster-secret-1"));
  }
  CHECK_FALSE(open_frame(frame, "cluster-secret-1")); // unsealed
  CHECK_FALSE(open_frame({}, "cluster-secret-1"));
}
