#include "write_watchdog.h"

#include <algorithm>

namespace auroraedge::server::grpc_api {

WriteWatchdog::WriteWatchdog(std::chrono::milliseconds timeout) : timeout_(timeout) {
  if (timeout_.count() > 0) thread_ = std::thread([this] { Run(); });
}

WriteWatchdog::~WriteWatchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<WriteWatchdog::Watch> WriteWatchdog::Add(std::function<void()> cut) {
  auto watch = std::make_shared<Watch>(std::move(cut));
  if (timeout_.count() == 0) return watch;
  std::lock_guard<std::mutex> lock(mutex_);
  watches_.push_back(watch);
  return watch;
}

size_t WriteWatchdog::watched() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return watches_.size();
}

std::vector<std::shared_ptr<WriteWatchdog::Watch>> WriteWatchdog::Scan(Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::shared_ptr<Watch>> due;
  const Clock::rep limit = (now - timeout_).time_since_epoch().count();
  watches_.erase(
      std::remove_if(watches_.begin(), watches_.end(),
                     [&](const std::shared_ptr<Watch>& watch) {
                       if (watch->released_) return true;
                       const Clock::rep started = watch->write_started_;
                       if (started == Watch::kNone || started > limit || watch->cut_done_) {
                         return false;
                       }
                       watch->cut_done_ = true;
                       due.push_back(watch);
                       return false;
                     }),
      watches_.end());
  return due;
}

void WriteWatchdog::Run() {
  // A write is cut between timeout and timeout + period after it started.
  const auto period = std::clamp<std::chrono::milliseconds>(
      timeout_ / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
  std::unique_lock<std::mutex> lock(mutex_);
  while (!wake_.wait_for(lock, period, [this] { return stopping_; })) {
    lock.unlock();
    for (const std::shared_ptr<Watch>& watch : Scan(Clock::now())) watch->cut_();
    lock.lock();
  }
}

}  // namespace auroraedge::server::grpc_api
