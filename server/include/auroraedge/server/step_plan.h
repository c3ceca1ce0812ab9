#pragma once

// What the scheduler hands the engine loop for one step. The loop executes
// it, ends the requests whose part failed, and reports back with
// Scheduler::CompleteStep before the next plan.

#include <vector>

#include "auroraedge/server/scheduler_request.h"

namespace auroraedge::server {

// Prompt tokens [start, start + num_tokens) of one sequence. The chunk that
// completes the prompt is the one that samples the first new token.
struct PrefillChunk {
  SequenceId id = 0;
  int start = 0;
  int num_tokens = 0;
  bool completes_prompt = false;
  int scored_tokens = 0;  // an inspection's label rows, in the chunk that completes the prompt
};

struct StepPlan {
  // Ended by cancel or deadline since the last plan; their seats and blocks
  // are already free.
  std::vector<EndedRequest> ended;
  // Admitted (seat and KV blocks allocated) in this plan, in admission order.
  std::vector<SequenceId> admitted;
  // Admitted with images: their preprocessing starts now.
  std::vector<SequenceId> to_preprocess;
  // Requests whose images are encoded in this step's vision batch.
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
