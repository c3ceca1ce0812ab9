#include "auroraedge/server/scheduler_request.h"

namespace auroraedge::server {

const char* PhaseName(RequestPhase phase) {
  switch (phase) {
    case RequestPhase::kWaiting:
      return "waiting";
    case RequestPhase::kPreprocessing:
      return "preprocessing";
    case RequestPhase::kVision:
      return "vision";
    case RequestPhase::kPrefill:
      return "prefill";
    case RequestPhase::kDecoding:
      return "decoding";
  }
  return "unknown";
}

}  // namespace auroraedge::server
