#include "connection_limiter.h"

#include <sys/stat.h>

#include <algorithm>
#include <utility>

namespace auroraedge::server::grpc_api {

ConnectionLimiter::ConnectionLimiter(int max_connections, int max_connections_per_peer,
                                     IsOpen is_open)
    : max_connections_(max_connections),
      max_connections_per_peer_(max_connections_per_peer),
      is_open_(std::move(is_open)) {}

void ConnectionLimiter::ForgetClosed() {
  // Open ones first, closed ones after, intact (remove_if would leave them
  // moved from).
  const auto closed = std::stable_partition(
      open_.begin(), open_.end(), [this](const AcceptedConnection& c) { return is_open_(c); });
  for (auto it = closed; it != open_.end(); ++it) {
    if (--per_peer_[it->peer] == 0) per_peer_.erase(it->peer);
  }
  open_.erase(closed, open_.end());
}

std::optional<std::string_view> ConnectionLimiter::Admit(const AcceptedConnection& connection) {
  ForgetClosed();
  if (max_connections_ > 0 && open() >= max_connections_) return "max_connections";
  const auto peer = per_peer_.find(connection.peer);
  if (max_connections_per_peer_ > 0 && peer != per_peer_.end() &&
      peer->second >= max_connections_per_peer_) {
    return "max_connections_per_peer";
  }
  open_.push_back(connection);
  ++per_peer_[connection.peer];
  return std::nullopt;
}

bool SocketStillOpen(const AcceptedConnection& connection) {
  struct stat status {};
  return fstat(connection.fd, &status) == 0 && S_ISSOCK(status.st_mode) &&
         static_cast<uint64_t>(status.st_ino) == connection.inode;
}

}  // namespace auroraedge::server::grpc_api
