#include "stage_clock.h"

#include <array>

namespace auroraedge::server {

double SecondsBetween(TimePoint from, TimePoint to) {
  return std::chrono::duration<double>(to - from).count();
}

StageTimings ToStageTimings(const StageStarts& starts, TimePoint end) {
  StageTimings timings;
  const std::array<std::optional<TimePoint>, 5> marks{starts.queued, starts.preprocessing,
                                                      starts.vision, starts.prefill, starts.decode};
  const std::array<double*, 5> stages{&timings.queued, &timings.preprocessing, &timings.vision,
                                      &timings.prefill, &timings.decode};
  for (size_t i = 0; i < marks.size(); ++i) {
    if (!marks[i]) continue;
    TimePoint next = end;
    for (size_t j = i + 1; j < marks.size(); ++j) {
      if (marks[j]) {
        next = *marks[j];
        break;
      }
    }
    *stages[i] = SecondsBetween(*marks[i], next);
  }
  if (starts.decode) timings.time_to_first_token = SecondsBetween(starts.queued, *starts.decode);
  timings.total = SecondsBetween(starts.queued, end);
  return timings;
}

}  // namespace auroraedge::server
