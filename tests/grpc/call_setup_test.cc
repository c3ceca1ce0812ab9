// The engine's deadline for a call: its gRPC deadline on the engine's
// clock, kEngineDeadlineLead early, so that the engine's end of the call
// never races gRPC's own cancel at the deadline.

#include "call_setup.h"

#include <catch2/catch.hpp>
#include <chrono>

namespace auroraedge::server::grpc_api {
namespace {

using std::chrono::milliseconds;
using SystemClock = std::chrono::system_clock;
using SteadyClock = std::chrono::steady_clock;

TEST_CASE("the engine's deadline is the call's, on the steady clock, the lead early") {
  const SystemClock::time_point system_now{std::chrono::hours(500000)};
  const SteadyClock::time_point steady_now{std::chrono::hours(7)};
  CHECK(EngineDeadline(system_now + milliseconds(200), system_now, steady_now) ==
        steady_now + milliseconds(200) - kEngineDeadlineLead);
  CHECK(kEngineDeadlineLead == milliseconds(10));
}

TEST_CASE("a deadline closer than the lead, or passed, is now") {
  const SystemClock::time_point system_now{std::chrono::hours(500000)};
  const SteadyClock::time_point steady_now{std::chrono::hours(7)};
  CHECK(EngineDeadline(system_now + milliseconds(4), system_now, steady_now) == steady_now);
  CHECK(EngineDeadline(system_now, system_now, steady_now) == steady_now);
  CHECK(EngineDeadline(system_now - milliseconds(30), system_now, steady_now) ==
        steady_now - milliseconds(30));
}

TEST_CASE("no deadline stays never") {
  const SystemClock::time_point system_now{std::chrono::hours(500000)};
  CHECK(EngineDeadline(SystemClock::time_point::max(), system_now, SteadyClock::now()) ==
        SteadyClock::time_point::max());
}

}  // namespace
}  // namespace auroraedge::server::grpc_api
