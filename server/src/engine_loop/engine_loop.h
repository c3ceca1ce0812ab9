#pragma once

// The engine thread: take the inbox -> plan (scheduler) -> execute (vision
// batch, one batched model step) -> complete the plan and stream the tokens,
// over and over. It alone owns the model runner, the scheduler and the
// requests' generation state; everything else reaches it through the inbox.
// A request's failure ends that request alone; a broken invariant of the
// books is logged, every request in flight fails, and the loop starts over
// with fresh books.
//
// Threading: Run is the engine thread's body; the counters are thread-safe.
// The inbox, registry and worker pool are shared with the front end (their
// thread-safe parts) and must outlive the loop.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "auroraedge/model/model_runner.h"
#include "auroraedge/preprocessing/preprocess.h"
#include "auroraedge/server/scheduler.h"
#include "auroraedge/server/serving_observer.h"
#include "engine_inbox.h"
#include "image_feature_cache.h"
#include "live_request.h"
#include "request_registry.h"
#include "worker_pool.h"

namespace auroraedge::server {

struct EngineLoopSettings {
  SchedulerOptions scheduler;
  preprocessing::PreprocessConfig preprocess;
  int stream_buffer_chunks = 256;         // only for the message when a stream is full
  int64_t image_feature_cache_bytes = 0;  // 0: no image-feature cache
};

class EngineLoop {
 public:
  // `unadmitted`: requests accepted by the front end and not yet admitted;
  // the loop counts each down once, when it is admitted or ends.
  EngineLoop(std::unique_ptr<model::ModelRunner> runner, EngineInbox& inbox,
             RequestRegistry& registry, WorkerPool& workers, std::atomic<int>& unadmitted,
             std::shared_ptr<ServingObserver> observer, const EngineLoopSettings& settings);

  // Runs until the inbox is closed, then ends every request left with
  // UNAVAILABLE.
  void Run();

  // Published after every round and before a stream hears of its end.
  // Thread-safe.
  int64_t kv_tokens_reserved() const { return kv_tokens_reserved_.load(); }

 private:
  // One take-plan-execute-complete round; false when it found nothing to do.
  bool RunOnce();
  void AcceptRequests(std::vector<std::unique_ptr<LiveRequest>>& requests, TimePoint now);
  // Aborts the requests whose RequestControl says cancelled.
  void ApplyCancels();
  void EnterStage(LiveRequest& live, RequestStage stage, TimePoint now);
  void AcceptPreprocessed(std::vector<PreprocessedImages>& results, TimePoint now);
  void MarkAdmitted(SequenceId id, TimePoint now);
  void StartPreprocessing(LiveRequest& live);
  void RunVisionBatch(const std::vector<SequenceId>& batch);
  void RunModelStep(const StepPlan& plan);
  bool StartInRunner(LiveRequest& live);
  void AcceptToken(LiveRequest& live, model::RowResult& result, TimePoint now);
  // An inspection's label scores: its result, and its end.
  void AcceptScores(LiveRequest& live, const model::RowResult& result, TimePoint now);
  // Delivers an ended request's final message or error to its caller.
  void Deliver(LiveRequest& live, std::optional<FinishReason> reason, const Status& status,
               const StageTimings& timings);
  RequestRecord Record(const LiveRequest& live, std::optional<FinishReason> reason,
                       const Status& status, const StageTimings& timings) const;
  void ReportLoad();

  LiveRequest* Find(SequenceId id);
  void EndWithFinal(SequenceId id, FinishReason reason);
  void EndWithError(SequenceId id, const Status& status);
  void End(SequenceId id, std::optional<FinishReason> reason, const Status& status);
  void EndAll(const Status& status);

  std::unique_ptr<model::ModelRunner> runner_;
  const EngineLoopSettings settings_;
  std::unique_ptr<Scheduler> scheduler_;
  EngineInbox& inbox_;
  RequestRegistry& registry_;
  WorkerPool& workers_;
  std::atomic<int>& unadmitted_;
  std::shared_ptr<ServingObserver> observer_;

  std::unordered_map<SequenceId, std::unique_ptr<LiveRequest>> live_;
  ImageFeatureCache image_features_;
  std::atomic<int64_t> kv_tokens_reserved_{0};
};

}  // namespace auroraedge::server
