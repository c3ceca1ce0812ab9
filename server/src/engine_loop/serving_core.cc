#include "serving_core.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <utility>

namespace auroraedge::server {
namespace {

using Clock = std::chrono::steady_clock;

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

PreparationLimits PreparationLimitsFor(const ServingOptions& options,
                                       const model::ModelConfig& config,
                                       const model::KvGeometry& kv) {
  PreparationLimits limits;
  limits.max_images = options.max_images_per_request > 0
                          ? std::min(options.max_images_per_request, config.max_images_per_request)
                          : config.max_images_per_request;
  limits.max_prompt_bytes = options.max_prompt_bytes;
  limits.kv = kv;
  return limits;
}

// The compiler of constrained requests over the model's vocabulary, or null
// (with the reason in `unavailable`) when the vocabulary cannot be
// constrained.
std::unique_ptr<ConstraintCompiler> MakeConstraintCompiler(const model::Tokenizer& tokenizer,
                                                           const model::ModelConfig& config,
                                                           int capacity, std::string& unavailable) {
  try {
    return std::make_unique<ConstraintCompiler>(
        model::constrained::TokenVocabulary::FromTokenizer(tokenizer, config.eos_token_ids,
                                                           config.decoder.vocab_size),
        static_cast<size_t>(std::max(capacity, 0)));
  } catch (const std::invalid_argument& error) {
    unavailable = error.what();
    return nullptr;
  }
}

// The Generate-shaped envelope an Inspect call travels in (LiveRequest).
GenerationRequest Envelope(InspectionRequest&& request) {
  GenerationRequest envelope;
  envelope.request_id = std::move(request.request_id);
  envelope.client_address = std::move(request.client_address);
  envelope.images = std::move(request.images);
  envelope.image_roles = std::move(request.image_roles);
  envelope.prompt = std::move(request.prompt);
  envelope.system_prompt = std::move(request.system_prompt);
  envelope.priority = request.priority;
  envelope.deadline = request.deadline;
  return envelope;
}

// SplitMix64: spreads consecutive request ids over the seed space.
uint64_t MixSeed(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

}  // namespace

std::unique_ptr<ServingFrontEnd> ServingFrontEnd::Start(const ServingOptions& options,
                                                        std::shared_ptr<ServingObserver> observer) {
  auto core = std::make_unique<ServingCore>(options, std::move(observer));
  core->WarmUp();
  return core;
}

ServingCore::LoadedModel ServingCore::LoadModel(const ServingOptions& options) {
  const Clock::time_point start = Clock::now();
  LoadedModel loaded;
  loaded.runner = model::ModelRunner::Load(options.engine);
  loaded.load_seconds = SecondsBetween(start, Clock::now());
  return loaded;
}

ServingCore::ServingCore(const ServingOptions& options, std::shared_ptr<ServingObserver> observer)
    : ServingCore(options, std::move(observer), LoadModel(options)) {}

ServingCore::ServingCore(const ServingOptions& options, std::shared_ptr<ServingObserver> observer,
                         LoadedModel loaded)
    : options_(options),
      config_(loaded.runner->config()),
      kv_token_capacity_(loaded.runner->kv_geometry().num_blocks *
                         loaded.runner->kv_geometry().block_size),
      tokenizer_(model::Tokenizer::Load(
          (std::filesystem::path(options.engine.model_dir) / "tokenizer.json").string())),
      chat_template_(tokenizer_, config_.visual_tokens_per_image),
      constraints_(MakeConstraintCompiler(tokenizer_, config_, options.constraint_cache_entries,
                                          constraints_unavailable_)),
      preparer_(tokenizer_, chat_template_, config_,
                PreparationLimitsFor(options, config_, loaded.runner->kv_geometry()),
                constraints_.get(), constraints_unavailable_),
      seed_base_(std::random_device{}()),
      workers_(options.preprocessing_threads) {
  preprocessing::RunOpenCvOnCallingThreads();
  EngineLoopSettings settings;
  settings.scheduler = options.scheduling;
  settings.preprocess = PreprocessConfigFor(options, config_);
  settings.stream_buffer_chunks = options.stream_buffer_chunks;
  settings.image_feature_cache_bytes = options.image_feature_cache_bytes;
  loop_ = std::make_unique<EngineLoop>(std::move(loaded.runner), inbox_, registry_, workers_,
                                       unadmitted_, observer, settings);
  if (observer) {
    observer->OnModelLoaded({config_.name, config_.version, config_.path, options.engine.device,
                             options.engine.dtype, loaded.load_seconds});
  }
  thread_ = std::thread([this] { loop_->Run(); });
}

ServingCore::~ServingCore() {
  accepting_ = false;
  inbox_.Close();
  thread_.join();
}

Status ServingCore::Submit(GenerationRequest request, std::shared_ptr<GenerationStream> stream) {
  Call call;
  call.generation = std::move(request);
  call.caller.stream = std::move(stream);
  return SubmitChecked(std::move(call), /*observed=*/true);
}

Status ServingCore::SubmitInspection(InspectionRequest request,
                                     std::shared_ptr<InspectionReceiver> receiver) {
  Call call;
  call.inspection = std::move(request);
  call.caller.receiver = std::move(receiver);
  return SubmitChecked(std::move(call), /*observed=*/true);
}

Status ServingCore::SubmitChecked(Call call, bool observed) {
  if (!accepting_) {
    return {StatusCode::kUnavailable, "the server is draining and accepts no new requests"};
  }
  const SequenceId id = next_id_++;
  std::string& request_id = call.request_id();
  if (request_id.empty()) request_id = "req-" + std::to_string(id);
  if (++unadmitted_ > options_.scheduling.max_waiting_requests) {
    --unadmitted_;
    return {StatusCode::kResourceExhausted,
            "waiting queue is full: " + std::to_string(options_.scheduling.max_waiting_requests) +
                " requests are already waiting (max_waiting_requests)"};
  }
  auto control = std::make_shared<RequestControl>();
  if (!registry_.Insert(request_id, control)) {
    --unadmitted_;
    return {StatusCode::kInvalidArgument,
            "request_id: '" + request_id + "' is already in flight on this server"};
  }
  workers_.Post([this, id, call = std::move(call), control = std::move(control), observed,
                 accepted = Clock::now()]() mutable {
    Prepare(id, std::move(call), std::move(control), observed, accepted);
  });
  return Status::Ok();
}

void ServingCore::Prepare(SequenceId id, Call call, std::shared_ptr<RequestControl> control,
                          bool observed, TimePoint accepted) {
  const std::string request_id = call.request_id();
  std::unique_ptr<LiveRequest> live;
  try {
    PreparedRequest prepared;
    GenerationRequest request;
    if (call.inspection) {
      prepared = preparer_.PrepareInspection(*call.inspection);
      request = Envelope(std::move(*call.inspection));
    } else {
      prepared = preparer_.Prepare(*call.generation, MixSeed(seed_base_ + id));
      request = std::move(*call.generation);
    }
    const int num_images = static_cast<int>(request.images.size());
    live = std::make_unique<LiveRequest>(id, std::move(request), call.caller, std::move(control),
                                         std::move(prepared));
    live->num_images = num_images;
  } catch (const std::invalid_argument& error) {
    Refuse(request_id, call.caller, {StatusCode::kInvalidArgument, error.what()});
    return;
  } catch (const std::exception& error) {
    Refuse(request_id, call.caller,
           {StatusCode::kInternal, std::string("preparing the request: ") + error.what()});
    return;
  }
  live->observed = observed;
  live->stages.queued = accepted;
  const RequestCaller caller{live->stream, live->receiver};
  if (inbox_.PostRequest(std::move(live)) != nullptr) {
    Refuse(request_id, caller, {StatusCode::kUnavailable, "the server is shutting down"});
  }
}

void ServingCore::Refuse(const std::string& request_id, const RequestCaller& caller,
                         const Status& status) {
  --unadmitted_;
  registry_.ReleaseId(request_id);
  caller.OnError(status);
  registry_.Finished();
}

void ServingCore::Cancel(const std::string& request_id) {
  const std::shared_ptr<RequestControl> control = registry_.Find(request_id);
  if (control == nullptr) return;
  control->cancelled = true;
  inbox_.Wake();
}

void ServingCore::StopAccepting() { accepting_ = false; }

bool ServingCore::WaitIdle(std::chrono::milliseconds timeout) {
  return registry_.WaitEmpty(timeout);
}

}  // namespace auroraedge::server
