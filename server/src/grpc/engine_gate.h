#pragma once

// The one door from the gRPC calls to the models. It holds the model every
// new call gets (the current ServingFrontEnd) and, after a model change,
// the replaced ones until their accepted requests have ended, so that a
// Cancel still finds the request on the model that owns it. Before the
// first model is installed (loading) and after StopAccepting (draining)
// every new call is turned away with UNAVAILABLE; it counts the Generate
// and Inspect calls in flight, in total and per client address, so that a drain can
// wait for their last write and no client can hold more calls than its
// share. Thread-safe; plain C++.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "auroraedge/server/serving_front_end.h"

namespace auroraedge::server::grpc_api {

// One loaded model behind the gate. Destroying it stops its engine: streams
// still running get UNAVAILABLE.
struct ServedModel {
  ServedModel(std::unique_ptr<ServingFrontEnd> engine_in, ServingOptions options_in)
      : engine(std::move(engine_in)), options(std::move(options_in)) {}

  std::unique_ptr<ServingFrontEnd> engine;
  ServingOptions options;
  uint64_t id = 0;  // 1, 2, ... in the order installed; set by Install
  std::chrono::steady_clock::time_point replaced_at{};  // set when another replaced it
};

// What GetModelInfo reports, read under the gate's lock.
struct EngineSnapshot {
  model::ModelConfig config;
  ServingOptions options;
  int64_t kv_tokens_used = 0;
  int64_t kv_tokens_total = 0;
};

// 0: no limit.
struct CallLimits {
  int max_calls = 0;           // Generate and Inspect calls in flight, all clients together
  int max_calls_per_peer = 0;  // ... from one client IP address
};

class EngineGate {
 public:
  explicit EngineGate(CallLimits limits = {}) : limits_(limits) {}

  // Makes `model` the one every new call gets, at once. The model it
  // replaces stops accepting and goes to `*replaced` (null for the first);
  // it stays behind the gate, for Cancel and StopAccepting, until Release.
  // UNAVAILABLE when draining: then nothing changes.
  Status Install(std::shared_ptr<ServedModel> model, std::shared_ptr<ServedModel>* replaced);
  // Forgets a replaced model whose requests have all ended; the caller's
  // reference is then the last one.
  void Release(const ServedModel* model);
  // New calls get UNAVAILABLE from now on, Install too; no model admits
  // anything more.
  void StopAccepting();
  // Forgets every model and hands them over (destroying them stops their
  // engines); afterwards Submit/Cancel/Snapshot touch none.
  std::vector<std::shared_ptr<ServedModel>> Detach();

  // UNAVAILABLE (loading or draining) or the current model's own answer.
  // `*model_id` is set to the id of the model that takes the request before
  // the model sees it (the caller may be gone once it has): Cancel's
  // first argument.
  Status Submit(GenerationRequest request, std::shared_ptr<GenerationStream> stream,
                std::atomic<uint64_t>* model_id);
  // The same for an inspection.
  Status SubmitInspection(InspectionRequest request, std::shared_ptr<InspectionReceiver> receiver,
                          std::atomic<uint64_t>* model_id);
  // Cancels the request on the model that took it, if still behind the gate.
  void Cancel(uint64_t model_id, const std::string& request_id);
  // The current model. UNAVAILABLE while loading or draining.
  Status Snapshot(EngineSnapshot* out) const;
  // OK while a model serves; UNAVAILABLE while loading or draining.
  Status CheckServing() const;
  // Per-stream chunk bound; valid once a model is installed.
  int stream_buffer_chunks() const;

  // Calls in flight. CallStarted when a call begins, with gRPC's peer
  // ("ipv4:10.0.0.7:41234"; the port is ignored): OK and counted, or
  // RESOURCE_EXHAUSTED naming the limit and not counted. An admitted call
  // ends with CallEnded(peer) when gRPC is done with it. WaitCallsEnded
  // returns true when none is left in time.
  Status CallStarted(const std::string& peer);
  void CallEnded(const std::string& peer);
  bool WaitCallsEnded(std::chrono::steady_clock::time_point deadline);
  // The number of calls ended so far when none is in flight; nullopt while
  // some are.
  std::optional<uint64_t> EndedCallsIfIdle() const;

 private:
  Status Unavailable() const;

  mutable std::shared_mutex models_mutex_;
  std::shared_ptr<ServedModel> current_;                // guarded by models_mutex_
  std::vector<std::shared_ptr<ServedModel>> replaced_;  // guarded by models_mutex_
  uint64_t installed_ = 0;                              // guarded by models_mutex_
  bool draining_ = false;                               // guarded by models_mutex_

  const CallLimits limits_;
  mutable std::mutex calls_mutex_;
  std::condition_variable calls_ended_;
  int calls_in_flight_ = 0;                   // guarded by calls_mutex_
  uint64_t calls_ended_count_ = 0;            // guarded by calls_mutex_
  std::map<std::string, int> calls_by_host_;  // guarded by calls_mutex_
};

}  // namespace auroraedge::server::grpc_api
