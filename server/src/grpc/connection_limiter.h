#pragma once

// The bookkeeping behind the connection limits: which accepted connections
// are still open, per client address. gRPC owns a connection once it is
// handed over and says nothing when it closes it, so the book is corrected
// lazily: before each decision, entries whose socket is gone are dropped
// (`is_open` looks at the descriptor; the real one compares the socket's
// inode, which a reused descriptor number does not share). Plain C++; used
// from the acceptor's thread only.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace auroraedge::server::grpc_api {

struct AcceptedConnection {
  int fd = -1;
  uint64_t inode = 0;  // the socket's identity while it is open
  std::string peer;    // the client's IP address
};

class ConnectionLimiter {
 public:
  using IsOpen = std::function<bool(const AcceptedConnection&)>;

  // A limit of 0 is no limit.
  ConnectionLimiter(int max_connections, int max_connections_per_peer, IsOpen is_open);

  // Records `connection` and returns nullopt, or returns the limit that
  // refuses it ("max_connections" or "max_connections_per_peer") and
  // records nothing.
  std::optional<std::string_view> Admit(const AcceptedConnection& connection);

  int open() const { return static_cast<int>(open_.size()); }

 private:
  void ForgetClosed();

  const int max_connections_;
  const int max_connections_per_peer_;
  const IsOpen is_open_;
  std::vector<AcceptedConnection> open_;
  std::map<std::string, int> per_peer_;
};

// Whether `connection`'s descriptor still refers to the socket accepted.
bool SocketStillOpen(const AcceptedConnection& connection);

}  // namespace auroraedge::server::grpc_api
