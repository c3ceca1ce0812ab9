#include "write_watchdog.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

namespace auroraedge::server::grpc_api {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Waits up to `limit` for `done`; a generous limit only lengthens a failing run.
template <typename Predicate>
bool WaitFor(Predicate done, milliseconds limit = milliseconds(30'000)) {
  const auto until = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

}  // namespace

TEST_CASE("a write pending for longer than the timeout is cut, once") {
  const milliseconds timeout{100};
  WriteWatchdog watchdog(timeout);
  std::atomic<int> cuts{0};
  auto watch = watchdog.Add([&] { ++cuts; });
  const auto started = Clock::now();
  watch->WriteStarted();
  REQUIRE(WaitFor([&] { return cuts > 0; }));
  CHECK(Clock::now() - started >= timeout);
  // The write stays pending (a client that never reads): no second cut.
  const int period_waits = 4;
  std::this_thread::sleep_for(period_waits * timeout);
  CHECK(cuts == 1);
  watch->Release();
  CHECK(WaitFor([&] { return watchdog.watched() == 0; }));
}

TEST_CASE("writes that complete in time are never cut") {
  const milliseconds timeout{100};
  WriteWatchdog watchdog(timeout);
  std::atomic<int> cuts{0};
  auto watch = watchdog.Add([&] { ++cuts; });
  const auto until = Clock::now() + 6 * timeout;
  while (Clock::now() < until) {  // many writes, each done well inside the timeout
    watch->WriteStarted();
    std::this_thread::sleep_for(milliseconds(1));
    watch->WriteDone();
  }
  // Idle between writes (the engine has nothing to send): not a stalled write.
  std::this_thread::sleep_for(3 * timeout);
  CHECK(cuts == 0);
  watch->Release();
}

TEST_CASE("a released stream is let go of and never cut") {
  WriteWatchdog watchdog(milliseconds(50));
  std::atomic<int> cuts{0};
  auto watch = watchdog.Add([&] { ++cuts; });
  CHECK(watchdog.watched() == 1);
  watch->WriteStarted();
  watch->Release();
  CHECK(WaitFor([&] { return watchdog.watched() == 0; }));
  std::this_thread::sleep_for(milliseconds(200));
  CHECK(cuts == 0);
}

TEST_CASE("timeout 0 watches nothing") {
  WriteWatchdog watchdog(milliseconds(0));
  std::atomic<int> cuts{0};
  auto watch = watchdog.Add([&] { ++cuts; });
  watch->WriteStarted();
  CHECK(watchdog.watched() == 0);
  std::this_thread::sleep_for(milliseconds(50));
  CHECK(cuts == 0);
}

}  // namespace auroraedge::server::grpc_api
