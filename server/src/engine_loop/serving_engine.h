#pragma once

// InferenceEngine as the server runs it: Submit and Cancel on any thread,
// one engine thread (EngineLoop) that owns the model, preprocessing workers.

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "auroraedge/model/chat_template.h"
#include "auroraedge/model/tokenizer.h"
#include "auroraedge/server/inference_engine.h"
#include "auroraedge/server/scheduler.h"
#include "engine_inbox.h"
#include "engine_loop.h"
#include "request_registry.h"

namespace auroraedge::server {

class ServingEngine : public InferenceEngine {
 public:
  // Loads the model and the tokenizer and starts the engine thread. Throws
  // model::ModelLoadError, model::TokenizerLoadError, or
  // std::invalid_argument for bad options.
  ServingEngine(const ServingOptions& options, std::shared_ptr<ServingObserver> observer);
  ~ServingEngine() override;

  // One request with an image (when the model takes images) through every
  // stage; throws std::runtime_error when it fails.
  void WarmUp();

  Status Submit(GenerationRequest request, std::shared_ptr<GenerationStream> stream) override;
  void Cancel(const std::string& request_id) override;
  void StopAccepting() override;
  bool WaitIdle(std::chrono::milliseconds timeout) override;
  const model::ModelConfig& model_config() const override { return config_; }
  int64_t kv_tokens_reserved() const override { return loop_->kv_tokens_reserved(); }
  int64_t kv_token_capacity() const override { return kv_token_capacity_; }

 private:
  struct LoadedModel {
    std::unique_ptr<model::Engine> engine;
    double load_seconds = 0;
  };
  static LoadedModel LoadModel(const model::EngineOptions& options);
  ServingEngine(const ServingOptions& options, std::shared_ptr<ServingObserver> observer,
                LoadedModel loaded);

  Status SubmitChecked(GenerationRequest request, std::shared_ptr<GenerationStream> stream,
                       bool observed);
  std::unique_ptr<LiveRequest> Prepare(GenerationRequest request,
                                       std::shared_ptr<GenerationStream> stream);

  const ServingOptions options_;
  model::ModelConfig config_;
  int max_images_ = 0;
  int64_t kv_token_capacity_ = 0;
  model::Tokenizer tokenizer_;
  model::ChatTemplate chat_template_;
  uint64_t seed_base_;
  std::atomic<SequenceId> next_id_{1};
  std::atomic<bool> accepting_{true};

  EngineInbox inbox_;
  RequestRegistry registry_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<EngineLoop> loop_;
  std::thread thread_;
};

}  // namespace auroraedge::server
