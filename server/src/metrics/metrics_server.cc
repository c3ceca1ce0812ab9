#include "auroraedge/server/metrics_server.h"

#include <stdexcept>

#include "http_listener.h"

namespace auroraedge::server {
namespace {

struct HostPort {
  std::string host;  // "" : every interface
  std::string port;
};

// "host:port", "[v6]:port" or ":port" with a numeric port.
HostPort ParseListenAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  const std::string port = colon == std::string::npos ? "" : address.substr(colon + 1);
  const bool numeric = !port.empty() && port.size() <= 5 &&
                       port.find_first_not_of("0123456789") == std::string::npos;
  if (!numeric || std::stoi(port) > 65535) {
    throw std::invalid_argument(
        "metrics listen address must be host:port with a port in 0..65535, or \"off\"; got \"" +
        address + "\"");
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return {host, port};
}

HttpResponse Route(const Metrics& metrics, const std::string& path) {
  if (path == "/metrics") {
    return {200, "text/plain; version=0.0.4; charset=utf-8", metrics.Serialize()};
  }
  if (path == "/") return {200, "text/plain; charset=utf-8", "AuroraEdge Serve: see /metrics\n"};
  return {404, "text/plain; charset=utf-8", "not found; the metrics are at /metrics\n"};
}

}  // namespace

struct MetricsServer::Impl {
  std::unique_ptr<HttpListener> listener;
};

bool MetricsServer::IsDisabled(const std::string& listen_address) {
  return listen_address.empty() || listen_address == "off";
}

MetricsServer::MetricsServer(const Metrics& metrics, const std::string& listen_address,
                             MetricsEndpointLimits limits)
    : impl_(std::make_unique<Impl>()) {
  const HostPort address = ParseListenAddress(listen_address);
  try {
    impl_->listener = std::make_unique<HttpListener>(
        address.host, address.port,
        [&metrics](const std::string& path) { return Route(metrics, path); },
        HttpListenerOptions{limits.max_connections, limits.request_timeout});
  } catch (const std::exception& e) {
    throw std::runtime_error("metrics: cannot listen on \"" + listen_address + "\": " + e.what());
  }
}

MetricsServer::~MetricsServer() = default;

int MetricsServer::port() const { return impl_->listener->port(); }

}  // namespace auroraedge::server
