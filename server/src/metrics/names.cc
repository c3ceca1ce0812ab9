#include "names.h"

namespace auroraedge::server {

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

std::string_view DecisionName(Decision decision) {
  switch (decision) {
    case Decision::kNone:
      return "none";
    case Decision::kOk:
      return "ok";
    case Decision::kNg:
      return "ng";
    case Decision::kUnknown:
      return "unknown";
  }
  return "none";
}

}  // namespace auroraedge::server
