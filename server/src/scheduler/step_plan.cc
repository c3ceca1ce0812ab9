#include "auroraedge/server/step_plan.h"

namespace auroraedge::server {

int StepPlan::prefill_tokens() const {
  int tokens = 0;
  for (const PrefillChunk& chunk : prefill) tokens += chunk.num_tokens + chunk.scored_tokens;
  return tokens;
}

}  // namespace auroraedge::server
