#pragma once
// The start-up check of the TLS files for node links (docs/decisions.md D24). CAF's openssl module
// reads them only when a connection is made, on its I/O thread, and raises an error there that
// ends the process; a half-working setup would show up as nodes that never connect. So the server
// loads them once before it starts, with the same OpenSSL calls CAF makes, and refuses to start
// with the reason. No CAF here: OpenSSL's libssl only.

#include <string>

#include "config/node_config.hpp"

namespace prez {

/// Checks that `config`'s three TLS files exist, are readable and are what CAF will need: the
/// certificate chain (PEM), an unencrypted private key (PEM) that matches it, and a CA file that
/// loads and under which the certificate verifies. Returns the reason (`prez.conf: tls-... 'path':
/// ...`) or an empty string when all is well or TLS is off.
std::string check_tls_files(const node_config& config);

} // namespace prez
