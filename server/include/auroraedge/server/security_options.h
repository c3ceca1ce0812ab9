#pragma once

// Transport security and client identity on the gRPC port, as the server's
// options give them: TLS from certificate and key files, mTLS with a client
// CA, bearer tokens from a file (format: server/src/auth/token_file.h).
// Everything is reloaded on SIGHUP. No gRPC or OpenSSL type here.

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace auroraedge::server {

struct SecurityOptions {
  std::string tls_certificate_file;  // PEM chain; empty: plaintext
  std::string tls_private_key_file;  // PEM; set exactly when the certificate is
  std::string tls_client_ca_file;    // PEM; set: clients must present a certificate it signed
  std::string token_file;            // JSON; set: every Inference call needs a bearer token

  bool tls() const { return !tls_certificate_file.empty(); }
};

// A TLS or token file that cannot be used; the message names the file and
// the problem.
class SecurityFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One thing a reload looked at: "TLS certificate" or "token file", whether it
// was replaced, and what was loaded or why the old one is kept.
struct ReloadOutcome {
  std::string what;
  bool reloaded = false;
  std::string detail;
};

// Told about every call turned away by the access check: the method's short
// name, the peer, the caller's identity ("token=NAME subject=...", "" when
// anonymous), the gRPC code and the message the client got. Called from
// gRPC's threads; must be thread-safe and must not block.
using AccessDeniedListener =
    std::function<void(std::string_view method, const std::string& peer, const std::string& caller,
                       int grpc_code, const std::string& message)>;

}  // namespace auroraedge::server
