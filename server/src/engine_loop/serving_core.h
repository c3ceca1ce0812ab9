#pragma once

// ServingFrontEnd as the server runs it: Submit and Cancel on any thread,
// request preparation and image decoding on a worker pool, one engine thread
// (EngineLoop) that owns the model runner and the scheduler.

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "auroraedge/model/chat_template.h"
#include "auroraedge/model/tokenizer.h"
#include "auroraedge/server/serving_front_end.h"
#include "constraint_compiler.h"
#include "engine_inbox.h"
#include "engine_loop.h"
#include "request_preparation.h"
#include "request_registry.h"
#include "worker_pool.h"

namespace auroraedge::server {

class ServingCore : public ServingFrontEnd {
 public:
  // Loads the model and the tokenizer and starts the engine thread. Throws
  // model::ModelLoadError, model::TokenizerLoadError, or
  // std::invalid_argument for bad options.
  ServingCore(const ServingOptions& options, std::shared_ptr<ServingObserver> observer);
  ~ServingCore() override;

  // One request with an image (when the model takes images) through every
  // stage; throws std::runtime_error when it fails.
  void WarmUp();

  Status Submit(GenerationRequest request, std::shared_ptr<GenerationStream> stream) override;
  Status SubmitInspection(InspectionRequest request,
                          std::shared_ptr<InspectionReceiver> receiver) override;
  void Cancel(const std::string& request_id) override;
  void StopAccepting() override;
  bool WaitIdle(std::chrono::milliseconds timeout) override;
  const model::ModelConfig& model_config() const override { return config_; }
  int64_t kv_tokens_reserved() const override { return loop_->kv_tokens_reserved(); }
  int64_t kv_token_capacity() const override { return kv_token_capacity_; }

 private:
  struct LoadedModel {
    std::unique_ptr<model::ModelRunner> runner;
    double load_seconds = 0;
  };
  static LoadedModel LoadModel(const ServingOptions& options);
  ServingCore(const ServingOptions& options, std::shared_ptr<ServingObserver> observer,
              LoadedModel loaded);

  // One call on its way to a preparation worker: a Generate or an Inspect.
  struct Call {
    std::optional<GenerationRequest> generation;
    std::optional<InspectionRequest> inspection;
    RequestCaller caller;
    std::string& request_id() {
      return generation ? generation->request_id : inspection->request_id;
    }
  };
  Status SubmitChecked(Call call, bool observed);
  // The preparation job of one request, on a worker.
  void Prepare(SequenceId id, Call call, std::shared_ptr<RequestControl> control, bool observed,
               TimePoint accepted);
  // Ends a request that never reached the engine thread.
  void Refuse(const std::string& request_id, const RequestCaller& caller, const Status& status);

  const ServingOptions options_;
  model::ModelConfig config_;
  int64_t kv_token_capacity_ = 0;
  model::Tokenizer tokenizer_;
  model::ChatTemplate chat_template_;
  std::string constraints_unavailable_;              // why constraints_ is null (before it)
  std::unique_ptr<ConstraintCompiler> constraints_;  // null: the vocabulary cannot be constrained
  RequestPreparer preparer_;
  uint64_t seed_base_;
  std::atomic<SequenceId> next_id_{1};
  std::atomic<bool> accepting_{true};
  std::atomic<int> unadmitted_{0};

  EngineInbox inbox_;
  RequestRegistry registry_;
  std::unique_ptr<EngineLoop> loop_;
  std::thread thread_;
  // Last: its jobs post to the inbox and the registry, so it stops (runs
  // what was posted, then joins) first.
  WorkerPool workers_;
};

}  // namespace auroraedge::server
