#include "engine_inbox.h"

#include <utility>

namespace auroraedge::server {

std::unique_ptr<LiveRequest> EngineInbox::PostRequest(std::unique_ptr<LiveRequest> request) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return request;
    mail_.requests.push_back(std::move(request));
    signaled_ = true;
  }
  signal_.notify_one();
  return nullptr;
}

void EngineInbox::PostPreprocessed(PreprocessedImages images) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    mail_.preprocessed.push_back(std::move(images));
    signaled_ = true;
  }
  signal_.notify_one();
}

void EngineInbox::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    signaled_ = true;
  }
  signal_.notify_one();
}

EngineInbox::Mail EngineInbox::Take() {
  std::lock_guard<std::mutex> lock(mu_);
  signaled_ = false;
  return std::exchange(mail_, Mail{});
}

void EngineInbox::WaitUntil(std::optional<TimePoint> until) {
  std::unique_lock<std::mutex> lock(mu_);
  const auto ready = [this] { return signaled_ || closed_; };
  if (until) {
    signal_.wait_until(lock, *until, ready);
  } else {
    signal_.wait(lock, ready);
  }
}

void EngineInbox::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  signal_.notify_all();
}

bool EngineInbox::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

}  // namespace auroraedge::server
