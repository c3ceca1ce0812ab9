#pragma once

#include <string_view>

namespace auroraedge::server {

// Scheduling class of a request; a lower value is admitted first.
enum class Priority { kLineCritical = 0, kNormal = 1, kBackground = 2 };

// "line_critical", "normal" or "background": the one spelling of the token
// file, the metrics' labels and the request log.
constexpr std::string_view PriorityName(Priority priority) {
  switch (priority) {
    case Priority::kLineCritical:
      return "line_critical";
    case Priority::kNormal:
      return "normal";
    case Priority::kBackground:
      return "background";
  }
  return "normal";
}

}  // namespace auroraedge::server
