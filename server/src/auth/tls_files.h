#pragma once

// The server's TLS certificate, private key and (for mTLS) client CA, read
// from their files and checked with OpenSSL before gRPC sees them: at start
// a bad file stops the server with a message naming it, and on SIGHUP it
// leaves the certificates in use untouched.

#include <chrono>
#include <stdexcept>
#include <string>

namespace auroraedge::server::auth {

struct TlsFiles {
  std::string certificate;  // PEM: the server certificate, then its chain
  std::string private_key;  // PEM, unencrypted
  std::string client_ca;    // PEM: the CAs that sign client certificates; empty: no mTLS
};

struct TlsMaterial {
  std::string identity_pem;   // the certificate chain, then the private key
  std::string client_ca_pem;  // empty without mTLS
  // Of the server certificate, for the log.
  std::string subject;
  std::string not_after;
  int client_ca_certificates = 0;
};

// Names the file and what is wrong with it.
class TlsFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads and checks: the certificate and the key parse, the key belongs to
// the certificate, the certificate is valid at `now`, the client CA file
// holds at least one certificate. Throws TlsFileError.
TlsMaterial LoadTlsMaterial(const TlsFiles& files, std::chrono::system_clock::time_point now);

}  // namespace auroraedge::server::auth
