#pragma once

// What the engine loop reports as it works; the metrics and the request log
// implement it. Called from the engine loop's and the preprocessing
// workers' threads: implementations must be thread-safe and must not block.

#include <cstdint>
#include <string>
#include <vector>

#include "auroraedge/server/generation.h"

namespace auroraedge::server {

struct ImageRecord {
  int width = 0;
  int height = 0;
  std::string sha256;  // of the bytes the client sent, for traceability
};

// One finished request, successful or not.
struct RequestRecord {
  std::string request_id;
  std::string client_address;
  Priority priority = Priority::kNormal;
  std::vector<ImageRecord> images;
  int prompt_tokens = 0;
  int completion_tokens = 0;
  std::optional<FinishReason> finish_reason;  // unset when it ended in an error
  Status status;
  StageTimings timings;
  std::vector<double> inter_token_seconds;
  std::string output_text;  // the answer, for the request log
};

struct StepRecord {
  int decode_batch_size = 0;
  int prefill_tokens = 0;
  double seconds = 0;
};

// The model the engine loaded, reported once by InferenceEngine::Start
// before the first request; the metrics' model label and the request log's
// model version come from it.
struct ModelRecord {
  std::string name;
  std::string version;
  std::string path;    // "compressed" or "baseline", see ModelConfig::path
  std::string device;  // as in EngineOptions
  std::string dtype;
  double load_seconds = 0;
};

struct LoadRecord {
  int requests_waiting = 0;
  int requests_running = 0;
  int64_t kv_tokens_used = 0;
  int64_t kv_tokens_total = 0;
  int64_t kv_bytes_per_token = 0;
};

class ServingObserver {
 public:
  virtual ~ServingObserver() = default;
  virtual void OnRequestFinished(const RequestRecord& record) = 0;
  virtual void OnVisionBatch(int images, double seconds) = 0;
  virtual void OnStep(const StepRecord& step) = 0;
  virtual void OnLoad(const LoadRecord& load) = 0;
  // Added after the first four; the default lets older implementations build.
  virtual void OnModelLoaded(const ModelRecord& model) {}
};

}  // namespace auroraedge::server
