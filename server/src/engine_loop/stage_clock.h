#pragma once

// When each stage of a request began, turned into StageTimings at its end.

#include <chrono>
#include <optional>

#include "auroraedge/server/generation.h"

namespace auroraedge::server {

using TimePoint = std::chrono::steady_clock::time_point;

struct StageStarts {
  TimePoint queued;                        // Submit
  std::optional<TimePoint> preprocessing;  // admitted, with images
  std::optional<TimePoint> vision;         // patches ready
  std::optional<TimePoint> prefill;        // vision done, or admitted without images
  std::optional<TimePoint> decode;         // first token
};

// Each stage lasts from its start to the start of the next stage reached,
// or to `end` for the stage the request ended in.
StageTimings ToStageTimings(const StageStarts& starts, TimePoint end);

double SecondsBetween(TimePoint from, TimePoint to);

}  // namespace auroraedge::server
