#include "http_listener.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <list>
#include <stdexcept>
#include <thread>
#include <vector>

namespace auroraedge::server {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxRequestHeadBytes = 16 * 1024;

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
    case 431:
      return "Request Header Fields Too Large";
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
    Fd fd(socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol));
    if (fd.get() < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    const int on = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (bind(fd.get(), a->ai_addr, a->ai_addrlen) == 0 && listen(fd.get(), 128) == 0) return fd;
    last_error = std::strerror(errno);
  }
  throw std::runtime_error(last_error);
}

// Where the request head ends: just after its first empty line, whose line
// break is CRLF or a bare LF; npos while it has not come yet.
size_t HeadEnd(const std::string& data) {
  for (size_t lf = data.find('\n'); lf != std::string::npos; lf = data.find('\n', lf + 1)) {
    if (lf + 1 < data.size() && data[lf + 1] == '\n') return lf + 2;
    if (lf + 2 < data.size() && data[lf + 1] == '\r' && data[lf + 2] == '\n') return lf + 3;
  }
  return std::string::npos;
}

std::string Serialize(const HttpResponse& response, bool head_only) {
  std::string reply = "HTTP/1.1 " + std::to_string(response.status) + " " +
                      ReasonPhrase(response.status) + "\r\nContent-Type: " + response.content_type +
                      "\r\nContent-Length: " + std::to_string(response.body.size()) +
                      "\r\nConnection: close\r\n\r\n";
  if (!head_only) reply += response.body;
  return reply;
}

// The reply to one complete request head.
std::string Answer(const std::string& head, const HttpHandler& handler) {
  std::string line = head.substr(0, head.find('\n'));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  const size_t method_end = line.find(' ');
  const size_t target_end = line.find(' ', method_end + 1);
  if (method_end == std::string::npos || target_end == std::string::npos ||
      line.compare(method_end + 1, 1, "/") != 0) {
    return Serialize({400, "text/plain; charset=utf-8", "bad request line\n"}, false);
  }
  const std::string method = line.substr(0, method_end);
  std::string target = line.substr(method_end + 1, target_end - method_end - 1);
  target = target.substr(0, target.find('?'));
  const bool head_only = method == "HEAD";
  if (method != "GET" && !head_only) {
    return Serialize({405, "text/plain; charset=utf-8", "only GET and HEAD\n"}, false);
  }
  return Serialize(handler(target), head_only);
}

struct Connection {
  Fd fd;
  Clock::time_point deadline;
  std::string request;
  std::string reply;  // set once the request head is complete
  size_t sent = 0;
  bool done = false;  // to be closed

  bool answering() const { return !reply.empty(); }
};

}  // namespace

struct HttpListener::Impl {
  Fd listen_fd;
  Fd stop_fd{eventfd(0, EFD_CLOEXEC)};
  HttpHandler handler;
  HttpListenerOptions options;
  std::list<Connection> connections;  // oldest first; only the thread touches it
  std::atomic<int> open{0};
  std::atomic<int> peak{0};
  // After an accept error other than "nothing to accept" (EMFILE, ENOBUFS)
  // the listening socket stays readable; it is left alone for a moment
  // rather than polled in a busy loop.
  Clock::time_point accept_paused_until;
  std::thread thread;

  void Serve() {
    std::vector<pollfd> fds;
    while (true) {
      const short accepting = Clock::now() >= accept_paused_until ? POLLIN : 0;
      fds.assign({{listen_fd.get(), accepting, 0}, {stop_fd.get(), POLLIN, 0}});
      for (const Connection& c : connections) {
        fds.push_back({c.fd.get(), static_cast<short>(c.answering() ? POLLOUT : POLLIN), 0});
      }
      if (poll(fds.data(), fds.size(), PollTimeoutMs()) < 0 && errno != EINTR) return;
      if (fds[1].revents != 0) return;
      size_t index = 2;
      for (Connection& c : connections) {
        if (fds[index++].revents != 0) Progress(c);
      }
      const Clock::time_point now = Clock::now();
      connections.remove_if([now](const Connection& c) { return c.done || c.deadline <= now; });
      if ((fds[0].revents & POLLIN) != 0) AcceptAll();
      open = static_cast<int>(connections.size());
      peak = std::max(peak.load(), open.load());
    }
  }

  // Until the nearest deadline or the end of an accept pause; -1 (forever)
  // with neither.
  int PollTimeoutMs() const {
    Clock::time_point nearest = Clock::time_point::max();
    if (accept_paused_until > Clock::now()) nearest = accept_paused_until;
    for (const Connection& c : connections) nearest = std::min(nearest, c.deadline);
    if (nearest == Clock::time_point::max()) return -1;
    const auto wait =
        std::chrono::duration_cast<std::chrono::milliseconds>(nearest - Clock::now()).count();
    return static_cast<int>(std::clamp<int64_t>(wait + 1, 0, 60'000));
  }

  void AcceptAll() {
    while (true) {
      Fd client(accept4(listen_fd.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
      if (client.get() < 0) {
        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
          accept_paused_until = Clock::now() + std::chrono::milliseconds(100);
        }
        return;
      }
      if (static_cast<int>(connections.size()) >= options.max_connections && !MakeRoom()) continue;
      Connection& added = connections.emplace_back();
      added.fd = std::move(client);
      added.deadline = Clock::now() + options.request_timeout;
    }
  }

  // Closes the oldest connection still sending its request; false when every
  // open one is being answered (they finish within a few writes).
  bool MakeRoom() {
    const auto oldest = std::find_if(connections.begin(), connections.end(),
                                     [](const Connection& c) { return !c.answering(); });
    if (oldest == connections.end()) return false;
    connections.erase(oldest);
    return true;
  }

  void Progress(Connection& c) {
    if (!c.answering()) Read(c);
    if (c.answering() && !c.done) Write(c);
  }

  void Read(Connection& c) {
    char buffer[4096];
    const ssize_t n = recv(c.fd.get(), buffer, sizeof(buffer), 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      c.done = true;
      return;
    }
    if (n < 0) return;
    c.request.append(buffer, static_cast<size_t>(n));
    const size_t end = HeadEnd(c.request);
    if (end != std::string::npos) {
      c.reply = Answer(c.request.substr(0, end), handler);
    } else if (c.request.size() > kMaxRequestHeadBytes) {
      c.reply = Serialize({431, "text/plain; charset=utf-8", "request head over 16 KiB\n"}, false);
    }
  }

  void Write(Connection& c) {
    const ssize_t n =
        send(c.fd.get(), c.reply.data() + c.sent, c.reply.size() - c.sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n > 0) c.sent += static_cast<size_t>(n);
    if (n < 0 || c.sent == c.reply.size()) {
      shutdown(c.fd.get(), SHUT_WR);
      c.done = true;
    }
  }
};

HttpListener::HttpListener(const std::string& host, const std::string& port, HttpHandler handler,
                           HttpListenerOptions options)
    : impl_(std::make_unique<Impl>()) {
  if (impl_->stop_fd.get() < 0) throw std::runtime_error(std::strerror(errno));
  if (options.max_connections < 1) throw std::invalid_argument("max_connections must be >= 1");
  impl_->listen_fd = Listen(host, port);
  impl_->handler = std::move(handler);
  impl_->options = options;
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

int HttpListener::open_connections() const { return impl_->open; }

int HttpListener::peak_connections() const { return impl_->peak; }

}  // namespace auroraedge::server
