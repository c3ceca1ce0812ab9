#pragma once

// The one door from the gRPC calls to the InferenceEngine. Before the
// engine is attached (loading) and after StopAccepting (draining) every new
// call is turned away with UNAVAILABLE; it counts the calls in flight so
// that a drain can wait for their last write. Thread-safe; plain C++.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "auroraedge/server/inference_engine.h"

namespace auroraedge::server::grpc_api {

// What GetModelInfo reports, read under the gate's lock.
struct EngineSnapshot {
  model::ModelConfig config;
  ServingOptions options;
  int64_t kv_tokens_used = 0;
  int64_t kv_tokens_total = 0;
};

class EngineGate {
 public:
  // `engine` (not owned) must stay valid until Detach returns.
  void Attach(InferenceEngine* engine, const ServingOptions& options);
  // New calls get UNAVAILABLE from now on; the engine stops admitting.
  void StopAccepting();
  // Forgets the engine; afterwards Submit/Cancel/Snapshot never touch it.
  void Detach();

  // UNAVAILABLE (loading or draining) or the engine's own answer.
  Status Submit(GenerationRequest request, std::shared_ptr<GenerationStream> stream);
  void Cancel(const std::string& request_id);
  // UNAVAILABLE while loading or draining.
  Status Snapshot(EngineSnapshot* out) const;
  // Per-stream chunk bound and the vocabulary size; valid once attached.
  int stream_buffer_chunks() const;
  int vocab_size() const;

  // Calls in flight: CallStarted when a call begins, CallEnded when gRPC is
  // done with it. WaitCallsEnded returns true when none is left in time.
  void CallStarted();
  void CallEnded();
  bool WaitCallsEnded(std::chrono::steady_clock::time_point deadline);

 private:
  Status Unavailable() const;

  mutable std::shared_mutex engine_mutex_;
  InferenceEngine* engine_ = nullptr;  // guarded by engine_mutex_
  ServingOptions options_;             // guarded by engine_mutex_
  bool draining_ = false;              // guarded by engine_mutex_

  std::mutex calls_mutex_;
  std::condition_variable calls_ended_;
  int calls_in_flight_ = 0;  // guarded by calls_mutex_
};

}  // namespace auroraedge::server::grpc_api
