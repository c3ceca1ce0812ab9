#include "cli_connection.h"

#include <fstream>
#include <iterator>

namespace auroraedge::server::app {
namespace {

std::string ReadFile(const std::string& option, const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw UsageError(option + " " + path + ": cannot be read");
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

// --token, or the token file's first line without the line end. gRPC sends
// metadata values of printable ASCII only.
std::string ReadToken(const ConnectionArgs& args) {
  if (args.token.empty() && args.token_file.empty()) return "";
  const bool from_file = !args.token_file.empty();
  const std::string option = from_file ? "--token-file" : "--token";
  std::string token = args.token;
  if (from_file) {
    token = ReadFile(option, args.token_file);
    token = token.substr(0, token.find_first_of("\r\n"));
  }
  bool printable = !token.empty();
  for (unsigned char c : token) printable = printable && c > ' ' && c < 0x7f;
  if (!printable) {
    throw UsageError(option + ": the token must be printable ASCII without spaces, and not empty");
  }
  return token;
}

std::shared_ptr<grpc::ChannelCredentials> Credentials(const ConnectionArgs& args) {
  if (args.tls_ca.empty()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ReadFile("--tls-ca", args.tls_ca);
  if (!args.tls_cert.empty()) {
    options.pem_cert_chain = ReadFile("--tls-cert", args.tls_cert);
    options.pem_private_key = ReadFile("--tls-key", args.tls_key);
  }
  return grpc::SslCredentials(options);
}

}  // namespace

CliConnection::CliConnection(const CliArgs& args) : token_(ReadToken(args.connection)) {
  grpc::ChannelArguments channel_args;
  channel_args.SetMaxReceiveMessageSize(-1);
  channel_args.SetMaxSendMessageSize(-1);
  channel_ = grpc::CreateCustomChannel(args.address, Credentials(args.connection), channel_args);
}

void CliConnection::Authorize(grpc::ClientContext* context) const {
  // Added by hand rather than as grpc::AccessTokenCredentials, which gRPC
  // refuses to send over a plaintext channel (a loopback port may take tokens).
  if (!token_.empty()) context->AddMetadata("authorization", "Bearer " + token_);
}

}  // namespace auroraedge::server::app
