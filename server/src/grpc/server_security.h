#pragma once

// What the gRPC port needs for transport security and client identity, built
// from SecurityOptions: the credentials it listens with (TLS, mTLS or
// plaintext) and the access decision at admission (bearer tokens). Reload
// re-reads the files (SIGHUP); a file that fails keeps what is in use.

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "access_control.h"
#include "auroraedge/server/security_options.h"
#include "tls_credentials.h"

namespace auroraedge::server::grpc_api {

class ServerSecurity {
 public:
  // Reads and checks every file. Throws SecurityFileError naming the file.
  explicit ServerSecurity(SecurityOptions options);

  // Must outlive the server built with them.
  std::shared_ptr<grpc::ServerCredentials> credentials() const;
  // Valid as long as this object. Thread-safe.
  auth::AccessControl* access() { return &access_; }

  // For the start log: what protects the port and what was loaded.
  std::string Describe() const;

  // Re-reads what the options name; one outcome per file set. Thread-safe.
  std::vector<ReloadOutcome> Reload();

 private:
  const SecurityOptions options_;
  std::unique_ptr<TlsCredentials> tls_;
  auth::AccessControl access_;

  mutable std::mutex mu_;
  auth::TlsMaterial tls_in_use_;  // guarded by mu_; without the PEM text
};

}  // namespace auroraedge::server::grpc_api
