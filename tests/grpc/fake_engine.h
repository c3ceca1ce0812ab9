#pragma once

// An ServingFrontEnd for the gRPC layer's tests: it keeps what is
// submitted and cancelled, and the test writes each stream's chunks and end
// (or each inspection's result) itself. Thread-safe, like the real one.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "auroraedge/server/serving_front_end.h"

namespace auroraedge::server::testing {

class FakeEngine : public ServingFrontEnd {
 public:
  FakeEngine() {
    config_.name = "fake";
    config_.version = "1";
    config_.context_length = 512;
    config_.decoder.vocab_size = 1000;
  }

  Status Submit(GenerationRequest request, std::shared_ptr<GenerationStream> stream) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!answer.ok()) return answer;
    requests_.push_back(std::move(request));
    streams_.push_back(std::move(stream));
    changed_.notify_all();
    return Status::Ok();
  }
  Status SubmitInspection(InspectionRequest request,
                          std::shared_ptr<InspectionReceiver> receiver) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!answer.ok()) return answer;
    inspections_.push_back(std::move(request));
    receivers_.push_back(std::move(receiver));
    changed_.notify_all();
    return Status::Ok();
  }
  void Cancel(const std::string& request_id) override {
    std::lock_guard<std::mutex> lock(mutex_);
    cancelled_.push_back(request_id);
    changed_.notify_all();
  }
  void StopAccepting() override {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_accepting_ = true;
  }
  bool WaitIdle(std::chrono::milliseconds) override { return true; }
  const model::ModelConfig& model_config() const override { return config_; }
  int64_t kv_tokens_reserved() const override { return 0; }
  int64_t kv_token_capacity() const override { return 4096; }

  // Blocks until `count` requests were submitted (or 30 s); returns the
  // stream of the last one waited for, or null.
  std::shared_ptr<GenerationStream> WaitSubmitted(size_t count) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_for(lock, std::chrono::seconds(30), [&] { return streams_.size() >= count; });
    return streams_.size() >= count ? streams_[count - 1] : nullptr;
  }
  // As WaitSubmitted, for inspections: the receiver of the last one.
  std::shared_ptr<InspectionReceiver> WaitInspections(size_t count) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_for(lock, std::chrono::seconds(30), [&] { return receivers_.size() >= count; });
    return receivers_.size() >= count ? receivers_[count - 1] : nullptr;
  }
  bool WaitCancelled(const std::string& request_id) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(30), [&] {
      for (const std::string& id : cancelled_) {
        if (id == request_id) return true;
      }
      return false;
    });
  }
  std::vector<GenerationRequest> requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }
  bool stopped_accepting() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stopped_accepting_;
  }

  std::vector<InspectionRequest> inspections() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return inspections_;
  }

  Status answer = Status::Ok();  // what Submit(Inspection) answers; set before the calls

 private:
  model::ModelConfig config_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<GenerationRequest> requests_;
  std::vector<std::shared_ptr<GenerationStream>> streams_;
  std::vector<InspectionRequest> inspections_;
  std::vector<std::shared_ptr<InspectionReceiver>> receivers_;
  std::vector<std::string> cancelled_;
  bool stopped_accepting_ = false;
};

}  // namespace auroraedge::server::testing
