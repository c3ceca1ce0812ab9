#include "tls_credentials.h"

#include <grpcpp/security/tls_credentials_options.h>

namespace auroraedge::server::grpc_api {

TlsCredentials::TlsCredentials(const auth::TlsMaterial& material)
    : identity_(material.identity_pem) {
  if (!material.client_ca_pem.empty())
    client_ca_ = std::make_unique<MemoryFile>(material.client_ca_pem);
  // The key and the certificate chain come from the same file, so one read
  // never pairs a new certificate with an old key.
  provider_ = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      identity_.path(), identity_.path(), client_ca_ ? client_ca_->path() : "", kRefreshSeconds);
  grpc::experimental::TlsServerCredentialsOptions options(provider_);
  options.watch_identity_key_cert_pairs();
  if (client_ca_) {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  credentials_ = grpc::experimental::TlsServerCredentials(options);
}

void TlsCredentials::Replace(const auth::TlsMaterial& material) {
  identity_.Replace(material.identity_pem);
  if (client_ca_ && !material.client_ca_pem.empty()) client_ca_->Replace(material.client_ca_pem);
}

}  // namespace auroraedge::server::grpc_api
