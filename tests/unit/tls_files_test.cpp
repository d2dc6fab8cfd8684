// Tests for the start-up check of the TLS files (config/tls_files.hpp, docs/decisions.md D24).
// The certificates are made here with libcrypto: a CA, a node certificate it signs, and a
// stranger's self-signed certificate.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "config/node_config.hpp"
#include "config/tls_files.hpp"
#include "tests/temp_dir.hpp"

using namespace prez;

namespace {

struct key_free {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct cert_free {
  void operator()(X509* cert) const { X509_free(cert); }
};
using key_ptr = std::unique_ptr<EVP_PKEY, key_free>;
using cert_ptr = std::unique_ptr<X509, cert_free>;

key_ptr make_key() {
  key_ptr key{EVP_EC_gen("P-256")};
  REQUIRE(key);
  return key;
}

/// A certificate for `name` with `key`, signed by `issuer_key` under `issuer` (self-signed when
/// issuer is null).
cert_ptr make_cert(const char* name, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  cert_ptr cert{X509_new()};
  REQUIRE(cert);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(name), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : subject);
  X509_set_pubkey(cert.get(), key);
  if (issuer == nullptr) { // a CA (OpenSSL 3 trusts a v3 issuer only with CA:TRUE)
    X509_EXTENSION* ca =
        X509V3_EXT_conf_nid(nullptr, nullptr, NID_basic_constraints, "critical,CA:TRUE");
    REQUIRE(ca);
    X509_add_ext(cert.get(), ca, -1);
    X509_EXTENSION_free(ca);
  }
  REQUIRE(X509_sign(cert.get(), issuer_key, EVP_sha256()) > 0);
  return cert;
}

/// A fresh directory under /tmp, removed when the test ends.
struct temp_dir : prez::testing::temp_dir {
  temp_dir() : prez::testing::temp_dir("prez-tls-files-test") {}
  std::string write_cert(const char* name, X509* cert) const {
    FILE* out = std::fopen(file(name).c_str(), "w");
    REQUIRE(out);
    PEM_write_X509(out, cert);
    std::fclose(out);
    return file(name);
  }
  std::string write_key(const char* name, EVP_PKEY* key, const char* passphrase = nullptr) const {
    FILE* out = std::fopen(file(name).c_str(), "w");
    REQUIRE(out);
    if (passphrase)
      PEM_write_PrivateKey(out, key, EVP_aes_256_cbc(), nullptr, 0, nullptr,
                           const_cast<char*>(passphrase));
    else
      PEM_write_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(out);
    return file(name);
  }
};

node_config with_tls(const std::string& cert, const std::string& key, const std::string& ca) {
  node_config config;
  config.source_file = "prez.conf";
  config.tls_cert_file = cert;
  config.tls_key_file = key;
  config.tls_ca_cert_file = ca;
  return config;
}

} // namespace

TEST_CASE("check_tls_files: good files pass, and each bad one is named with its reason", "[tls]") {
  CHECK(check_tls_files(node_config{}).empty()); // TLS off: nothing to check

  temp_dir dir;
  auto ca_key = make_key();
  auto ca = make_cert("prez-test-ca", ca_key.get(), nullptr, ca_key.get());
  auto node_key = make_key();
  auto node = make_cert("node-a", node_key.get(), ca.get(), ca_key.get());
  auto stranger_key = make_key();
  auto stranger = make_cert("stranger", stranger_key.get(), nullptr, stranger_key.get());
  const auto ca_file = dir.write_cert("ca.crt", ca.get());
  const auto cert_file = dir.write_cert("node.crt", node.get());
  const auto key_file = dir.write_key("node.key", node_key.get());
  const auto stranger_file = dir.write_cert("stranger.crt", stranger.get());
  const auto stranger_key_file = dir.write_key("stranger.key", stranger_key.get());

  CHECK(check_tls_files(with_tls(cert_file, key_file, ca_file)) == "");

  CHECK(check_tls_files(with_tls(dir.file("none.crt"), key_file, ca_file)) ==
        "prez.conf: tls-cert-file '" + dir.file("none.crt") +
            "': cannot open file: No such file or directory");
  CHECK(check_tls_files(with_tls(cert_file, dir.file("none.key"), ca_file)) ==
        "prez.conf: tls-key-file '" + dir.file("none.key") +
            "': cannot open file: No such file or directory");
  CHECK(check_tls_files(with_tls(cert_file, key_file, dir.file("none.crt"))) ==
        "prez.conf: tls-ca-cert-file '" + dir.file("none.crt") +
            "': cannot open file: No such file or directory");

  const auto garbage = dir.write("garbage.pem", "not a certificate\n");
  CHECK_THAT(
      check_tls_files(with_tls(garbage, key_file, ca_file)),
      Catch::StartsWith("prez.conf: tls-cert-file '" + garbage + "': not a PEM certificate"));
  CHECK_THAT(check_tls_files(with_tls(cert_file, garbage, ca_file)),
             Catch::StartsWith("prez.conf: tls-key-file '" + garbage +
                               "': not an unencrypted PEM private key"));
  CHECK_THAT(
      check_tls_files(with_tls(cert_file, key_file, garbage)),
      Catch::StartsWith("prez.conf: tls-ca-cert-file '" + garbage + "': no PEM CA certificate"));

  // An encrypted key is refused, never prompted for (OpenSSL would ask on the terminal).
  const auto locked = dir.write_key("locked.key", node_key.get(), "passphrase");
  CHECK_THAT(check_tls_files(with_tls(cert_file, locked, ca_file)),
             Catch::StartsWith("prez.conf: tls-key-file '" + locked +
                               "': not an unencrypted PEM private key"));
  CHECK(check_tls_files(with_tls(cert_file, stranger_key_file, ca_file)) ==
        "prez.conf: tls-key-file '" + stranger_key_file + "': does not match the certificate in " +
            cert_file);
  // A certificate the CA did not sign: every peer would refuse it.
  CHECK(check_tls_files(with_tls(stranger_file, stranger_key_file, ca_file)) ==
        "prez.conf: tls-cert-file '" + stranger_file +
            "': does not verify under tls-ca-cert-file " + ca_file + ": self-signed certificate");
}
