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

v1::GenerateResponse ChunkResponse(const std::string& request_id, const GenerationChunk& chunk) {
  v1::GenerateResponse response;
  response.set_request_id(request_id);
  v1::GenerateChunk* out = response.mutable_chunk();
  out->set_text(chunk.text);
  out->mutable_token_ids()->Add(chunk.token_ids.begin(), chunk.token_ids.end());
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
  v1::Timings* timings = out->mutable_timings();
  timings->set_queued_seconds(final.timings.queued);
  timings->set_preprocessing_seconds(final.timings.preprocessing);
  timings->set_vision_seconds(final.timings.vision);
  timings->set_prefill_seconds(final.timings.prefill);
  timings->set_decode_seconds(final.timings.decode);
  timings->set_time_to_first_token_seconds(final.timings.time_to_first_token);
  timings->set_total_seconds(final.timings.total);
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
