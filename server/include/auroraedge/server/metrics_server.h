#pragma once

// The HTTP endpoint Prometheus scrapes (`GET /metrics`), on an address and
// port of its own, apart from the gRPC port. One thread of its own serves
// many connections at once; idle, trickling and excess clients are cut (see
// server/src/metrics/http_listener.h) so that scrapes keep being answered.

#include <chrono>
#include <memory>
#include <string>

#include "auroraedge/server/metrics.h"

namespace auroraedge::server {

struct MetricsEndpointLimits {
  // Connections open at once; a new one beyond closes the oldest connection
  // that has not sent its whole request yet.
  int max_connections = 64;
  // From a connection's accept to the end of its response, however slowly
  // the client sends; then the connection is closed.
  std::chrono::milliseconds request_timeout{5000};
};

class MetricsServer {
 public:
  // The off switch: "" or "off" as the listen address.
  static bool IsDisabled(const std::string& listen_address);

  // Serves `metrics` on `listen_address` ("host:port", "[v6]:port" or
  // ":port" for every interface; port 0 picks a free one). Throws std::invalid_argument for an
  // address without a port and std::runtime_error naming the address when it cannot be bound.
  // `metrics` must outlive the server.
  MetricsServer(const Metrics& metrics, const std::string& listen_address,
                MetricsEndpointLimits limits = {});
  ~MetricsServer();  // stops serving
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The port actually bound (useful with port 0).
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace auroraedge::server
