#include "request_validation.h"

#include <algorithm>
#include <stdexcept>

#include "auroraedge/preprocessing/preprocess.h"

namespace auroraedge::server {
namespace {

void CheckTextSize(const char* field, const std::string& text, int max_bytes) {
  if (text.size() > static_cast<size_t>(max_bytes)) {
    throw std::invalid_argument(std::string(field) + ": " + std::to_string(text.size()) +
                                " bytes; at most " + std::to_string(max_bytes) +
                                " are allowed (max_prompt_bytes)");
  }
}

}  // namespace

void CheckRequestSize(const GenerationRequest& request, int max_images, int max_prompt_bytes) {
  preprocessing::CheckImageCount(static_cast<int>(request.images.size()), max_images);
  CheckTextSize("prompt", request.prompt, max_prompt_bytes);
  CheckTextSize("system_prompt", request.system_prompt, max_prompt_bytes);
}

ResolvedSampling ResolveSampling(const SamplingParams& params, const model::ModelConfig& model,
                                 int prompt_tokens, uint64_t random_seed) {
  const model::GenerationDefaults& defaults = model.generation;
  ResolvedSampling resolved;
  resolved.config.temperature = params.temperature.value_or(defaults.temperature);
  resolved.config.top_k = params.top_k.value_or(defaults.top_k);
  resolved.config.top_p = params.top_p.value_or(defaults.top_p);
  resolved.config.repetition_penalty =
      params.repetition_penalty.value_or(defaults.repetition_penalty);
  resolved.config.seed = params.seed.value_or(random_seed);
  model::ValidateSamplingConfig(resolved.config, model.decoder.vocab_size);

  const int room = model.context_length - prompt_tokens;
  if (room < 1) {
    throw std::invalid_argument("prompt: " + std::to_string(prompt_tokens) +
                                " tokens (images included) leave no room for an answer in the "
                                "context_length of " +
                                std::to_string(model.context_length) + " tokens");
  }
  if (!params.max_new_tokens) {
    resolved.max_new_tokens = std::min(std::max(defaults.max_new_tokens, 1), room);
    return resolved;
  }
  const int requested = *params.max_new_tokens;
  if (requested < 1 || requested > room) {
    throw std::invalid_argument("sampling.max_new_tokens: " + std::to_string(requested) +
                                " is out of range [1, " + std::to_string(room) +
                                "] (context_length " + std::to_string(model.context_length) +
                                " minus a prompt of " + std::to_string(prompt_tokens) + " tokens)");
  }
  resolved.max_new_tokens = requested;
  return resolved;
}

}  // namespace auroraedge::server
