#include "idle_heap_trim.h"

#include <malloc.h>

namespace auroraedge::server::app {

IdleHeapTrim::IdleHeapTrim(std::function<std::optional<uint64_t>()> ended_calls_when_idle,
                           std::chrono::milliseconds period)
    : ended_calls_when_idle_(std::move(ended_calls_when_idle)), period_(period) {
  thread_ = std::thread([this] { Run(); });
}

IdleHeapTrim::~IdleHeapTrim() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

int IdleHeapTrim::trims() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return trims_;
}

void IdleHeapTrim::Run() {
  uint64_t trimmed_at = 0;  // calls ended at the last trim
  std::unique_lock<std::mutex> lock(mutex_);
  while (!wake_.wait_for(lock, period_, [this] { return stopping_; })) {
    lock.unlock();
    const std::optional<uint64_t> ended = ended_calls_when_idle_();
    const bool trim = ended.has_value() && *ended != trimmed_at;
    if (trim) {
      malloc_trim(0);
      trimmed_at = *ended;
    }
    lock.lock();
    if (trim) ++trims_;
  }
}

}  // namespace auroraedge::server::app
