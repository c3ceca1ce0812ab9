// EngineLoop::Deliver and Record: an ended request's final message, result
// or error to its caller (a Generate stream or an Inspect receiver), and
// its record for the metrics and the request log.

#include <string>

#include "engine_loop.h"

namespace auroraedge::server {
namespace {

// The status of a request that ended with a final message: what an Inspect
// call gets for a cancel or deadline, and what the request log shows.
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

void EngineLoop::Deliver(LiveRequest& live, std::optional<FinishReason> reason,
                         const Status& status, const StageTimings& timings) {
  const int prompt_tokens = static_cast<int>(live.prepared.prompt_tokens.size());
  if (live.receiver) {
    if (!reason || !live.inspection_result) {
      live.receiver->OnError(reason ? StatusOf(*reason) : status);
      return;
    }
    InspectionResult& result = *live.inspection_result;
    result.prompt_tokens = prompt_tokens;
    result.images = live.num_images;
    result.timings = timings;
    result.model_version = runner_->config().version;
    live.receiver->OnResult(result);
    return;
  }
  if (!reason) {
    live.stream->OnError(status);
    return;
  }
  GenerationFinal final;
  final.reason = *reason;
  final.prompt_tokens = prompt_tokens;
  final.completion_tokens = live.prepared.output->completion_tokens();
  final.images = live.num_images;
  final.timings = timings;
  final.model_version = runner_->config().version;
  live.stream->OnFinal(final);
}

RequestRecord EngineLoop::Record(const LiveRequest& live, std::optional<FinishReason> reason,
                                 const Status& status, const StageTimings& timings) const {
  RequestRecord record;
  record.request_id = live.request.request_id;
  record.client_address = live.request.client_address;
  record.priority = live.request.priority;
  record.images = live.image_records;
  record.prompt_tokens = static_cast<int>(live.prepared.prompt_tokens.size());
  record.finish_reason = reason;
  record.status = reason ? StatusOf(*reason) : status;
  record.timings = timings;
  record.inter_token_seconds = live.inter_token_seconds;
  record.model_version = runner_->config().version;
  if (live.prepared.output) {
    record.completion_tokens = live.prepared.output->completion_tokens();
    record.output_text = live.prepared.output->text();
  }
  if (live.receiver) {
    InspectionRecord& inspection = record.inspection.emplace();
    if (live.inspection_result && reason == FinishReason::kStop) {
      const InspectionResult& result = *live.inspection_result;
      inspection.scores = result.scores;
      inspection.chosen = result.scores[result.chosen].label;
      inspection.decision = result.decision;
      record.output_text = inspection.chosen;
    }
  }
  return record;
}

}  // namespace auroraedge::server
