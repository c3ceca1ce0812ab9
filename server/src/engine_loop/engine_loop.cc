#include "engine_loop.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>

#include "inspection_outcome.h"
#include "preprocess_job.h"

namespace auroraedge::server {
namespace {

using Clock = std::chrono::steady_clock;

Status Internal(const std::string& where, const std::string& what) {
  return {StatusCode::kInternal, where + ": " + what};
}

}  // namespace

EngineLoop::EngineLoop(std::unique_ptr<model::ModelRunner> runner, EngineInbox& inbox,
                       RequestRegistry& registry, WorkerPool& workers, std::atomic<int>& unadmitted,
                       std::shared_ptr<ServingObserver> observer,
                       const EngineLoopSettings& settings)
    : runner_(std::move(runner)),
      settings_(settings),
      scheduler_(std::make_unique<Scheduler>(settings.scheduler, runner_->kv_geometry())),
      inbox_(inbox),
      registry_(registry),
      workers_(workers),
      unadmitted_(unadmitted),
      observer_(std::move(observer)),
      image_features_(settings.image_feature_cache_bytes) {}

void EngineLoop::Run() {
  while (!inbox_.closed()) {
    bool progressed = true;
    try {
      progressed = RunOnce();
    } catch (const std::exception& error) {
      // A broken invariant: the books cannot be trusted. Say what broke, fail
      // what is in flight, and go on with fresh books.
      spdlog::error("engine loop: {}; ending the {} requests in flight with INTERNAL", error.what(),
                    live_.size());
      EndAll(Internal("engine loop", error.what()));
      scheduler_ = std::make_unique<Scheduler>(settings_.scheduler, runner_->kv_geometry());
    }
    if (!progressed) inbox_.WaitUntil(scheduler_->NextWakeup());
  }
  EndAll({StatusCode::kUnavailable, "the server is shutting down"});
}

bool EngineLoop::RunOnce() {
  EngineInbox::Mail mail = inbox_.Take();
  const TimePoint now = Clock::now();
  AcceptRequests(mail.requests, now);
  // Cancels and deadlines first: a request ends in the stage it was in when
  // they came, whatever else arrived in the meantime.
  ApplyCancels();
  scheduler_->ExpireDeadlines(now);
  AcceptPreprocessed(mail.preprocessed, now);
  ApplyCancels();  // those from the observer's stage hooks just now

  const StepPlan plan = scheduler_->Plan(now);
  for (const EndedRequest& ended : plan.ended) {
    EndWithFinal(ended.id, ended.reason == EndReason::kCancelled ? FinishReason::kCancelled
                                                                 : FinishReason::kDeadline);
  }
  for (SequenceId id : plan.admitted) MarkAdmitted(id, now);
  for (SequenceId id : plan.to_preprocess) {
    if (LiveRequest* live = Find(id)) StartPreprocessing(*live);
  }
  if (!plan.vision_batch.empty()) RunVisionBatch(plan.vision_batch);
  if (plan.has_model_work()) RunModelStep(plan);
  scheduler_->CompleteStep(plan);
  ReportLoad();
  return plan.has_work() || !plan.ended.empty() || !plan.admitted.empty() ||
         !mail.requests.empty() || !mail.preprocessed.empty();
}

void EngineLoop::ApplyCancels() {
  for (const auto& [id, live] : live_) {
    // Abort ignores a request the scheduler has already let go.
    if (live->control->cancelled.load()) scheduler_->Abort(id, EndReason::kCancelled);
  }
}

void EngineLoop::EnterStage(LiveRequest& live, RequestStage stage, TimePoint now) {
  switch (stage) {
    case RequestStage::kQueued:
      break;  // its clock started at Submit
    case RequestStage::kPreprocessing:
      live.stages.preprocessing = now;
      break;
    case RequestStage::kVision:
      live.stages.vision = now;
      break;
    case RequestStage::kPrefill:
      live.stages.prefill = now;
      break;
    case RequestStage::kDecode:
      live.stages.decode = now;
      break;
  }
  if (observer_ && live.observed) observer_->OnStage(live.request.request_id, stage);
}

void EngineLoop::AcceptRequests(std::vector<std::unique_ptr<LiveRequest>>& requests,
                                TimePoint now) {
  for (std::unique_ptr<LiveRequest>& request : requests) {
    const SequenceId id = request->id;
    RequestSpec spec;
    spec.id = id;
    spec.priority = request->request.priority;
    spec.prompt_tokens = static_cast<int>(request->prepared.prompt_tokens.size());
    spec.max_new_tokens = request->prepared.max_new_tokens;
    if (request->prepared.inspection) {
      spec.scored_tokens = request->prepared.inspection->scored_rows();
    }
    spec.num_images = request->num_images;
    spec.deadline = request->request.deadline;
    LiveRequest& live = *live_.emplace(id, std::move(request)).first->second;
    scheduler_->Add(spec);
    EnterStage(live, RequestStage::kQueued, now);
  }
}

void EngineLoop::AcceptPreprocessed(std::vector<PreprocessedImages>& results, TimePoint now) {
  for (PreprocessedImages& done : results) {
    LiveRequest* live = Find(done.id);
    // Ended, or ending in this round, while its images were being prepared.
    if (live == nullptr || !scheduler_->phase(done.id)) continue;
    if (!done.status.ok()) {
      EndWithError(done.id, done.status);
      continue;
    }
    live->patches = std::move(done.patches);
    live->feature_keys = std::move(done.feature_keys);
    live->image_records = std::move(done.records);
    scheduler_->OnPreprocessed(done.id, now);
    EnterStage(*live, RequestStage::kVision, now);
  }
}

void EngineLoop::MarkAdmitted(SequenceId id, TimePoint now) {
  LiveRequest* live = Find(id);
  if (live == nullptr) return;
  live->admitted = true;
  --unadmitted_;
  EnterStage(*live, live->num_images > 0 ? RequestStage::kPreprocessing : RequestStage::kPrefill,
             now);
}

void EngineLoop::StartPreprocessing(LiveRequest& live) {
  workers_.Post([inbox = &inbox_, id = live.id, images = std::move(live.request.images),
                 config = settings_.preprocess, keys = image_features_.max_bytes() > 0] {
    inbox->PostPreprocessed(PreprocessImages(id, images, config, keys));
  });
}

bool EngineLoop::StartInRunner(LiveRequest& live) {
  const std::optional<model::KvPlacement> placement = scheduler_->placement(live.id);
  if (!placement)
    throw std::logic_error("request " + live.request.request_id + " has no placement");
  model::SequenceStart start;
  start.id = live.id;
  start.placement = *placement;
  start.prompt = live.prepared.prompt_tokens;
  start.max_new_tokens = live.prepared.max_new_tokens;
  start.sampling = live.prepared.sampling;
  if (live.prepared.inspection) start.labels = live.prepared.inspection->label_tokens;
  try {
    runner_->StartSequence(start, std::move(live.features));
  } catch (const std::exception& error) {
    spdlog::error("request {}: the model runner refused it: {}", live.request.request_id,
                  error.what());
    EndWithError(live.id, Internal("model runner", error.what()));
    return false;
  }
  live.in_runner = true;
  return true;
}

void EngineLoop::RunModelStep(const StepPlan& plan) {
  std::vector<model::StepRow> rows;
  for (const PrefillChunk& chunk : plan.prefill) {
    LiveRequest* live = Find(chunk.id);
    if (live == nullptr || (!live->in_runner && !StartInRunner(*live))) continue;
    rows.push_back(model::StepRow::Prefill(chunk.id, chunk.num_tokens, chunk.completes_prompt));
    if (chunk.completes_prompt && live->prepared.constrained) {
      rows.back().allowed_tokens = &live->prepared.constrained->AllowedTokens();
    }
  }
  for (SequenceId id : plan.decode) {
    LiveRequest* live = Find(id);
    if (live == nullptr) continue;
    rows.push_back(model::StepRow::Decode(id, live->last_token));
    if (live->prepared.constrained) {
      rows.back().allowed_tokens = &live->prepared.constrained->AllowedTokens();
    }
  }
  if (rows.empty()) return;

  const TimePoint start = Clock::now();
  std::vector<model::RowResult> results = runner_->Step(rows);
  const TimePoint end = Clock::now();
  // Reported before the step's outputs go out: a client that has its answer
  // finds the step that made it in the metrics.
  if (observer_) {
    observer_->OnStep(
        {static_cast<int>(plan.decode.size()), plan.prefill_tokens(), SecondsBetween(start, end)});
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    model::RowResult& result = results[i];
    LiveRequest* live = Find(rows[i].sequence);
    if (live == nullptr) continue;
    if (!result.ok()) {
      spdlog::error("request {}: model step failed: {}", live->request.request_id, result.error);
      EndWithError(live->id, Internal("model step", result.error));
    } else if (rows[i].sample && live->prepared.inspection) {
      AcceptScores(*live, result, end);
    } else if (rows[i].sample) {
      AcceptToken(*live, result, end);
    }
  }
}

void EngineLoop::AcceptToken(LiveRequest& live, model::RowResult& result, TimePoint now) {
  const SequenceId id = live.id;
  try {
    if (live.stages.decode) {
      live.inter_token_seconds.push_back(SecondsBetween(live.last_token_at, now));
    } else {
      EnterStage(live, RequestStage::kDecode, now);
    }
    live.last_token_at = now;
    live.last_token = result.token;
    std::optional<TokenLogprobs> logprobs;
    if (live.prepared.sampling.top_logprobs >= 0) {
      logprobs = TokenLogprobs{result.token, result.logprob, std::move(result.top_logprobs)};
    }
    ConstrainedSequence* constrained = live.prepared.constrained.get();
    if (constrained != nullptr) constrained->Advance(result.token);
    SequenceOutput::Update update = live.prepared.output->Append(result.token, std::move(logprobs));
    // A constrained answer ends complete: at its budget's end (the masks
    // saw to it) or where its grammar allows nothing but the end.
    if (constrained != nullptr && update.finish == FinishReason::kLength) {
      update.finish = FinishReason::kStop;
    } else if (constrained != nullptr && !update.finish && constrained->Finished()) {
      live.prepared.output->Finish(update, FinishReason::kStop);
    }
    const bool send = !update.chunk.text.empty() || !update.chunk.token_ids.empty();
    if (send && !live.stream->OnChunk(std::move(update.chunk))) {
      EndWithError(
          id, {StatusCode::kResourceExhausted, "stream: the client is not reading; " +
                                                   std::to_string(settings_.stream_buffer_chunks) +
                                                   " chunks are waiting (stream_buffer_chunks)"});
      return;
    }
    if (update.finish) EndWithFinal(id, *update.finish);
  } catch (const std::exception& error) {
    spdlog::error("request {}: streaming its token failed: {}", live.request.request_id,
                  error.what());
    EndWithError(id, Internal("streaming", error.what()));
  }
}

void EngineLoop::AcceptScores(LiveRequest& live, const model::RowResult& result, TimePoint now) {
  try {
    EnterStage(live, RequestStage::kDecode, now);  // its answer is out
    InspectionResult scored;
    ScoreInspection(*live.prepared.inspection, result.label_logprobs, scored);
    live.inspection_result = std::move(scored);
  } catch (const std::exception& error) {
    spdlog::error("request {}: scoring its labels failed: {}", live.request.request_id,
                  error.what());
    EndWithError(live.id, Internal("inspection", error.what()));
    return;
  }
  EndWithFinal(live.id, FinishReason::kStop);
}

void EngineLoop::ReportLoad() {
  kv_tokens_reserved_ = scheduler_->kv_tokens_reserved();
  if (!observer_) return;
  LoadRecord load;
  load.requests_waiting = unadmitted_.load();
  load.requests_running = scheduler_->num_running();
  load.kv_tokens_used = scheduler_->kv_tokens_reserved();
  load.kv_tokens_total = scheduler_->kv().capacity_tokens();
  load.kv_bytes_per_token = runner_->kv_geometry().bytes_per_token;
  observer_->OnLoad(load);
}

LiveRequest* EngineLoop::Find(SequenceId id) {
  const auto it = live_.find(id);
  return it == live_.end() ? nullptr : it->second.get();
}

void EngineLoop::EndWithFinal(SequenceId id, FinishReason reason) { End(id, reason, Status::Ok()); }

void EngineLoop::EndWithError(SequenceId id, const Status& status) {
  End(id, std::nullopt, status);
}

void EngineLoop::End(SequenceId id, std::optional<FinishReason> reason, const Status& status) {
  const auto it = live_.find(id);
  if (it == live_.end()) return;
  const std::unique_ptr<LiveRequest> live = std::move(it->second);
  live_.erase(it);
  scheduler_->Finish(id);
  if (live->in_runner) runner_->EndSequence(id);
  if (!live->admitted) --unadmitted_;
  kv_tokens_reserved_ = scheduler_->kv_tokens_reserved();

  // The id is free again before the stream hears of the end, so a client
  // may reuse it at once; WaitIdle still waits for the callbacks below.
  registry_.ReleaseId(live->request.request_id);
  const StageTimings timings = ToStageTimings(live->stages, Clock::now());
  try {
    Deliver(*live, reason, status, timings);
  } catch (const std::exception& error) {
    spdlog::error("request {}: delivering its end failed: {}", live->request.request_id,
                  error.what());
  }
  if (observer_ && live->observed) {
    observer_->OnRequestFinished(Record(*live, reason, status, timings));
  }
  registry_.Finished();
}

void EngineLoop::EndAll(const Status& status) {
  EngineInbox::Mail mail = inbox_.Take();
  for (std::unique_ptr<LiveRequest>& request : mail.requests) {
    const SequenceId id = request->id;
    live_.emplace(id, std::move(request));
  }
  std::vector<SequenceId> ids;
  for (const auto& [id, live] : live_) ids.push_back(id);
  for (SequenceId id : ids) End(id, std::nullopt, status);
}

}  // namespace auroraedge::server
