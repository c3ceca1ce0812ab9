#pragma once

// Streams, observers and requests for the engine loop's tests, which run the
// real engine on the small model the build generates.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "auroraedge/server/serving_front_end.h"

namespace auroraedge::server::testing {

// What one stream received.
struct Outcome {
  std::vector<int32_t> tokens;
  std::string text;
  int chunks = 0;
  int ends = 0;  // OnFinal + OnError calls; exactly 1 when the contract holds
  std::optional<GenerationFinal> final;
  std::optional<Status> error;
};

class RecordingStream : public GenerationStream {
 public:
  // Called on the engine thread for every chunk, after it is recorded;
  // returns what OnChunk answers (false: "buffer full").
  using ChunkHook = std::function<bool(int chunk_index)>;
  explicit RecordingStream(ChunkHook hook = nullptr) : hook_(std::move(hook)) {}

  bool OnChunk(GenerationChunk chunk) override;
  void OnFinal(const GenerationFinal& final) override;
  void OnError(const Status& status) override;

  // Waits for the end of the stream (fails the test after `timeout`).
  Outcome Wait(std::chrono::seconds timeout = std::chrono::seconds(120));
  Outcome Snapshot();

 private:
  ChunkHook hook_;
  std::mutex mu_;
  std::condition_variable ended_;
  Outcome outcome_;
};

// Runs hooks on the engine thread: after every model step, and as a request
// enters a stage; keeps the largest decode batch seen. A hook that cancels
// or sleeps acts at a known point of a request's life.
class StepObserver : public ServingObserver {
 public:
  using StepHook = std::function<void(int step_index)>;
  using StageHook = std::function<void(const std::string& request_id, RequestStage stage)>;
  void SetHook(StepHook hook);
  void SetStageHook(StageHook hook);
  int max_decode_batch() const;

  void OnRequestFinished(const RequestRecord& record) override;
  void OnVisionBatch(int images, double seconds) override {}
  void OnStep(const StepRecord& step) override;
  void OnLoad(const LoadRecord& load) override {}
  void OnStage(const std::string& request_id, RequestStage stage) override;
  void OnImageFeatureLookups(int hits, int misses, int64_t cached_bytes) override;
  // Image-feature cache lookups so far: hits, misses.
  std::pair<int, int> image_lookups() const;

  std::vector<RequestRecord> finished() const;

 private:
  mutable std::mutex mu_;
  StepHook hook_;
  StageHook stage_hook_;
  int steps_ = 0;
  int max_decode_batch_ = 0;
  int image_hits_ = 0;
  int image_misses_ = 0;
  std::vector<RequestRecord> finished_;
};

// What one Inspect call received.
struct InspectionOutcome {
  int ends = 0;  // exactly 1 when the contract holds
  std::optional<InspectionResult> result;
  std::optional<Status> error;
};

class RecordingReceiver : public InspectionReceiver {
 public:
  void OnResult(const InspectionResult& result) override;
  void OnError(const Status& status) override;
  InspectionOutcome Wait(std::chrono::seconds timeout = std::chrono::seconds(120));

 private:
  std::mutex mu_;
  std::condition_variable ended_;
  InspectionOutcome outcome_;
};

ServingOptions TestOptions();

GenerationRequest TextRequest(const std::string& id, const std::string& prompt, int max_new_tokens);
// `images` raw RGB frames of width x height with a pattern that depends on
// `seed`.
GenerationRequest ImageRequest(const std::string& id, const std::string& prompt, int max_new_tokens,
                               int images, int width = 64, int height = 48, int seed = 0);

// An Inspect call with `images` raw frames as ImageRequest makes them.
InspectionRequest Inspection(const std::string& id, const std::string& prompt,
                             std::vector<std::string> labels, int images = 0, int seed = 0);

// Submits and waits; REQUIREs that Submit accepted it.
Outcome Run(ServingFrontEnd& engine, GenerationRequest request);
InspectionOutcome Run(ServingFrontEnd& engine, InspectionRequest request);

// Submits, expects it accepted, and waits for the stream to end with an
// error: what the request's preparation refuses.
Status Refusal(ServingFrontEnd& engine, GenerationRequest request);
Status Refusal(ServingFrontEnd& engine, InspectionRequest request);

}  // namespace auroraedge::server::testing
