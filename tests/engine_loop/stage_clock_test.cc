#include "stage_clock.h"

#include <catch2/catch.hpp>

using namespace auroraedge::server;
using namespace std::chrono_literals;

TEST_CASE("Stage clock: each stage lasts until the next one reached") {
  const TimePoint t0{};
  StageStarts starts;
  starts.queued = t0;
  starts.preprocessing = t0 + 1s;
  starts.vision = t0 + 3s;
  starts.prefill = t0 + 4s;
  starts.decode = t0 + 6s;
  const StageTimings timings = ToStageTimings(starts, t0 + 10s);
  CHECK(timings.queued == 1);
  CHECK(timings.preprocessing == 2);
  CHECK(timings.vision == 1);
  CHECK(timings.prefill == 2);
  CHECK(timings.decode == 4);
  CHECK(timings.time_to_first_token == 6);
  CHECK(timings.total == 10);
}

TEST_CASE("Stage clock: a text request skips the image stages, an early end stops the clock") {
  const TimePoint t0{};
  StageStarts starts;
  starts.queued = t0;
  starts.prefill = t0 + 2s;
  const StageTimings timings = ToStageTimings(starts, t0 + 5s);
  CHECK(timings.queued == 2);
  CHECK(timings.preprocessing == 0);
  CHECK(timings.vision == 0);
  CHECK(timings.prefill == 3);
  CHECK(timings.decode == 0);
  CHECK(timings.time_to_first_token == 0);
  CHECK(timings.total == 5);
}
