#pragma once

// What the engine loop reports as it works; the metrics and the request log
// implement it. Called from the engine loop's and the preprocessing
// workers' threads: implementations must be thread-safe and must not block.

#include <cstdint>
#include <string>
#include <vector>

#include "auroraedge/server/generation.h"
#include "auroraedge/server/inspection.h"

namespace auroraedge::server {

struct ImageRecord {
  int width = 0;
  int height = 0;
  std::string sha256;  // of the bytes the client sent, for traceability
};

// What an Inspect call decided; the scores are empty when it failed.
struct InspectionRecord {
  std::vector<LabelScore> scores;
  std::string chosen;
  Decision decision = Decision::kNone;
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
  std::string output_text;                     // the answer, for the request log
  std::string model_version;                   // of the model that ran it (config.json)
  std::optional<InspectionRecord> inspection;  // set for an Inspect call
};

struct StepRecord {
  int decode_batch_size = 0;
  int prefill_tokens = 0;
  double seconds = 0;
};

// The model the engine loaded, reported once by ServingFrontEnd::Start
// before the first request; the metrics' model and version labels come from
// it. Each loaded model has its own observer (a model change loads a second
// one beside the first).
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

// The stages a request goes through on the engine thread, in this order;
// a request without images skips kPreprocessing and kVision.
enum class RequestStage {
  kQueued,         // reached the engine thread, waiting for admission
  kPreprocessing,  // admitted, its images decoding
  kVision,         // patches ready, waiting for a vision batch
  kPrefill,        // its prompt (and images' features) going into the model
  kDecode,         // its first token is out
};

class ServingObserver {
 public:
  virtual ~ServingObserver() = default;
  virtual void OnRequestFinished(const RequestRecord& record) = 0;
  virtual void OnVisionBatch(int images, double seconds) = 0;
  virtual void OnStep(const StepRecord& step) = 0;
  virtual void OnLoad(const LoadRecord& load) = 0;
  // Added after the first four; the defaults let older implementations build.
  virtual void OnModelLoaded(const ModelRecord& model) {}
  // Called on the engine thread as the request enters `stage`.
  virtual void OnStage(const std::string& request_id, RequestStage stage) {}
  // One vision batch's images looked up in the image-feature cache: found,
  // encoded, and what the cache holds afterwards.
  virtual void OnImageFeatureLookups(int hits, int misses, int64_t cached_bytes) {}
};

}  // namespace auroraedge::server
