#include "engine_loop.h"

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>

#include "preprocess_job.h"

namespace auroraedge::server {
namespace {

using Clock = std::chrono::steady_clock;

Status Internal(const std::string& where, const std::exception& error) {
  return {StatusCode::kInternal, where + ": " + error.what()};
}

// The status a request log shows for a request that ended with a final
// message.
Status StatusOf(FinishReason reason) {
  switch (reason) {
    case FinishReason::kCancelled:
      return {StatusCode::kCancelled, "cancelled"};
    case FinishReason::kDeadline:
      return {StatusCode::kDeadlineExceeded, "deadline exceeded"};
    default:
      return Status::Ok();
  }
}

}  // namespace

EngineLoop::EngineLoop(std::unique_ptr<model::Engine> engine, Scheduler& scheduler,
                       EngineInbox& inbox, RequestRegistry& registry,
                       std::shared_ptr<ServingObserver> observer,
                       const EngineLoopSettings& settings)
    : engine_(std::move(engine)),
      scheduler_(scheduler),
      inbox_(inbox),
      registry_(registry),
      observer_(std::move(observer)),
      settings_(settings),
      preprocessing_pool_(settings.preprocessing_threads) {}

void EngineLoop::Run() {
  while (!inbox_.closed()) {
    bool progressed = true;
    try {
      progressed = RunOnce();
    } catch (const std::exception& error) {
      // A broken invariant: fail what is in flight rather than serve from
      // inconsistent books.
      EndAll(Internal("engine loop", error));
    }
    if (!progressed) inbox_.WaitUntil(scheduler_.NextWakeup());
  }
  EndAll({StatusCode::kUnavailable, "the server is shutting down"});
}

bool EngineLoop::RunOnce() {
  const TimePoint now = Clock::now();
  const StepPlan plan = scheduler_.Plan(now);
  EngineInbox::Mail mail = inbox_.Take();
  // New requests first: one cancelled right after Submit is ended below.
  AddRequests(mail.requests);
  for (const EndedRequest& ended : plan.ended) {
    EndWithFinal(ended.id, ended.reason == EndReason::kCancelled ? FinishReason::kCancelled
                                                                 : FinishReason::kDeadline);
  }
  AcceptPreprocessed(mail.preprocessed, now);
  for (SequenceId id : plan.admitted) MarkAdmitted(id, now);
  for (SequenceId id : plan.to_preprocess) {
    const auto it = live_.find(id);
    if (it != live_.end()) StartPreprocessing(*it->second);
  }
  if (!plan.vision_batch.empty()) RunVisionBatch(plan.vision_batch);
  if (plan.has_model_work()) RunModelStep(plan);
  ReportLoad();
  return plan.has_work() || !plan.ended.empty() || !plan.admitted.empty() ||
         !mail.requests.empty() || !mail.preprocessed.empty();
}

void EngineLoop::AddRequests(std::vector<std::unique_ptr<LiveRequest>>& requests) {
  for (std::unique_ptr<LiveRequest>& request : requests) {
    const SequenceId id = request->id;
    live_.emplace(id, std::move(request));
  }
}

void EngineLoop::AcceptPreprocessed(std::vector<PreprocessedImages>& results, TimePoint now) {
  for (PreprocessedImages& done : results) {
    const auto it = live_.find(done.id);
    if (it == live_.end()) continue;  // ended while its images were being prepared
    if (!done.status.ok()) {
      EndWithError(done.id, done.status);
      continue;
    }
    LiveRequest& live = *it->second;
    live.patches = std::move(done.patches);
    live.image_records = std::move(done.records);
    live.stages.vision = now;
    scheduler_.OnPreprocessed(done.id, now);
  }
}

void EngineLoop::MarkAdmitted(SequenceId id, TimePoint now) {
  const auto it = live_.find(id);
  if (it == live_.end()) return;
  LiveRequest& live = *it->second;
  (live.num_images > 0 ? live.stages.preprocessing : live.stages.prefill) = now;
}

void EngineLoop::StartPreprocessing(LiveRequest& live) {
  preprocessing_pool_.Post([inbox = &inbox_, id = live.id, images = std::move(live.request.images),
                            config = settings_.preprocess] {
    inbox->PostPreprocessed(PreprocessImages(id, images, config));
  });
}

void EngineLoop::RunVisionBatch(const std::vector<SequenceId>& batch) {
  std::vector<const preprocessing::PatchImage*> images;
  std::vector<LiveRequest*> requests;
  for (SequenceId id : batch) {
    const auto it = live_.find(id);
    if (it == live_.end()) continue;
    requests.push_back(it->second.get());
    for (const preprocessing::PatchImage& patches : it->second->patches) images.push_back(&patches);
  }
  const TimePoint start = Clock::now();
  std::vector<model::VisualFeatures> features;
  try {
    features = engine_->EncodeImages(images);
  } catch (const std::exception& error) {
    for (LiveRequest* live : requests) EndWithError(live->id, Internal("vision encoder", error));
    return;
  }
  const TimePoint end = Clock::now();
  size_t next = 0;
  for (LiveRequest* live : requests) {
    const size_t count = live->patches.size();
    live->features.assign(features.begin() + next, features.begin() + next + count);
    next += count;
    live->patches.clear();
    live->stages.prefill = end;
  }
  const bool observed = std::any_of(requests.begin(), requests.end(),
                                    [](const LiveRequest* live) { return live->observed; });
  if (observer_ && observed) {
    observer_->OnVisionBatch(static_cast<int>(images.size()), SecondsBetween(start, end));
  }
}

std::optional<model::StepItem> EngineLoop::PrefillItem(const PrefillChunk& chunk) {
  const auto it = live_.find(chunk.id);
  if (it == live_.end()) return std::nullopt;
  LiveRequest& live = *it->second;
  if (chunk.start == 0) {
    try {
      engine_->AddSequence(live.id, live.prompt_tokens, std::move(live.features),
                           live.max_new_tokens);
      live.in_model = true;
    } catch (const std::length_error& error) {
      EndWithError(live.id, {StatusCode::kResourceExhausted, error.what()});
      return std::nullopt;
    } catch (const std::exception& error) {
      EndWithError(live.id, Internal("model AddSequence", error));
      return std::nullopt;
    }
  }
  return model::StepItem::Prefill(live.id, chunk.num_tokens, chunk.completes_prompt);
}

void EngineLoop::RunModelStep(const StepPlan& plan) {
  std::vector<model::StepItem> items;
  for (const PrefillChunk& chunk : plan.prefill) {
    if (std::optional<model::StepItem> item = PrefillItem(chunk)) items.push_back(*item);
  }
  for (SequenceId id : plan.decode) {
    const auto it = live_.find(id);
    if (it == live_.end()) continue;
    items.push_back(model::StepItem::Decode(id, it->second->last_token));
  }
  if (items.empty()) return;

  const TimePoint start = Clock::now();
  std::vector<model::StepOutput> outputs;
  try {
    outputs = engine_->Step(items);
  } catch (const std::exception& error) {
    for (const model::StepItem& item : items) {
      EndWithError(item.sequence, Internal("model step", error));
    }
    return;
  }
  const TimePoint end = Clock::now();
  for (model::StepOutput& output : outputs) {
    const auto it = live_.find(output.sequence);
    if (it != live_.end()) AcceptLogits(*it->second, output.logits, end);
  }
  if (observer_) {
    observer_->OnStep(
        {static_cast<int>(plan.decode.size()), plan.prefill_tokens(), SecondsBetween(start, end)});
  }
}

void EngineLoop::AcceptLogits(LiveRequest& live, std::vector<float>& logits, TimePoint now) {
  int32_t token = 0;
  try {
    token = live.sampler.Sample(logits);
  } catch (const std::exception& error) {
    EndWithError(live.id, Internal("sampler", error));
    return;
  }
  if (live.stages.decode) {
    live.inter_token_seconds.push_back(SecondsBetween(live.last_token_at, now));
  } else {
    live.stages.decode = now;
  }
  live.last_token_at = now;
  live.last_token = token;

  SequenceOutput::Update update = live.output.Append(token);
  const bool send = !update.chunk.text.empty() || !update.chunk.token_ids.empty();
  if (send && !live.stream->OnChunk(std::move(update.chunk))) {
    EndWithError(live.id, {StatusCode::kResourceExhausted,
                           "stream: the client is not reading; " +
                               std::to_string(settings_.stream_buffer_chunks) +
                               " chunks are waiting (stream_buffer_chunks)"});
    return;
  }
  if (update.finish) EndWithFinal(live.id, *update.finish);
}

void EngineLoop::ReportLoad() {
  kv_tokens_reserved_ = engine_->kv_tokens_reserved();
  if (!observer_) return;
  LoadRecord load;
  load.requests_waiting = scheduler_.num_waiting();
  load.requests_running = scheduler_.num_running();
  load.kv_tokens_used = engine_->kv_tokens_reserved();
  load.kv_tokens_total = engine_->kv_token_capacity();
  load.kv_bytes_per_token = settings_.kv_bytes_per_token;
  observer_->OnLoad(load);
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
  scheduler_.Finish(id);
  if (live->in_model) engine_->Release(id);
  kv_tokens_reserved_ = engine_->kv_tokens_reserved();

  // The id is free again before the stream hears of the end, so a client
  // may reuse it at once; WaitIdle still waits for the callbacks below.
  registry_.ReleaseId(live->request.request_id);
  const StageTimings timings = ToStageTimings(live->stages, Clock::now());
  if (reason) {
    GenerationFinal final;
    final.reason = *reason;
    final.prompt_tokens = static_cast<int>(live->prompt_tokens.size());
    final.completion_tokens = live->output.completion_tokens();
    final.images = live->num_images;
    final.timings = timings;
    live->stream->OnFinal(final);
  } else {
    live->stream->OnError(status);
  }
  if (observer_ && live->observed) {
    RequestRecord record;
    record.request_id = live->request.request_id;
    record.client_address = live->request.client_address;
    record.priority = live->request.priority;
    record.images = live->image_records;
    record.prompt_tokens = static_cast<int>(live->prompt_tokens.size());
    record.completion_tokens = live->output.completion_tokens();
    record.finish_reason = reason;
    record.status = reason ? StatusOf(*reason) : status;
    record.timings = timings;
    record.inter_token_seconds = live->inter_token_seconds;
    record.output_text = live->output.text();
    observer_->OnRequestFinished(record);
  }
  registry_.Finished();
}

void EngineLoop::EndAll(const Status& status) {
  EngineInbox::Mail mail = inbox_.Take();
  AddRequests(mail.requests);
  std::vector<SequenceId> ids;
  for (const auto& [id, live] : live_) ids.push_back(id);
  for (SequenceId id : ids) EndWithError(id, status);
}

}  // namespace auroraedge::server
