#pragma once

// The gRPC port's listening socket, owned by the server rather than by
// gRPC, for two things gRPC 1.51 cannot do:
// - bound connections per client address and in total. gRPC has no such
//   limit (its memory quota only refuses connections under memory
//   pressure, and a socket mutator that refuses one stops the listener for
//   good); here each accepted connection is counted (ConnectionLimiter) and
//   refused, by closing it at once, beyond the limits, then handed to gRPC
//   through ServerBuilder's external connection acceptor, where gRPC does
//   the HTTP/2 (and TLS) handshake as for its own connections;
// - fail when the address is taken. gRPC binds with SO_REUSEPORT, so a
//   second server on the same address starts and takes half the new
//   connections; here SO_REUSEPORT is set only when asked for.

#include <grpcpp/server_builder.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "connection_limiter.h"

namespace auroraedge::server::grpc_api {

struct ConnectionLimits {
  int max_connections = 0;           // 0: no limit
  int max_connections_per_peer = 0;  // 0: no limit
  // Told the limit that refused a connection, on the acceptor's thread;
  // must not block. May be empty.
  std::function<void(std::string_view limit)> on_refused;
};

class ConnectionAcceptor {
 public:
  // Binds every address `listen_address` ("host:port", "[v6]:port"; port 0:
  // a free one, the same for all) resolves to. Throws std::runtime_error
  // naming the address when one cannot be bound (in use: another server
  // listens there, unless both asked for `reuse_port`).
  ConnectionAcceptor(const std::string& listen_address, bool reuse_port, ConnectionLimits limits);
  ~ConnectionAcceptor();  // Stop()
  ConnectionAcceptor(const ConnectionAcceptor&) = delete;
  ConnectionAcceptor& operator=(const ConnectionAcceptor&) = delete;

  int port() const { return port_; }

  // Accepts on a thread of its own, handing admitted connections to `sink`
  // (from ServerBuilder::experimental().AddExternalConnectionAcceptor, after
  // the server has started). Call once.
  void Start(std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> sink);
  // Stops accepting and closes the listening sockets; connections already
  // handed over stay gRPC's. Call before the gRPC server shuts down.
  void Stop();

  // Connections refused so far (thread-safe).
  int refused() const { return refused_; }

 private:
  void Run();
  void AcceptFrom(int listen_fd);

  const std::string listen_address_;
  std::vector<int> listen_fds_;
  int stop_fd_ = -1;
  int port_ = 0;
  ConnectionLimiter limiter_;
  const std::function<void(std::string_view)> on_refused_;
  std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> sink_;
  std::atomic<int> refused_{0};
  std::thread thread_;
};

}  // namespace auroraedge::server::grpc_api
