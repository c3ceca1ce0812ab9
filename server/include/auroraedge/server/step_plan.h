#pragma once

// What the scheduler hands the engine loop for one step. The loop executes
// all of it (or ends the requests it could not serve) before the next plan.

#include <vector>

#include "auroraedge/server/scheduler_request.h"

namespace auroraedge::server {

// Prompt tokens [start, start + num_tokens) of one sequence. The chunk that
// completes the prompt is the one whose logits give the first new token.
struct PrefillChunk {
  SequenceId id = 0;
  int start = 0;
  int num_tokens = 0;
  bool completes_prompt = false;
};

struct StepPlan {
  // Ended by cancel or deadline since the last plan; their KV is already free.
  std::vector<EndedRequest> ended;
  // Admitted (KV reserved) in this plan, in admission order.
  std::vector<SequenceId> admitted;
  // Admitted with images: their preprocessing starts now.
  std::vector<SequenceId> to_preprocess;
  // Requests whose images are encoded in this step's vision batch; they are
  // in kPrefill from the next plan on.
  std::vector<SequenceId> vision_batch;
  int vision_images = 0;
  std::vector<PrefillChunk> prefill;
  // One row each, feeding the token sampled last.
  std::vector<SequenceId> decode;

  int prefill_tokens() const;
  bool has_model_work() const { return !prefill.empty() || !decode.empty(); }
  bool has_work() const { return has_model_work() || !vision_batch.empty(); }
};

}  // namespace auroraedge::server
