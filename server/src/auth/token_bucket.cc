#include "token_bucket.h"

#include <algorithm>

namespace auroraedge::server::auth {

TokenBucket::TokenBucket(double per_second, int burst, Clock::time_point now)
    : per_second_(per_second), burst_(burst), available_(burst), last_(now) {}

bool TokenBucket::TryTake(Clock::time_point now) {
  if (now > last_) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    available_ = std::min<double>(burst_, available_ + elapsed * per_second_);
    last_ = now;
  }
  if (available_ < 1) return false;
  available_ -= 1;
  return true;
}

}  // namespace auroraedge::server::auth
