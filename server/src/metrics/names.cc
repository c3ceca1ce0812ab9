#include "names.h"

#include <array>

namespace auroraedge::server {

std::string_view GrpcCodeName(int code) {
  static constexpr std::array<std::string_view, kLastGrpcCode + 1> kNames = {"OK",
                                                                             "CANCELLED",
                                                                             "UNKNOWN",
                                                                             "INVALID_ARGUMENT",
                                                                             "DEADLINE_EXCEEDED",
                                                                             "NOT_FOUND",
                                                                             "ALREADY_EXISTS",
                                                                             "PERMISSION_DENIED",
                                                                             "RESOURCE_EXHAUSTED",
                                                                             "FAILED_PRECONDITION",
                                                                             "ABORTED",
                                                                             "OUT_OF_RANGE",
                                                                             "UNIMPLEMENTED",
                                                                             "INTERNAL",
                                                                             "UNAVAILABLE",
                                                                             "DATA_LOSS",
                                                                             "UNAUTHENTICATED"};
  if (code < 0 || code >= static_cast<int>(kNames.size())) return "UNKNOWN";
  return kNames[static_cast<size_t>(code)];
}

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
