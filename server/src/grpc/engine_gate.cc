#include "engine_gate.h"

#include <algorithm>
#include <utility>

namespace auroraedge::server::grpc_api {
namespace {

// "ipv4:10.0.0.7:41234" -> "ipv4:10.0.0.7", "ipv6:[::1]:41234" ->
// "ipv6:[::1]"; anything without a numeric port stays as it is.
std::string PeerHost(const std::string& peer) {
  const size_t colon = peer.rfind(':');
  if (colon == std::string::npos || colon + 1 == peer.size() ||
      peer.find_first_not_of("0123456789", colon + 1) != std::string::npos) {
    return peer;
  }
  return peer.substr(0, colon);
}

}  // namespace

Status EngineGate::Install(std::shared_ptr<ServedModel> model,
                           std::shared_ptr<ServedModel>* replaced) {
  std::unique_lock<std::shared_mutex> lock(models_mutex_);
  replaced->reset();
  if (draining_) return Unavailable();
  model->id = ++installed_;
  if (current_ != nullptr) {
    // Under the lock: no Submit can be on its way to it any more.
    current_->engine->StopAccepting();
    current_->replaced_at = std::chrono::steady_clock::now();
    replaced_.push_back(current_);
    *replaced = std::move(current_);
  }
  current_ = std::move(model);
  return Status::Ok();
}

void EngineGate::Release(const ServedModel* model) {
  std::unique_lock<std::shared_mutex> lock(models_mutex_);
  replaced_.erase(std::remove_if(replaced_.begin(), replaced_.end(),
                                 [model](const auto& held) { return held.get() == model; }),
                  replaced_.end());
}

void EngineGate::StopAccepting() {
  std::unique_lock<std::shared_mutex> lock(models_mutex_);
  draining_ = true;
  if (current_ != nullptr) current_->engine->StopAccepting();
  // The replaced ones stopped at Install.
}

std::vector<std::shared_ptr<ServedModel>> EngineGate::Detach() {
  std::unique_lock<std::shared_mutex> lock(models_mutex_);
  draining_ = true;
  std::vector<std::shared_ptr<ServedModel>> models = std::move(replaced_);
  replaced_.clear();
  if (current_ != nullptr) models.push_back(std::move(current_));
  return models;
}

Status EngineGate::Unavailable() const {
  if (draining_)
    return {StatusCode::kUnavailable, "the server is shutting down; retry on another replica"};
  return {StatusCode::kUnavailable, "the model is still loading; retry shortly"};
}

Status EngineGate::Submit(GenerationRequest request, std::shared_ptr<GenerationStream> stream,
                          std::atomic<uint64_t>* model_id) {
  // Shared: submits run side by side; Install waits for those under way.
  std::shared_lock<std::shared_mutex> lock(models_mutex_);
  if (current_ == nullptr || draining_) return Unavailable();
  model_id->store(current_->id);
  return current_->engine->Submit(std::move(request), std::move(stream));
}

Status EngineGate::SubmitInspection(InspectionRequest request,
                                    std::shared_ptr<InspectionReceiver> receiver,
                                    std::atomic<uint64_t>* model_id) {
  std::shared_lock<std::shared_mutex> lock(models_mutex_);
  if (current_ == nullptr || draining_) return Unavailable();
  model_id->store(current_->id);
  return current_->engine->SubmitInspection(std::move(request), std::move(receiver));
}

void EngineGate::Cancel(uint64_t model_id, const std::string& request_id) {
  std::shared_lock<std::shared_mutex> lock(models_mutex_);
  if (current_ != nullptr && current_->id == model_id) {
    current_->engine->Cancel(request_id);
    return;
  }
  for (const auto& model : replaced_) {
    if (model->id == model_id) model->engine->Cancel(request_id);
  }
}

Status EngineGate::Snapshot(EngineSnapshot* out) const {
  std::shared_lock<std::shared_mutex> lock(models_mutex_);
  if (current_ == nullptr || draining_) return Unavailable();
  out->config = current_->engine->model_config();
  out->options = current_->options;
  out->kv_tokens_used = current_->engine->kv_tokens_reserved();
  out->kv_tokens_total = current_->engine->kv_token_capacity();
  return Status::Ok();
}

Status EngineGate::CheckServing() const {
  std::shared_lock<std::shared_mutex> lock(models_mutex_);
  return current_ == nullptr || draining_ ? Unavailable() : Status::Ok();
}

int EngineGate::stream_buffer_chunks() const {
  std::shared_lock<std::shared_mutex> lock(models_mutex_);
  return current_ != nullptr ? current_->options.stream_buffer_chunks
                             : ServingOptions{}.stream_buffer_chunks;
}

Status EngineGate::CallStarted(const std::string& peer) {
  const std::string host = PeerHost(peer);
  std::lock_guard<std::mutex> lock(calls_mutex_);
  if (limits_.max_calls > 0 && calls_in_flight_ >= limits_.max_calls) {
    return {StatusCode::kResourceExhausted,
            "the server has " + std::to_string(calls_in_flight_) + " calls in flight (max_calls " +
                std::to_string(limits_.max_calls) + "); retry later"};
  }
  int& from_host = calls_by_host_[host];
  if (limits_.max_calls_per_peer > 0 && from_host >= limits_.max_calls_per_peer) {
    return {StatusCode::kResourceExhausted,
            host + " has " + std::to_string(from_host) + " calls in flight (max_calls_per_peer " +
                std::to_string(limits_.max_calls_per_peer) + "); retry when one has ended"};
  }
  ++from_host;
  ++calls_in_flight_;
  return Status::Ok();
}

void EngineGate::CallEnded(const std::string& peer) {
  const std::string host = PeerHost(peer);
  std::lock_guard<std::mutex> lock(calls_mutex_);
  const auto it = calls_by_host_.find(host);
  if (it != calls_by_host_.end() && --it->second == 0) calls_by_host_.erase(it);
  ++calls_ended_count_;
  if (--calls_in_flight_ == 0) calls_ended_.notify_all();
}

std::optional<uint64_t> EngineGate::EndedCallsIfIdle() const {
  std::lock_guard<std::mutex> lock(calls_mutex_);
  if (calls_in_flight_ > 0) return std::nullopt;
  return calls_ended_count_;
}

bool EngineGate::WaitCallsEnded(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(calls_mutex_);
  return calls_ended_.wait_until(lock, deadline, [this] { return calls_in_flight_ == 0; });
}

}  // namespace auroraedge::server::grpc_api
