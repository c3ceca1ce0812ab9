#pragma once

// The contract between the gRPC layer and the engine loop: what a Generate
// call asks for, and what comes back on its stream. Plain C++, no gRPC, no
// LibTorch.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auroraedge/model/chat_template.h"
#include "auroraedge/model/step_batch.h"
#include "auroraedge/preprocessing/image_source.h"
#include "auroraedge/server/priority.h"
#include "auroraedge/server/status.h"

namespace auroraedge::server {

struct SamplingParams {
  std::optional<int> max_new_tokens;        // unset: the model's default
  std::optional<float> temperature;         // 0: greedy
  std::optional<int> top_k;                 // 0: off
  std::optional<float> top_p;               // 1: off
  std::optional<float> repetition_penalty;  // 1: off
  std::optional<uint64_t> seed;             // unset: a random seed
  std::vector<std::string> stop;            // stop strings, matched on the text
  // Unset: no log-probabilities; 0: each token's; k: also the k best
  // alternatives (model::kMaxTopLogprobs at most).
  std::optional<int> top_logprobs;
  // Constrained decoding (at most one of them): the answer is exactly one of
  // `choice`, or compact JSON that `json_schema` validates
  // (model/src/constrained/README.md has the subset).
  std::vector<std::string> choice;
  std::string json_schema;
};

struct GenerationRequest {
  std::string request_id;  // unique per server; the client's id or a generated one
  std::string client_address;
  std::vector<preprocessing::ImageSource> images;
  // One per image, or empty: every image is a test image (chat_template.h
  // has the prompt layout with golden references).
  std::vector<model::ImageRole> image_roles;
  std::string prompt;
  std::string system_prompt;
  SamplingParams sampling;
  Priority priority = Priority::kNormal;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  bool skip_special_tokens = true;
};

enum class FinishReason { kStop, kLength, kStopString, kCancelled, kDeadline };

// Seconds spent in each stage of one request.
struct StageTimings {
  double queued = 0;
  double preprocessing = 0;
  double vision = 0;
  double prefill = 0;
  double decode = 0;
  double time_to_first_token = 0;
  double total = 0;
};

// One generated token's log-probability and the best alternatives, when
// the request asked for them.
struct TokenLogprobs {
  int32_t token = 0;
  float logprob = 0;
  std::vector<model::TokenLogprob> top;
};

struct GenerationChunk {
  std::string text;  // always whole UTF-8 characters
  std::vector<int32_t> token_ids;
  std::vector<TokenLogprobs> logprobs = {};  // one per token id, when asked for
};

struct GenerationFinal {
  FinishReason reason = FinishReason::kStop;
  int prompt_tokens = 0;
  int completion_tokens = 0;
  int images = 0;
  StageTimings timings;
  std::string model_version;  // of the model that generated the answer (config.json)
};

// One request's stream, implemented by the gRPC layer. The engine loop calls
// it from its own thread and never blocks on it. Exactly one of OnFinal or
// OnError is called, once, after any number of OnChunk.
class GenerationStream {
 public:
  virtual ~GenerationStream() = default;
  // Returns false when the client is not reading and its bounded buffer is
  // full: the engine then ends the request with RESOURCE_EXHAUSTED.
  virtual bool OnChunk(GenerationChunk chunk) = 0;
  virtual void OnFinal(const GenerationFinal& final) = 0;
  virtual void OnError(const Status& status) = 0;
};

}  // namespace auroraedge::server
