#pragma once

// The serving engine as the gRPC layer sees it: a thread-safe facade over
// the engine loop (one thread that owns the model), the scheduler and the
// preprocessing workers. No gRPC and no LibTorch in this header.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "auroraedge/model/engine.h"
#include "auroraedge/preprocessing/preprocess.h"
#include "auroraedge/server/generation.h"
#include "auroraedge/server/serving_observer.h"
#include "auroraedge/server/status.h"

namespace auroraedge::server {

struct SchedulingOptions {
  int max_waiting_requests = 64;    // beyond: RESOURCE_EXHAUSTED at once
  int max_running_sequences = 16;   // decode batch size, at most
  int max_prefill_tokens_per_step = 256;
  int max_vision_batch = 8;
  std::chrono::microseconds max_vision_wait{2000};
  int preprocessing_threads = 2;
  int stream_buffer_chunks = 256;   // per-stream bound, see GenerationStream
};

struct ServingOptions {
  model::EngineOptions engine;
  SchedulingOptions scheduling;
  preprocessing::PreprocessConfig limits;  // size limits; model constants come from the model
  int max_images_per_request = 0;          // 0: the model's limit
  int max_prompt_bytes = 64 * 1024;
};

class InferenceEngine {
 public:
  // Loads the model (throws model::ModelLoadError), runs a warm-up inference
  // and starts the engine loop.
  static std::unique_ptr<InferenceEngine> Start(const ServingOptions& options,
                                                std::shared_ptr<ServingObserver> observer);
  virtual ~InferenceEngine() = default;  // stops the loop; in-flight streams get UNAVAILABLE

  // Validates and queues a request. A non-OK result (INVALID_ARGUMENT,
  // RESOURCE_EXHAUSTED, UNAVAILABLE) means the stream will never be called;
  // an OK result means it will get exactly one OnFinal or OnError.
  // Thread-safe.
  virtual Status Submit(GenerationRequest request, std::shared_ptr<GenerationStream> stream) = 0;

  // Cancels a queued or running request; it ends with OnFinal(kCancelled)
  // within one engine step. Unknown ids are ignored. Thread-safe.
  virtual void Cancel(const std::string& request_id) = 0;

  // After it, Submit answers UNAVAILABLE; admitted requests run to the end.
  virtual void StopAccepting() = 0;
  // Waits until no request is queued or running, or until the timeout.
  // Returns true when idle.
  virtual bool WaitIdle(std::chrono::milliseconds timeout) = 0;

  virtual const model::ModelConfig& model_config() const = 0;
  virtual int64_t kv_tokens_reserved() const = 0;  // thread-safe
  // Tokens the KV-cache budget holds in all (GetModelInfo reports used/total). Thread-safe.
  virtual int64_t kv_token_capacity() const = 0;
};

}  // namespace auroraedge::server
