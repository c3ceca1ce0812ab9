#pragma once

// The serving core as the gRPC layer sees it: a thread-safe front over the
// preparation workers and the engine thread (which owns the model runner,
// the scheduler and the KV storage). No gRPC and no LibTorch in this header.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "auroraedge/model/model_runner.h"
#include "auroraedge/preprocessing/preprocess.h"
#include "auroraedge/server/generation.h"
#include "auroraedge/server/inspection.h"
#include "auroraedge/server/scheduler.h"
#include "auroraedge/server/serving_observer.h"
#include "auroraedge/server/status.h"

namespace auroraedge::server {

struct ServingOptions {
  // engine.max_sequences: the requests that run at once (the decode batch).
  model::EngineOptions engine;
  SchedulerOptions scheduling;
  int preprocessing_threads = 2;           // workers that prepare requests and decode images
  int stream_buffer_chunks = 256;          // per-stream bound, see GenerationStream
  preprocessing::PreprocessConfig limits;  // size limits; model constants come from the model
  int max_images_per_request = 0;          // 0: the model's limit
  int max_prompt_bytes = 64 * 1024;
  // Encoded images' features kept by the content hash of their patches
  // (least recently used dropped first), so that a golden reference sent
  // with every request is encoded once. 0: no cache.
  int64_t image_feature_cache_bytes = 64LL << 20;
  // Compiled constraints (choice, json_schema) kept for reuse.
  int constraint_cache_entries = 64;
};

class ServingFrontEnd {
 public:
  // Loads the model (throws model::ModelLoadError), runs a warm-up inference
  // and starts the engine thread.
  static std::unique_ptr<ServingFrontEnd> Start(const ServingOptions& options,
                                                std::shared_ptr<ServingObserver> observer);
  virtual ~ServingFrontEnd() = default;  // stops the engine; in-flight streams get UNAVAILABLE

  // Accepts a request for preparation on a worker (tokenizing, validating),
  // then the engine thread. A non-OK result (INVALID_ARGUMENT for a request
  // id in flight, RESOURCE_EXHAUSTED beyond max_waiting_requests,
  // UNAVAILABLE) means the stream will never be called; an OK result means
  // it gets exactly one OnFinal or OnError, from a worker or the engine
  // thread (a request its preparation refuses ends with INVALID_ARGUMENT
  // there). Cheap: never tokenizes, never blocks. Thread-safe.
  virtual Status Submit(GenerationRequest request, std::shared_ptr<GenerationStream> stream) = 0;

  // The same for an Inspect call: the same preparation (validation),
  // queue, scheduler, priorities, deadlines and limits; the receiver gets
  // exactly one OnResult or OnError when the result is OK. Cancel takes
  // its request_id. Thread-safe.
  virtual Status SubmitInspection(InspectionRequest request,
                                  std::shared_ptr<InspectionReceiver> receiver) = 0;

  // Cancels a request in any stage; it ends with OnFinal(kCancelled) within
  // one engine step. Unknown ids are ignored. Thread-safe.
  virtual void Cancel(const std::string& request_id) = 0;

  // After it, Submit answers UNAVAILABLE; accepted requests run to the end.
  virtual void StopAccepting() = 0;
  // Waits until no accepted request is left, or until the timeout. Returns
  // true when idle.
  virtual bool WaitIdle(std::chrono::milliseconds timeout) = 0;

  virtual const model::ModelConfig& model_config() const = 0;
  virtual int64_t kv_tokens_reserved() const = 0;  // thread-safe
  // Tokens the KV storage holds in all (GetModelInfo reports used/total). Thread-safe.
  virtual int64_t kv_token_capacity() const = 0;
};

}  // namespace auroraedge::server
