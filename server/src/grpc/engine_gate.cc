#include "engine_gate.h"

#include <utility>

namespace auroraedge::server::grpc_api {

void EngineGate::Attach(InferenceEngine* engine, const ServingOptions& options) {
  std::unique_lock<std::shared_mutex> lock(engine_mutex_);
  engine_ = engine;
  options_ = options;
}

void EngineGate::StopAccepting() {
  std::unique_lock<std::shared_mutex> lock(engine_mutex_);
  draining_ = true;
  if (engine_ != nullptr) engine_->StopAccepting();
}

void EngineGate::Detach() {
  std::unique_lock<std::shared_mutex> lock(engine_mutex_);
  draining_ = true;
  engine_ = nullptr;
}

Status EngineGate::Unavailable() const {
  if (draining_)
    return {StatusCode::kUnavailable, "the server is shutting down; retry on another replica"};
  return {StatusCode::kUnavailable, "the model is still loading; retry shortly"};
}

Status EngineGate::Submit(GenerationRequest request, std::shared_ptr<GenerationStream> stream) {
  std::shared_lock<std::shared_mutex> lock(engine_mutex_);
  if (engine_ == nullptr || draining_) return Unavailable();
  return engine_->Submit(std::move(request), std::move(stream));
}

void EngineGate::Cancel(const std::string& request_id) {
  std::shared_lock<std::shared_mutex> lock(engine_mutex_);
  if (engine_ != nullptr) engine_->Cancel(request_id);
}

Status EngineGate::Snapshot(EngineSnapshot* out) const {
  std::shared_lock<std::shared_mutex> lock(engine_mutex_);
  if (engine_ == nullptr || draining_) return Unavailable();
  out->config = engine_->model_config();
  out->options = options_;
  out->kv_tokens_used = engine_->kv_tokens_reserved();
  out->kv_tokens_total = engine_->kv_token_capacity();
  return Status::Ok();
}

int EngineGate::stream_buffer_chunks() const {
  std::shared_lock<std::shared_mutex> lock(engine_mutex_);
  return options_.scheduling.stream_buffer_chunks;
}

int EngineGate::vocab_size() const {
  std::shared_lock<std::shared_mutex> lock(engine_mutex_);
  return engine_ == nullptr ? 0 : engine_->model_config().decoder.vocab_size;
}

void EngineGate::CallStarted() {
  std::lock_guard<std::mutex> lock(calls_mutex_);
  ++calls_in_flight_;
}

void EngineGate::CallEnded() {
  std::lock_guard<std::mutex> lock(calls_mutex_);
  if (--calls_in_flight_ == 0) calls_ended_.notify_all();
}

bool EngineGate::WaitCallsEnded(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(calls_mutex_);
  return calls_ended_.wait_until(lock, deadline, [this] { return calls_in_flight_ == 0; });
}

}  // namespace auroraedge::server::grpc_api
