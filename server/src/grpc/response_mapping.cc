#include "response_mapping.h"

namespace auroraedge::server::grpc_api {

grpc::Status ToGrpcStatus(const Status& status) {
  return {static_cast<grpc::StatusCode>(status.code), status.message};
}

v1::FinishReason ToProtoFinishReason(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop:
      return v1::FINISH_REASON_STOP;
    case FinishReason::kLength:
      return v1::FINISH_REASON_LENGTH;
    case FinishReason::kStopString:
      return v1::FINISH_REASON_STOP_STRING;
    case FinishReason::kCancelled:
      return v1::FINISH_REASON_CANCELLED;
    case FinishReason::kDeadline:
      return v1::FINISH_REASON_DEADLINE;
  }
  return v1::FINISH_REASON_UNSPECIFIED;
}

namespace {

void SetTimings(const StageTimings& in, v1::Timings* timings) {
  timings->set_queued_seconds(in.queued);
  timings->set_preprocessing_seconds(in.preprocessing);
  timings->set_vision_seconds(in.vision);
  timings->set_prefill_seconds(in.prefill);
  timings->set_decode_seconds(in.decode);
  timings->set_time_to_first_token_seconds(in.time_to_first_token);
  timings->set_total_seconds(in.total);
}

v1::Decision ToProtoDecision(Decision decision) {
  switch (decision) {
    case Decision::kOk:
      return v1::DECISION_OK;
    case Decision::kNg:
      return v1::DECISION_NG;
    case Decision::kUnknown:
      return v1::DECISION_UNKNOWN;
    case Decision::kNone:
      break;
  }
  return v1::DECISION_UNSPECIFIED;
}

}  // namespace

v1::GenerateResponse ChunkResponse(const std::string& request_id, const GenerationChunk& chunk) {
  v1::GenerateResponse response;
  response.set_request_id(request_id);
  v1::GenerateChunk* out = response.mutable_chunk();
  out->set_text(chunk.text);
  out->mutable_token_ids()->Add(chunk.token_ids.begin(), chunk.token_ids.end());
  for (const TokenLogprobs& token : chunk.logprobs) {
    v1::TokenLogprob* logprob = out->add_logprobs();
    logprob->set_token_id(token.token);
    logprob->set_logprob(token.logprob);
    for (const model::TokenLogprob& alternative : token.top) {
      v1::TopLogprob* top = logprob->add_top_logprobs();
      top->set_token_id(alternative.token);
      top->set_logprob(alternative.logprob);
    }
  }
  return response;
}

v1::GenerateResponse FinalResponse(const std::string& request_id, const GenerationFinal& final) {
  v1::GenerateResponse response;
  response.set_request_id(request_id);
  v1::GenerateFinal* out = response.mutable_final();
  out->set_finish_reason(ToProtoFinishReason(final.reason));
  out->set_prompt_tokens(static_cast<uint32_t>(final.prompt_tokens));
  out->set_completion_tokens(static_cast<uint32_t>(final.completion_tokens));
  out->set_images(static_cast<uint32_t>(final.images));
  SetTimings(final.timings, out->mutable_timings());
  out->set_model_version(final.model_version);
  return response;
}

v1::InspectResponse InspectResponse(const std::string& request_id, const InspectionResult& result) {
  v1::InspectResponse response;
  response.set_request_id(request_id);
  for (const LabelScore& score : result.scores) {
    v1::LabelScore* out = response.add_scores();
    out->set_label(score.label);
    out->set_probability(score.probability);
    out->set_logprob(score.logprob);
    out->set_tokens(static_cast<uint32_t>(score.tokens));
  }
  if (!result.scores.empty()) response.set_label(result.scores[result.chosen].label);
  response.set_decision(ToProtoDecision(result.decision));
  response.set_prompt_tokens(static_cast<uint32_t>(result.prompt_tokens));
  response.set_images(static_cast<uint32_t>(result.images));
  SetTimings(result.timings, response.mutable_timings());
  response.set_model_version(result.model_version);
  return response;
}

grpc::Status FinalStatus(const GenerationFinal& final) {
  const std::string tokens = " after " + std::to_string(final.completion_tokens) + " tokens";
  switch (final.reason) {
    case FinishReason::kCancelled:
      return {grpc::StatusCode::CANCELLED, "request cancelled" + tokens};
    case FinishReason::kDeadline:
      return {grpc::StatusCode::DEADLINE_EXCEEDED, "deadline passed" + tokens};
    default:
      return grpc::Status::OK;
  }
}

}  // namespace auroraedge::server::grpc_api
