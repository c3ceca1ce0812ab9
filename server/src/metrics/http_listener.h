#pragma once

// A minimal HTTP/1.1 server for GET endpoints such as /metrics: one thread
// serves many connections at once through poll(), each answered once and
// closed ("Connection: close"). Enough for Prometheus and a person with curl;
// not a general web server.
//
// Misbehaving clients cannot hold it: a connection has `request_timeout`
// from its accept to the end of its response, however it trickles its bytes
// (not a per-read timeout); at most `max_connections` are open, and when a
// new one arrives beyond that the oldest still sending its request is
// closed, so idle and slow clients never shut out a client that sends its
// request at once. A request head ends at its first empty line, CRLF or bare
// LF alike.
//
// Why not prometheus-cpp's Exposer: its civetweb starts threads with 100 KB
// stacks (fixed at civetweb's build), and glibc refuses such threads
// (EINVAL) in a process whose libraries need more static TLS than that, as
// the server's do once LibTorch and OpenBLAS are loaded. libmicrohttpd
// (Debian's libmicrohttpd12) would start its threads (their stack size is
// the process default unless set), but its timeout is per inactivity, so a
// client sending a byte a second holds a connection forever, and it can
// only refuse connections beyond its limit, not make room for a new one.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace auroraedge::server {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Called on the listener's thread for each GET or HEAD request, with the
// path without its query string.
using HttpHandler = std::function<HttpResponse(const std::string& path)>;

struct HttpListenerOptions {
  int max_connections = 64;
  std::chrono::milliseconds request_timeout{5000};
};

class HttpListener {
 public:
  // Binds "host:port" or "[v6]:port" (port 0: any free one) and starts
  // serving. Throws std::runtime_error naming the address when it cannot.
  HttpListener(const std::string& host, const std::string& port, HttpHandler handler,
               HttpListenerOptions options = {});
  ~HttpListener();  // stops accepting, closes every connection, joins the thread
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  int port() const;
  // Connections open now, and the most ever open at once (for tests and
  // diagnostics; thread-safe).
  int open_connections() const;
  int peak_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace auroraedge::server
