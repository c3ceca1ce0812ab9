#include "server_security.h"

#include <chrono>
#include <optional>

namespace auroraedge::server::grpc_api {
namespace {

auth::TlsFiles FilesOf(const SecurityOptions& options) {
  return {options.tls_certificate_file, options.tls_private_key_file, options.tls_client_ca_file};
}

auth::TlsMaterial LoadTls(const SecurityOptions& options) {
  try {
    return auth::LoadTlsMaterial(FilesOf(options), std::chrono::system_clock::now());
  } catch (const auth::TlsFileError& error) {
    throw SecurityFileError(error.what());
  }
}

std::optional<auth::TokenTable> LoadTokens(const SecurityOptions& options) {
  if (options.token_file.empty()) return std::nullopt;
  try {
    return auth::LoadTokenFile(options.token_file);
  } catch (const auth::TokenFileError& error) {
    throw SecurityFileError(error.what());
  }
}

// The log needs the names, never the PEM text.
auth::TlsMaterial WithoutPem(auth::TlsMaterial material) {
  material.identity_pem.clear();
  material.client_ca_pem.clear();
  return material;
}

std::string DescribeCertificate(const auth::TlsMaterial& material) {
  std::string text = "certificate " + material.subject + ", not after " + material.not_after;
  if (material.client_ca_certificates > 0) {
    text += "; client CA: " + std::to_string(material.client_ca_certificates) + " certificate(s)";
  }
  return text;
}

std::string DescribeTokens(size_t count) { return std::to_string(count) + " client token(s)"; }

}  // namespace

ServerSecurity::ServerSecurity(SecurityOptions options)
    : options_(std::move(options)), access_(LoadTokens(options_)) {
  if (options_.tls()) {
    auth::TlsMaterial material = LoadTls(options_);
    tls_ = std::make_unique<TlsCredentials>(material);
    tls_in_use_ = WithoutPem(std::move(material));
  }
}

std::shared_ptr<grpc::ServerCredentials> ServerSecurity::credentials() const {
  return tls_ ? tls_->credentials() : grpc::InsecureServerCredentials();
}

std::string ServerSecurity::Describe() const {
  std::lock_guard lock(mu_);
  std::string text;
  if (!tls_) {
    text = "plaintext (no TLS)";
  } else {
    text = "TLS, " + DescribeCertificate(tls_in_use_);
    text += tls_->requires_client_certificates() ? ", client certificates required"
                                                 : ", no client certificates";
  }
  text += options_.token_file.empty() ? "; no bearer tokens"
                                      : "; bearer tokens from " + options_.token_file + " (" +
                                            DescribeTokens(access_.token_count()) + ")";
  return text;
}

std::vector<ReloadOutcome> ServerSecurity::Reload() {
  std::lock_guard lock(mu_);
  std::vector<ReloadOutcome> outcomes;
  if (tls_) {
    ReloadOutcome outcome{"TLS certificate", false, ""};
    try {
      auth::TlsMaterial material = LoadTls(options_);
      tls_->Replace(material);
      tls_in_use_ = WithoutPem(std::move(material));
      outcome.reloaded = true;
      outcome.detail = DescribeCertificate(tls_in_use_) + "; new connections get it within " +
                       std::to_string(TlsCredentials::kRefreshSeconds) + " s";
    } catch (const std::exception& error) {
      outcome.detail = std::string(error.what()) + "; keeping " + DescribeCertificate(tls_in_use_);
    }
    outcomes.push_back(std::move(outcome));
  }
  if (!options_.token_file.empty()) {
    ReloadOutcome outcome{"token file", false, ""};
    try {
      auth::TokenTable tokens = auth::LoadTokenFile(options_.token_file);
      access_.ReplaceTokens(std::move(tokens));
      outcome.reloaded = true;
      outcome.detail = options_.token_file + ": " + DescribeTokens(access_.token_count());
    } catch (const auth::TokenFileError& error) {
      outcome.detail = std::string(error.what()) + "; keeping the " +
                       DescribeTokens(access_.token_count()) + " in use";
    }
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

}  // namespace auroraedge::server::grpc_api
