#include "connection_acceptor.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace auroraedge::server::grpc_api {
namespace {

[[noreturn]] void CannotListen(const std::string& address, const std::string& why) {
  throw std::runtime_error("cannot listen on " + address + ": " + why);
}

// "host:port" or "[v6]:port" -> host (brackets removed) and port.
std::pair<std::string, std::string> SplitHostPort(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) CannotListen(address, "not HOST:PORT");
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return {host, address.substr(colon + 1)};
}

int BoundPort(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
}

void SetPort(sockaddr* address, int port) {
  if (address->sa_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(address)->sin6_port = htons(static_cast<uint16_t>(port));
  } else {
    reinterpret_cast<sockaddr_in*>(address)->sin_port = htons(static_cast<uint16_t>(port));
  }
}

// The client's IP address; an IPv4 client of a dual-stack socket counts as
// its IPv4 address.
std::string PeerAddress(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (address.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(address).sin_addr, text, sizeof text);
    return text;
  }
  const in6_addr& v6 = reinterpret_cast<const sockaddr_in6&>(address).sin6_addr;
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    inet_ntop(AF_INET, &v6.s6_addr[12], text, sizeof text);
  } else {
    inet_ntop(AF_INET6, &v6, text, sizeof text);
  }
  return text;
}

}  // namespace

ConnectionAcceptor::ConnectionAcceptor(const std::string& listen_address, bool reuse_port,
                                       ConnectionLimits limits)
    : listen_address_(listen_address),
      limiter_(limits.max_connections, limits.max_connections_per_peer, SocketStillOpen),
      on_refused_(std::move(limits.on_refused)) {
  const auto [host, port] = SplitHostPort(listen_address);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int error = getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
  if (error != 0) CannotListen(listen_address, gai_strerror(error));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, freeaddrinfo);
  const bool several = found->ai_next != nullptr;
  try {
    for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
      const int fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) CannotListen(listen_address, std::strerror(errno));
      listen_fds_.push_back(fd);
      const int on = 1;
      // SO_REUSEADDR lets a restarted server bind past connections in
      // TIME_WAIT; unlike SO_REUSEPORT it never lets two listeners share.
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
      if (reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
      // "localhost" gives ::1 and 127.0.0.1: each socket keeps to its family.
      // A lone IPv6 address such as "[::]" serves IPv4 clients too.
      const int v6_only = several ? 1 : 0;
      if (a->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6_only, sizeof v6_only);
      // With port 0 the first socket picks the port; the others take the same.
      if (port_ != 0) SetPort(a->ai_addr, port_);
      if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        const std::string why = std::strerror(errno);
        CannotListen(listen_address,
                     errno == EADDRINUSE
                         ? why +
                               " (another server listens there; set listen_reuseport on both "
                               "to share the port on purpose)"
                         : why);
      }
      port_ = BoundPort(fd);
    }
  } catch (...) {
    for (int fd : listen_fds_) close(fd);
    throw;
  }
  stop_fd_ = eventfd(0, EFD_CLOEXEC);
}

ConnectionAcceptor::~ConnectionAcceptor() {
  Stop();
  if (stop_fd_ >= 0) close(stop_fd_);
}

void ConnectionAcceptor::Start(
    std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> sink) {
  sink_ = std::move(sink);
  thread_ = std::thread([this] { Run(); });
}

void ConnectionAcceptor::Stop() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    // Fails only when the counter would overflow, which one write cannot do.
    [[maybe_unused]] const ssize_t written = write(stop_fd_, &one, sizeof one);
    thread_.join();
  }
  for (int fd : listen_fds_) close(fd);
  listen_fds_.clear();
}

void ConnectionAcceptor::Run() {
  using Clock = std::chrono::steady_clock;
  // After an accept error other than "nothing to accept" (EMFILE, ENOBUFS)
  // the listening socket stays readable: it is left alone for a moment
  // rather than polled in a busy loop.
  Clock::time_point paused_until;
  std::vector<pollfd> fds;
  while (true) {
    const bool paused = Clock::now() < paused_until;
    fds.assign(1, {stop_fd_, POLLIN, 0});
    for (int fd : listen_fds_) fds.push_back({fd, static_cast<short>(paused ? 0 : POLLIN), 0});
    if (poll(fds.data(), fds.size(), paused ? 100 : -1) < 0 && errno != EINTR) return;
    if (fds[0].revents != 0) return;
    for (size_t i = 1; i < fds.size(); ++i) {
      if ((fds[i].revents & POLLIN) == 0) continue;
      AcceptFrom(fds[i].fd);
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
        paused_until = Clock::now() + std::chrono::milliseconds(100);
      }
    }
  }
}

// Accepts until nothing is waiting; leaves errno as the last accept4 left it.
void ConnectionAcceptor::AcceptFrom(int listen_fd) {
  while (true) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    const int fd = accept4(listen_fd, reinterpret_cast<sockaddr*>(&address), &length,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    struct stat status {};
    fstat(fd, &status);
    const AcceptedConnection connection{fd, static_cast<uint64_t>(status.st_ino),
                                        PeerAddress(address)};
    if (const auto refusal = limiter_.Admit(connection)) {
      ++refused_;
      if (on_refused_) on_refused_(*refusal);
      close(fd);
      continue;
    }
    const int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    grpc::experimental::ExternalConnectionAcceptor::NewConnectionParameters parameters;
    parameters.listener_fd = listen_fd;
    parameters.fd = fd;
    sink_->HandleNewConnection(&parameters);
  }
}

}  // namespace auroraedge::server::grpc_api
