#pragma once

// A minimal HTTP/1.1 server for GET endpoints such as /metrics: one thread,
// one connection at a time, "Connection: close". Enough for Prometheus and a
// person with curl; not a general web server.
//
// Why not prometheus-cpp's Exposer: its civetweb starts threads with 100 KB
// stacks (fixed at civetweb's build), and glibc refuses such threads
// (EINVAL) in a process whose libraries need more static TLS than that, as
// the server's do once LibTorch and OpenBLAS are loaded.

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

class HttpListener {
 public:
  // Binds "host:port" or "[v6]:port" (port 0: any free one) and starts
  // serving. Throws std::runtime_error naming the address when it cannot.
  HttpListener(const std::string& host, const std::string& port, HttpHandler handler);
  ~HttpListener();  // stops accepting and joins the thread
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace auroraedge::server
