#include "auroraedge/server/metrics_server.h"

#include <prometheus/exposer.h>

#include <stdexcept>

#include "metrics_impl.h"

namespace auroraedge::server {
namespace {

// "host:port" or "[v6]:port" with a numeric port.
void ValidateListenAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  const std::string port = colon == std::string::npos ? "" : address.substr(colon + 1);
  const bool numeric = !port.empty() && port.size() <= 5 &&
                       port.find_first_not_of("0123456789") == std::string::npos;
  if (!numeric || std::stoi(port) > 65535) {
    throw std::invalid_argument(
        "metrics listen address must be host:port with a port in "
        "0..65535, or \"off\"; got \"" +
        address + "\"");
  }
}

}  // namespace

struct MetricsServer::Impl {
  std::unique_ptr<prometheus::Exposer> exposer;
};

bool MetricsServer::IsDisabled(const std::string& listen_address) {
  return listen_address.empty() || listen_address == "off";
}

MetricsServer::MetricsServer(const Metrics& metrics, const std::string& listen_address)
    : impl_(std::make_unique<Impl>()) {
  ValidateListenAddress(listen_address);
  try {
    impl_->exposer = std::make_unique<prometheus::Exposer>(listen_address);
  } catch (const std::exception& e) {
    throw std::runtime_error("metrics: cannot listen on \"" + listen_address + "\": " + e.what());
  }
  for (const auto& collectable : metrics.impl().collectables()) {
    impl_->exposer->RegisterCollectable(collectable);
  }
}

MetricsServer::~MetricsServer() = default;

int MetricsServer::port() const {
  const std::vector<int> ports = impl_->exposer->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

}  // namespace auroraedge::server
