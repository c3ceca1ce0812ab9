#pragma once

// Checks of a GenerationRequest that need no model work, and the sampling
// settings it resolves to. Every failure throws std::invalid_argument whose
// message names the field and its limit; Submit turns it into
// INVALID_ARGUMENT.

#include <cstdint>
#include <string>
#include <vector>

#include "auroraedge/model/model_config.h"
#include "auroraedge/model/sampler.h"
#include "auroraedge/server/generation.h"

namespace auroraedge::server {

void CheckRequestSize(const GenerationRequest& request, int max_images, int max_prompt_bytes);

struct ResolvedSampling {
  model::SamplingConfig config;
  int max_new_tokens = 0;
};

// Unset parameters take the model's defaults; an unset seed takes
// `random_seed`. An unset max_new_tokens is cut to what the context leaves;
// a set one that does not fit is refused.
ResolvedSampling ResolveSampling(const SamplingParams& params, const model::ModelConfig& model,
                                 int prompt_tokens, uint64_t random_seed);

}  // namespace auroraedge::server
