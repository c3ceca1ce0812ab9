#pragma once

// What auroraedge-server logs about transport security and client identity:
// how the port is protected (at start, with a warning for plaintext beyond
// loopback) and the calls the access check turns away.

#include "auroraedge/server/grpc_server.h"
#include "server_config.h"

namespace auroraedge::server::app {

// Hands the security settings to the gRPC server and logs its denials, at
// most a few lines a second for each code and caller (a flood of bad tokens
// must not flood the log; the lines left out are counted in the next one).
void ConfigureSecurity(const ServerConfig& config, GrpcServerOptions* options);

// One line: TLS certificate, client certificates, tokens. A warning when
// the port is plaintext and reachable from other machines.
void LogSecurity(const ServerConfig& config, const GrpcServer& server);

}  // namespace auroraedge::server::app
