#pragma once

// The engine thread: plan (scheduler) -> execute (vision batch, one batched
// model step) -> update (sample, detokenise, stream, finish), over and over.
// It alone owns the model engine and the requests' generation state.
//
// Threading: Run is the engine thread's body; kv_tokens_reserved is
// thread-safe. The scheduler, inbox and registry are shared with Submit and
// Cancel (their thread-safe parts) and must outlive the loop.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "auroraedge/model/engine.h"
#include "auroraedge/preprocessing/preprocess.h"
#include "auroraedge/server/scheduler.h"
#include "auroraedge/server/serving_observer.h"
#include "engine_inbox.h"
#include "live_request.h"
#include "request_registry.h"
#include "worker_pool.h"

namespace auroraedge::server {

struct EngineLoopSettings {
  preprocessing::PreprocessConfig preprocess;
  int preprocessing_threads = 2;
  int stream_buffer_chunks = 256;  // only for the message when a stream is full
  int64_t kv_bytes_per_token = 0;  // for the load report
};

class EngineLoop {
 public:
  EngineLoop(std::unique_ptr<model::Engine> engine, Scheduler& scheduler, EngineInbox& inbox,
             RequestRegistry& registry, std::shared_ptr<ServingObserver> observer,
             const EngineLoopSettings& settings);

  // Runs until the inbox is closed, then ends every request left with
  // UNAVAILABLE.
  void Run();

  // The model engine's count, published after every round and before a
  // stream hears of its end. Thread-safe.
  int64_t kv_tokens_reserved() const { return kv_tokens_reserved_.load(); }

 private:
  // One plan-execute-update round; false when it found nothing to do.
  bool RunOnce();
  void AddRequests(std::vector<std::unique_ptr<LiveRequest>>& requests);
  void AcceptPreprocessed(std::vector<PreprocessedImages>& results, TimePoint now);
  void MarkAdmitted(SequenceId id, TimePoint now);
  void StartPreprocessing(LiveRequest& live);
  void RunVisionBatch(const std::vector<SequenceId>& batch);
  void RunModelStep(const StepPlan& plan);
  std::optional<model::StepItem> PrefillItem(const PrefillChunk& chunk);
  void AcceptLogits(LiveRequest& live, std::vector<float>& logits, TimePoint now);
  void ReportLoad();

  void EndWithFinal(SequenceId id, FinishReason reason);
  void EndWithError(SequenceId id, const Status& status);
  void End(SequenceId id, std::optional<FinishReason> reason, const Status& status);
  void EndAll(const Status& status);

  std::unique_ptr<model::Engine> engine_;
  Scheduler& scheduler_;
  EngineInbox& inbox_;
  RequestRegistry& registry_;
  std::shared_ptr<ServingObserver> observer_;
  EngineLoopSettings settings_;

  std::unordered_map<SequenceId, std::unique_ptr<LiveRequest>> live_;
  std::atomic<int64_t> kv_tokens_reserved_{0};
  // Last: its jobs post to the inbox, so it stops (joins) first.
  WorkerPool preprocessing_pool_;
};

}  // namespace auroraedge::server
