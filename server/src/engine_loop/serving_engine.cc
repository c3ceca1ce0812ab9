#include "serving_engine.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <utility>

#include "request_validation.h"

namespace auroraedge::server {
namespace {

using Clock = std::chrono::steady_clock;

SchedulerOptions ToSchedulerOptions(const SchedulingOptions& scheduling, int64_t kv_capacity) {
  SchedulerOptions options;
  options.max_waiting_requests = scheduling.max_waiting_requests;
  options.max_running_sequences = scheduling.max_running_sequences;
  options.max_prefill_tokens_per_step = scheduling.max_prefill_tokens_per_step;
  options.max_vision_batch = scheduling.max_vision_batch;
  options.max_vision_wait = scheduling.max_vision_wait;
  options.kv_token_capacity = kv_capacity;
  return options;
}

// The server's size limits with the model's image constants.
preprocessing::PreprocessConfig PreprocessConfigFor(const ServingOptions& options,
                                                    const model::ModelConfig& config) {
  preprocessing::PreprocessConfig preprocess = options.limits;
  preprocess.patch_size = config.vision.patch_size;
  preprocess.max_num_patches = config.vision.max_num_patches;
  for (size_t c = 0; c < 3; ++c) {
    preprocess.mean[c] = config.vision.image_mean.at(c);
    preprocess.std[c] = config.vision.image_std.at(c);
  }
  return preprocess;
}

// SplitMix64: spreads consecutive request ids over the seed space.
uint64_t MixSeed(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

}  // namespace

std::unique_ptr<InferenceEngine> InferenceEngine::Start(const ServingOptions& options,
                                                        std::shared_ptr<ServingObserver> observer) {
  auto engine = std::make_unique<ServingEngine>(options, std::move(observer));
  engine->WarmUp();
  return engine;
}

ServingEngine::LoadedModel ServingEngine::LoadModel(const model::EngineOptions& options) {
  const Clock::time_point start = Clock::now();
  LoadedModel loaded;
  loaded.engine = model::Engine::Load(options);
  loaded.load_seconds = SecondsBetween(start, Clock::now());
  return loaded;
}

ServingEngine::ServingEngine(const ServingOptions& options,
                             std::shared_ptr<ServingObserver> observer)
    : ServingEngine(options, std::move(observer), LoadModel(options.engine)) {}

ServingEngine::ServingEngine(const ServingOptions& options,
                             std::shared_ptr<ServingObserver> observer, LoadedModel loaded)
    : options_(options),
      config_(loaded.engine->config()),
      max_images_(options.max_images_per_request > 0
                      ? std::min(options.max_images_per_request, config_.max_images_per_request)
                      : config_.max_images_per_request),
      kv_token_capacity_(loaded.engine->kv_token_capacity()),
      tokenizer_(model::Tokenizer::Load(
          (std::filesystem::path(options.engine.model_dir) / "tokenizer.json").string())),
      chat_template_(tokenizer_, config_.visual_tokens_per_image),
      seed_base_(std::random_device{}()) {
  preprocessing::RunOpenCvOnCallingThreads();
  scheduler_ =
      std::make_unique<Scheduler>(ToSchedulerOptions(options.scheduling, kv_token_capacity_));

  EngineLoopSettings settings;
  settings.preprocess = PreprocessConfigFor(options, config_);
  settings.preprocessing_threads = options.scheduling.preprocessing_threads;
  settings.stream_buffer_chunks = options.scheduling.stream_buffer_chunks;
  settings.kv_bytes_per_token =
      kv_token_capacity_ > 0 ? options.engine.kv_cache_bytes / kv_token_capacity_ : 0;
  loop_ = std::make_unique<EngineLoop>(std::move(loaded.engine), *scheduler_, inbox_, registry_,
                                       observer, settings);
  if (observer) {
    observer->OnModelLoaded({config_.name, config_.version, config_.path, options.engine.device,
                             options.engine.dtype, loaded.load_seconds});
  }
  thread_ = std::thread([this] { loop_->Run(); });
}

ServingEngine::~ServingEngine() {
  accepting_ = false;
  inbox_.Close();
  thread_.join();
}

Status ServingEngine::Submit(GenerationRequest request, std::shared_ptr<GenerationStream> stream) {
  return SubmitChecked(std::move(request), std::move(stream), /*observed=*/true);
}

Status ServingEngine::SubmitChecked(GenerationRequest request,
                                    std::shared_ptr<GenerationStream> stream, bool observed) {
  if (!accepting_) {
    return {StatusCode::kUnavailable, "the server is draining and accepts no new requests"};
  }
  std::unique_ptr<LiveRequest> live;
  try {
    live = Prepare(std::move(request), std::move(stream));
  } catch (const std::invalid_argument& error) {
    return {StatusCode::kInvalidArgument, error.what()};
  } catch (const std::exception& error) {
    return {StatusCode::kInternal, std::string("preparing the request: ") + error.what()};
  }
  live->observed = observed;
  const std::string request_id = live->request.request_id;
  RequestSpec spec;
  spec.id = live->id;
  spec.priority = live->request.priority;
  spec.prompt_tokens = static_cast<int>(live->prompt_tokens.size());
  spec.max_new_tokens = live->max_new_tokens;
  spec.num_images = live->num_images;
  spec.deadline = live->request.deadline;

  if (!registry_.Insert(request_id, spec.id)) {
    return {StatusCode::kInvalidArgument,
            "request_id: '" + request_id + "' is already in flight on this server"};
  }
  Status status = inbox_.Admit(std::move(live), [this, &spec] { return scheduler_->Add(spec); });
  if (!status.ok()) {
    registry_.ReleaseId(request_id);
    registry_.Finished();
  }
  return status;
}

std::unique_ptr<LiveRequest> ServingEngine::Prepare(GenerationRequest request,
                                                    std::shared_ptr<GenerationStream> stream) {
  CheckRequestSize(request, max_images_, options_.max_prompt_bytes);
  const SequenceId id = next_id_++;
  if (request.request_id.empty()) request.request_id = "req-" + std::to_string(id);
  const int num_images = static_cast<int>(request.images.size());
  std::vector<int32_t> prompt_tokens =
      chat_template_.Build({request.system_prompt, request.prompt, num_images});
  const ResolvedSampling sampling = ResolveSampling(
      request.sampling, config_, static_cast<int>(prompt_tokens.size()), MixSeed(seed_base_ + id));
  model::Sampler sampler(sampling.config, config_.decoder.vocab_size, prompt_tokens);
  SequenceOutput output(tokenizer_, request.skip_special_tokens, request.sampling.stop,
                        config_.eos_token_ids, sampling.max_new_tokens);
  auto live = std::make_unique<LiveRequest>(id, std::move(request), std::move(stream),
                                            std::move(prompt_tokens), sampling.max_new_tokens,
                                            std::move(sampler), std::move(output));
  live->num_images = num_images;
  live->stages.queued = Clock::now();
  return live;
}

void ServingEngine::Cancel(const std::string& request_id) {
  const std::optional<SequenceId> id = registry_.Find(request_id);
  if (!id) return;
  scheduler_->RequestAbort(*id, EndReason::kCancelled);
  inbox_.Wake();
}

void ServingEngine::StopAccepting() { accepting_ = false; }

bool ServingEngine::WaitIdle(std::chrono::milliseconds timeout) {
  return registry_.WaitEmpty(timeout);
}

}  // namespace auroraedge::server
