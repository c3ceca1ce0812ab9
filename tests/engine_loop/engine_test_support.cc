#include "engine_test_support.h"

#include <catch2/catch.hpp>

namespace auroraedge::server::testing {

bool RecordingStream::OnChunk(GenerationChunk chunk) {
  int index = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    outcome_.tokens.insert(outcome_.tokens.end(), chunk.token_ids.begin(), chunk.token_ids.end());
    outcome_.text += chunk.text;
    index = outcome_.chunks++;
  }
  return hook_ ? hook_(index) : true;
}

void RecordingStream::OnFinal(const GenerationFinal& final) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++outcome_.ends;
    outcome_.final = final;
  }
  ended_.notify_all();
}

void RecordingStream::OnError(const Status& status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++outcome_.ends;
    outcome_.error = status;
  }
  ended_.notify_all();
}

Outcome RecordingStream::Wait(std::chrono::seconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  const bool ended = ended_.wait_for(lock, timeout, [this] { return outcome_.ends > 0; });
  REQUIRE(ended);
  return outcome_;
}

Outcome RecordingStream::Snapshot() {
  std::lock_guard<std::mutex> lock(mu_);
  return outcome_;
}

void StepObserver::SetHook(StepHook hook) {
  std::lock_guard<std::mutex> lock(mu_);
  hook_ = std::move(hook);
  steps_ = 0;
}

int StepObserver::max_decode_batch() const {
  std::lock_guard<std::mutex> lock(mu_);
  return max_decode_batch_;
}

void StepObserver::OnRequestFinished(const RequestRecord& record) {
  std::lock_guard<std::mutex> lock(mu_);
  finished_.push_back(record);
}

void StepObserver::OnStep(const StepRecord& step) {
  StepHook hook;
  int index = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    max_decode_batch_ = std::max(max_decode_batch_, step.decode_batch_size);
    hook = hook_;
    index = steps_++;
  }
  if (hook) hook(index);
}

std::vector<RequestRecord> StepObserver::finished() const {
  std::lock_guard<std::mutex> lock(mu_);
  return finished_;
}

ServingOptions TestOptions() {
  ServingOptions options;
  options.engine.model_dir = AURORAEDGE_TEST_MODEL_DIR;
  options.engine.intra_op_threads = 1;
  options.engine.kv_cache_bytes = 64LL << 20;
  options.scheduling.preprocessing_threads = 1;
  return options;
}

GenerationRequest TextRequest(const std::string& id, const std::string& prompt,
                              int max_new_tokens) {
  GenerationRequest request;
  request.request_id = id;
  request.prompt = prompt;
  request.sampling.max_new_tokens = max_new_tokens;
  request.sampling.temperature = 0.0f;
  return request;
}

GenerationRequest ImageRequest(const std::string& id, const std::string& prompt, int max_new_tokens,
                               int images, int width, int height, int seed) {
  GenerationRequest request = TextRequest(id, prompt, max_new_tokens);
  for (int i = 0; i < images; ++i) {
    preprocessing::RawFrame frame;
    frame.width = width;
    frame.height = height;
    frame.format = preprocessing::PixelFormat::kRgb8;
    frame.data.resize(static_cast<size_t>(width) * height * 3);
    for (size_t b = 0; b < frame.data.size(); ++b) {
      frame.data[b] = static_cast<char>((b * (7 + seed) + i * 31) % 251);
    }
    request.images.push_back({"", frame, std::nullopt});
  }
  return request;
}

Outcome Run(InferenceEngine& engine, GenerationRequest request) {
  auto stream = std::make_shared<RecordingStream>();
  const Status status = engine.Submit(std::move(request), stream);
  INFO(status.message);
  REQUIRE(status.ok());
  return stream->Wait();
}

}  // namespace auroraedge::server::testing
