#pragma once

// The gRPC port's TLS credentials, whose certificate, key and client CA can
// be replaced while the server runs. gRPC 1.51 has no certificate provider
// whose data can be set from outside (StaticDataCertificateProvider never
// changes; FileWatcherCertificateProvider re-reads files on an interval), so
// the FileWatcher reads in-memory files (MemoryFile) that only Replace
// changes: what the operator's files say reaches new handshakes only after
// it has been checked (auth::LoadTlsMaterial) and only when asked (SIGHUP),
// within kRefreshSeconds. Connections already open keep their session.

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>

#include <memory>

#include "memory_file.h"
#include "tls_files.h"

namespace auroraedge::server::grpc_api {

class TlsCredentials {
 public:
  // How often gRPC's provider re-reads the in-memory files (its minimum).
  static constexpr unsigned kRefreshSeconds = 1;

  // Client certificates are required and verified when `material` has a
  // client CA; that choice is fixed for the server's life.
  // Must outlive the grpc::Server built with credentials().
  explicit TlsCredentials(const auth::TlsMaterial& material);

  std::shared_ptr<grpc::ServerCredentials> credentials() const { return credentials_; }
  bool requires_client_certificates() const { return client_ca_ != nullptr; }

  // New handshakes use `material` within kRefreshSeconds. Its client CA is
  // ignored when the server started without one. Throws std::system_error.
  void Replace(const auth::TlsMaterial& material);

 private:
  // Declared before the provider, which reads them until it is destroyed
  // (members go in reverse order).
  MemoryFile identity_;  // the certificate chain, then the key
  std::unique_ptr<MemoryFile> client_ca_;
  std::shared_ptr<grpc::experimental::FileWatcherCertificateProvider> provider_;
  std::shared_ptr<grpc::ServerCredentials> credentials_;
};

}  // namespace auroraedge::server::grpc_api
