#include "request_registry.h"

namespace auroraedge::server {

bool RequestRegistry::Insert(const std::string& request_id,
                             std::shared_ptr<RequestControl> control) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!ids_.emplace(request_id, std::move(control)).second) return false;
  ++in_flight_;
  return true;
}

std::shared_ptr<RequestControl> RequestRegistry::Find(const std::string& request_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = ids_.find(request_id);
  return it == ids_.end() ? nullptr : it->second;
}

void RequestRegistry::ReleaseId(const std::string& request_id) {
  std::lock_guard<std::mutex> lock(mu_);
  ids_.erase(request_id);
}

void RequestRegistry::Finished() {
  bool idle = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle = --in_flight_ == 0;
  }
  if (idle) emptied_.notify_all();
}

bool RequestRegistry::WaitEmpty(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return emptied_.wait_for(lock, timeout, [this] { return in_flight_ == 0; });
}

}  // namespace auroraedge::server
