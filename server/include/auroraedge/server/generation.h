#pragma once

// The contract between the gRPC layer and the engine loop: what a Generate
// call asks for, and what comes back on its stream. Plain C++, no gRPC, no
// LibTorch.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auroraedge/preprocessing/image_source.h"
#include "auroraedge/server/status.h"

namespace auroraedge::server {

// Lower value is admitted first.
enum class Priority { kLineCritical = 0, kNormal = 1, kBackground = 2 };

struct SamplingParams {
  std::optional<int> max_new_tokens;  // unset: the model's default
  std::optional<float> temperature;   // 0: greedy
  std::optional<int> top_k;           // 0: off
  std::optional<float> top_p;         // 1: off
  std::optional<float> repetition_penalty;  // 1: off
  std::optional<uint64_t> seed;       // unset: a random seed
  std::vector<std::string> stop;      // stop strings, matched on the text
};

struct GenerationRequest {
  std::string request_id;       // unique per server; the client's id or a generated one
  std::string client_address;
  std::vector<preprocessing::ImageSource> images;
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

struct GenerationChunk {
  std::string text;              // always whole UTF-8 characters
  std::vector<int32_t> token_ids;
};

struct GenerationFinal {
  FinishReason reason = FinishReason::kStop;
  int prompt_tokens = 0;
  int completion_tokens = 0;
  int images = 0;
  StageTimings timings;
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
