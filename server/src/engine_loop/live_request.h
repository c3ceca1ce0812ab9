#pragma once

// Everything the engine loop keeps for one request from Submit to its end.
// Built by Submit on the caller's thread, then owned by the engine thread.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "auroraedge/model/engine.h"
#include "auroraedge/model/sampler.h"
#include "auroraedge/preprocessing/patches.h"
#include "auroraedge/server/generation.h"
#include "auroraedge/server/scheduler_request.h"
#include "auroraedge/server/serving_observer.h"
#include "sequence_output.h"
#include "stage_clock.h"

namespace auroraedge::server {

struct LiveRequest {
  LiveRequest(SequenceId id, GenerationRequest request, std::shared_ptr<GenerationStream> stream,
              std::vector<int32_t> prompt_tokens, int max_new_tokens, model::Sampler sampler,
              SequenceOutput output)
      : id(id),
        request(std::move(request)),
        stream(std::move(stream)),
        prompt_tokens(std::move(prompt_tokens)),
        max_new_tokens(max_new_tokens),
        sampler(std::move(sampler)),
        output(std::move(output)) {}

  SequenceId id;
  GenerationRequest request;  // its images move to the preprocessing job
  std::shared_ptr<GenerationStream> stream;
  std::vector<int32_t> prompt_tokens;
  int max_new_tokens;
  model::Sampler sampler;
  SequenceOutput output;
  int num_images = 0;
  bool observed = true;  // false for the warm-up: kept out of metrics and logs

  std::vector<preprocessing::PatchImage> patches;
  std::vector<ImageRecord> image_records;
  std::vector<model::VisualFeatures> features;
  bool in_model = false;  // registered with model::Engine::AddSequence
  int32_t last_token = -1;
  StageStarts stages;
  TimePoint last_token_at;
  std::vector<double> inter_token_seconds;
};

// The result of one request's preprocessing job.
struct PreprocessedImages {
  SequenceId id = 0;
  std::vector<preprocessing::PatchImage> patches;
  std::vector<ImageRecord> records;
  Status status;
};

}  // namespace auroraedge::server
