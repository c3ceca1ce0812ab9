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

void StepObserver::SetStageHook(StageHook hook) {
  std::lock_guard<std::mutex> lock(mu_);
  stage_hook_ = std::move(hook);
}

void StepObserver::OnStage(const std::string& request_id, RequestStage stage) {
  StageHook hook;
  {
    std::lock_guard<std::mutex> lock(mu_);
    hook = stage_hook_;
  }
  if (hook) hook(request_id, stage);
}

void StepObserver::OnImageFeatureLookups(int hits, int misses, int64_t cached_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  image_hits_ += hits;
  image_misses_ += misses;
}

std::pair<int, int> StepObserver::image_lookups() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {image_hits_, image_misses_};
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

void RecordingReceiver::OnResult(const InspectionResult& result) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++outcome_.ends;
    outcome_.result = result;
  }
  ended_.notify_all();
}

void RecordingReceiver::OnError(const Status& status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++outcome_.ends;
    outcome_.error = status;
  }
  ended_.notify_all();
}

InspectionOutcome RecordingReceiver::Wait(std::chrono::seconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  const bool ended = ended_.wait_for(lock, timeout, [this] { return outcome_.ends > 0; });
  REQUIRE(ended);
  return outcome_;
}

ServingOptions TestOptions() {
  ServingOptions options;
  options.engine.model_dir = AURORAEDGE_TEST_MODEL_DIR;
  options.engine.intra_op_threads = 1;
  options.engine.kv_cache_bytes = 64LL << 20;
  options.preprocessing_threads = 1;
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

InspectionRequest Inspection(const std::string& id, const std::string& prompt,
                             std::vector<std::string> labels, int images, int seed) {
  GenerationRequest frames = ImageRequest(id, prompt, 1, images, 64, 48, seed);
  InspectionRequest request;
  request.request_id = id;
  request.prompt = prompt;
  request.labels = std::move(labels);
  request.images = std::move(frames.images);
  return request;
}

InspectionOutcome Run(ServingFrontEnd& engine, InspectionRequest request) {
  auto receiver = std::make_shared<RecordingReceiver>();
  const Status status = engine.SubmitInspection(std::move(request), receiver);
  INFO(status.message);
  REQUIRE(status.ok());
  return receiver->Wait();
}

Status Refusal(ServingFrontEnd& engine, InspectionRequest request) {
  const InspectionOutcome outcome = Run(engine, std::move(request));
  REQUIRE(outcome.error);
  CHECK(outcome.ends == 1);
  return *outcome.error;
}

Outcome Run(ServingFrontEnd& engine, GenerationRequest request) {
  auto stream = std::make_shared<RecordingStream>();
  const Status status = engine.Submit(std::move(request), stream);
  INFO(status.message);
  REQUIRE(status.ok());
  return stream->Wait();
}

Status Refusal(ServingFrontEnd& engine, GenerationRequest request) {
  const Outcome outcome = Run(engine, std::move(request));
  REQUIRE(outcome.error);
  CHECK(outcome.ends == 1);
  return *outcome.error;
}

}  // namespace auroraedge::server::testing
