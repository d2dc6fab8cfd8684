// CAF 0.17.6's openssl module calls SSL_read, SSL_write, SSL_connect and SSL_accept and then
// SSL_get_error without emptying the thread's OpenSSL error queue first, which OpenSSL requires
// (SSL_get_error(3): "the current thread's error queue must be empty before the TLS/SSL I/O
// operation is attempted"). All TLS connections share the middleman's one I/O thread, and CAF
// never reads the queue (its only reader is a log statement compiled out of Debian's build), so
// one failed TLS connection (a plain peer, a certificate the CA did not sign, a peer that closed
// without close_notify) left an error there, and the next harmless "want read" on any healthy
// connection was taken for a failure: that connection dropped too, and nodes kept losing each
// other (docs/decisions.md D24).
//
// prez-server therefore defines these four functions itself. A shared library's calls resolve to
// the executable's definition first, so CAF's calls come here; each empties the queue and calls
// OpenSSL's own function (found with RTLD_NEXT). Nothing else changes. Linked into prez-server
// only (the tools that do not use TLS need no such fix).

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace {

/// OpenSSL's definition of `name` (the next one after ours); a missing one is our bug.
template <class Function>
Function next_definition(const char* name) {
  void* symbol = dlsym(RTLD_NEXT, name);
  if (symbol == nullptr) {
    std::fprintf(stderr, "prez-server: libssl has no %s\n", name);
    std::abort();
  }
  Function function = nullptr;
  static_assert(sizeof function == sizeof symbol);
  std::memcpy(&function, &symbol, sizeof function);
  return function;
}

} // namespace

extern "C" {

int SSL_read(SSL* ssl, void* buffer, int bytes) {
  static const auto openssl = next_definition<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return openssl(ssl, buffer, bytes);
}

int SSL_write(SSL* ssl, const void* buffer, int bytes) {
  static const auto openssl = next_definition<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return openssl(ssl, buffer, bytes);
}

int SSL_connect(SSL* ssl) {
  static const auto openssl = next_definition<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return openssl(ssl);
}

int SSL_accept(SSL* ssl) {
  static const auto openssl = next_definition<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  return openssl(ssl);
}

} // extern "C"
