#include "names.h"

namespace auroraedge::server {

std::string_view PriorityName(Priority priority) {
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

std::string_view FinishReasonName(const std::optional<FinishReason>& reason) {
  if (!reason) return "error";
  switch (*reason) {
    case FinishReason::kStop:
      return "stop";
    case FinishReason::kLength:
      return "length";
    case FinishReason::kStopString:
      return "stop_string";
    case FinishReason::kCancelled:
      return "cancelled";
    case FinishReason::kDeadline:
      return "deadline";
  }
  return "error";
}

}  // namespace auroraedge::server
