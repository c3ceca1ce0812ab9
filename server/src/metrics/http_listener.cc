#include "http_listener.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace auroraedge::server {
namespace {

constexpr size_t kMaxRequestHeadBytes = 16 * 1024;
// A client that stalls holds the only thread for at most this long.
constexpr int kIoTimeoutSeconds = 5;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    default:
      return "Error";
  }
}

Fd Listen(const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int error =
      getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found);
  if (error != 0) throw std::runtime_error(gai_strerror(error));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, freeaddrinfo);
  std::string last_error = "no address";
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    Fd fd(socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
    if (fd.get() < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    const int on = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (bind(fd.get(), a->ai_addr, a->ai_addrlen) == 0 && listen(fd.get(), 16) == 0) return fd;
    last_error = std::strerror(errno);
  }
  throw std::runtime_error(last_error);
}

// Reads up to the end of the request head; "" on timeout, error or excess.
std::string ReadRequestHead(int fd) {
  std::string head;
  char buffer[2048];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < kMaxRequestHeadBytes) {
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) return "";
    head.append(buffer, static_cast<size_t>(n));
  }
  return head;
}

void SendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

void Answer(int fd, const HttpHandler& handler) {
  const std::string head = ReadRequestHead(fd);
  if (head.empty()) return;
  const std::string line = head.substr(0, head.find("\r\n"));
  const size_t method_end = line.find(' ');
  const size_t target_end = line.find(' ', method_end + 1);
  HttpResponse response;
  bool head_only = false;
  if (method_end == std::string::npos || target_end == std::string::npos ||
      line.compare(method_end + 1, 1, "/") != 0) {
    response = {400, "text/plain; charset=utf-8", "bad request line\n"};
  } else {
    const std::string method = line.substr(0, method_end);
    std::string target = line.substr(method_end + 1, target_end - method_end - 1);
    target = target.substr(0, target.find('?'));
    head_only = method == "HEAD";
    response = method == "GET" || head_only
                   ? handler(target)
                   : HttpResponse{405, "text/plain; charset=utf-8", "only GET and HEAD\n"};
  }
  std::string reply = "HTTP/1.1 " + std::to_string(response.status) + " " +
                      ReasonPhrase(response.status) + "\r\nContent-Type: " + response.content_type +
                      "\r\nContent-Length: " + std::to_string(response.body.size()) +
                      "\r\nConnection: close\r\n\r\n";
  if (!head_only) reply += response.body;
  SendAll(fd, reply);
}

}  // namespace

struct HttpListener::Impl {
  Fd listen_fd;
  Fd stop_fd{eventfd(0, EFD_CLOEXEC)};
  HttpHandler handler;
  std::thread thread;

  void Serve() {
    pollfd fds[2] = {{listen_fd.get(), POLLIN, 0}, {stop_fd.get(), POLLIN, 0}};
    while (true) {
      if (poll(fds, 2, -1) < 0 && errno != EINTR) return;
      if (fds[1].revents != 0) return;
      if ((fds[0].revents & POLLIN) == 0) continue;
      Fd client(accept4(listen_fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (client.get() < 0) continue;
      const timeval timeout{kIoTimeoutSeconds, 0};
      setsockopt(client.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
      setsockopt(client.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
      Answer(client.get(), handler);
    }
  }
};

HttpListener::HttpListener(const std::string& host, const std::string& port, HttpHandler handler)
    : impl_(std::make_unique<Impl>()) {
  if (impl_->stop_fd.get() < 0) throw std::runtime_error(std::strerror(errno));
  impl_->listen_fd = Listen(host, port);
  impl_->handler = std::move(handler);
  impl_->thread = std::thread([impl = impl_.get()] { impl->Serve(); });
}

HttpListener::~HttpListener() {
  const uint64_t one = 1;
  // Fails only when the counter would overflow, which one write cannot do.
  [[maybe_unused]] const ssize_t written = write(impl_->stop_fd.get(), &one, sizeof(one));
  impl_->thread.join();
}

int HttpListener::port() const {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (getsockname(impl_->listen_fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return 0;
  }
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
}

}  // namespace auroraedge::server
