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
#include <vector>

#include "auroraedge/server/inference_engine.h"

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

// Runs a hook after every model step, on the engine thread, and keeps the
// largest decode batch seen.
class StepObserver : public ServingObserver {
 public:
  using StepHook = std::function<void(int step_index)>;
  void SetHook(StepHook hook);
  int max_decode_batch() const;

  void OnRequestFinished(const RequestRecord& record) override;
  void OnVisionBatch(int images, double seconds) override {}
  void OnStep(const StepRecord& step) override;
  void OnLoad(const LoadRecord& load) override {}

  std::vector<RequestRecord> finished() const;

 private:
  mutable std::mutex mu_;
  StepHook hook_;
  int steps_ = 0;
  int max_decode_batch_ = 0;
  std::vector<RequestRecord> finished_;
};

ServingOptions TestOptions();

GenerationRequest TextRequest(const std::string& id, const std::string& prompt, int max_new_tokens);
// `images` raw RGB frames of width x height with a pattern that depends on
// `seed`.
GenerationRequest ImageRequest(const std::string& id, const std::string& prompt, int max_new_tokens,
                               int images, int width = 64, int height = 48, int seed = 0);

// Submits and waits; REQUIREs that Submit accepted it.
Outcome Run(InferenceEngine& engine, GenerationRequest request);

}  // namespace auroraedge::server::testing
