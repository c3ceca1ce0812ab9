#pragma once

// How auroraedge-cli reaches the server and says who it is: plaintext or TLS
// (--tls-ca), a client certificate for mTLS (--tls-cert, --tls-key) and a
// bearer token (--token-file, --token) sent with every call.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "cli_options.h"

namespace auroraedge::server::app {

class CliConnection {
 public:
  // Reads the TLS and token files; throws UsageError naming a file that
  // cannot be read or a token that cannot be sent.
  explicit CliConnection(const CliArgs& args);

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

  // Adds the bearer token, if any, to a call.
  void Authorize(grpc::ClientContext* context) const;

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::string token_;
};

}  // namespace auroraedge::server::app
