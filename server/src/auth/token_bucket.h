#pragma once

// A request-rate limit: `per_second` calls on average, `burst` at once. A
// call takes one unit; units come back continuously at `per_second`, up to
// `burst`. Not thread-safe (AccessControl holds it under its lock).

#include <chrono>

namespace auroraedge::server::auth {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts full.
  TokenBucket(double per_second, int burst, Clock::time_point now);

  // Takes one unit; false (and nothing taken) when none is left.
  bool TryTake(Clock::time_point now);

  double per_second() const { return per_second_; }
  int burst() const { return burst_; }

 private:
  double per_second_;
  int burst_;
  double available_;
  Clock::time_point last_;
};

}  // namespace auroraedge::server::auth
