#include "config/tls_files.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

namespace prez {

namespace {

/// OpenSSL's queued errors as one line (empty if none), and the queue cleared.
std::string openssl_errors() {
  std::string text;
  while (auto code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    if (!text.empty()) text += "; ";
    text += buffer;
  }
  return text;
}

/// A password callback that never gives one: an encrypted key fails to load instead of OpenSSL
/// asking for its passphrase on the terminal (CAF would ask on its I/O thread).
int no_passphrase(char*, int, int, void*) {
  return 0;
}

struct ssl_ctx_free {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct store_ctx_free {
  void operator()(X509_STORE_CTX* ctx) const { X509_STORE_CTX_free(ctx); }
};

/// "file: key 'path': reason", the shape of every other configuration error.
std::string file_error(const node_config& config, const char* key, const std::string& path,
                       const std::string& reason) {
  return (config.source_file.empty() ? std::string("prez.conf") : config.source_file) + ": " + key +
         " '" + path + "': " + reason;
}

/// The file exists and this process may read it (OpenSSL's own messages do not say so plainly).
std::string readable(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::string("cannot open file: ") + std::strerror(errno);
  return {};
}

} // namespace

std::string check_tls_files(const node_config& config) {
  if (!tls_enabled(config)) return {};
  const std::pair<const char*, const std::string*> files[] = {
      {"tls-cert-file", &config.tls_cert_file},
      {"tls-key-file", &config.tls_key_file},
      {"tls-ca-cert-file", &config.tls_ca_cert_file},
  };
  for (const auto& [key, path] : files)
    if (auto reason = readable(*path); !reason.empty())
      return file_error(config, key, *path, reason);
  ERR_clear_error();
  std::unique_ptr<SSL_CTX, ssl_ctx_free> ctx{SSL_CTX_new(TLS_method())};
  if (!ctx) return "cannot create an OpenSSL context: " + openssl_errors();
  SSL_CTX_set_default_passwd_cb(ctx.get(), no_passphrase);
  // The calls CAF's openssl session makes for each connection (libcaf_openssl session.cpp).
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), config.tls_cert_file.c_str()) != 1)
    return file_error(config, "tls-cert-file", config.tls_cert_file,
                      "not a PEM certificate (" + openssl_errors() + ")");
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), config.tls_key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    const bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
    const auto errors = openssl_errors();
    return file_error(config, "tls-key-file", config.tls_key_file,
                      mismatch ? "does not match the certificate in " + config.tls_cert_file
                               : "not an unencrypted PEM private key (" + errors + ")");
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    return file_error(config, "tls-key-file", config.tls_key_file,
                      "does not match the certificate in " + config.tls_cert_file);
  if (SSL_CTX_load_verify_locations(ctx.get(), config.tls_ca_cert_file.c_str(), nullptr) != 1)
    return file_error(config, "tls-ca-cert-file", config.tls_ca_cert_file,
                      "no PEM CA certificate (" + openssl_errors() + ")");
  // Our own certificate must verify under the CA, or every peer would refuse it: say so now
  // rather than leave a node that never connects.
  X509* leaf = SSL_CTX_get0_certificate(ctx.get());
  STACK_OF(X509)* chain = nullptr;
  SSL_CTX_get0_chain_certs(ctx.get(), &chain);
  std::unique_ptr<X509_STORE_CTX, store_ctx_free> verify{X509_STORE_CTX_new()};
  if (!verify ||
      X509_STORE_CTX_init(verify.get(), SSL_CTX_get_cert_store(ctx.get()), leaf, chain) != 1)
    return "cannot verify the certificate: " + openssl_errors();
  if (X509_verify_cert(verify.get()) != 1)
    return file_error(config, "tls-cert-file", config.tls_cert_file,
                      std::string("does not verify under tls-ca-cert-file ") +
                          config.tls_ca_cert_file + ": " +
                          X509_verify_cert_error_string(X509_STORE_CTX_get_error(verify.get())));
  return {};
}

} // namespace prez
