#include "response_mapping.h"

#include <catch2/catch.hpp>

namespace auroraedge::server::grpc_api {

TEST_CASE("server status codes map one to one onto gRPC's") {
  const std::pair<StatusCode, grpc::StatusCode> codes[] = {
      {StatusCode::kOk, grpc::StatusCode::OK},
      {StatusCode::kCancelled, grpc::StatusCode::CANCELLED},
      {StatusCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT},
      {StatusCode::kDeadlineExceeded, grpc::StatusCode::DEADLINE_EXCEEDED},
      {StatusCode::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED},
      {StatusCode::kFailedPrecondition, grpc::StatusCode::FAILED_PRECONDITION},
      {StatusCode::kInternal, grpc::StatusCode::INTERNAL},
      {StatusCode::kUnavailable, grpc::StatusCode::UNAVAILABLE}};
  for (const auto& [ours, theirs] : codes) {
    const grpc::Status status = ToGrpcStatus({ours, "why"});
    CHECK(status.error_code() == theirs);
    if (ours != StatusCode::kOk) CHECK(status.error_message() == "why");
  }
}

TEST_CASE("a chunk carries its text and token ids") {
  const v1::GenerateResponse response = ChunkResponse("r1", {"Weld ", {101, 7}});
  CHECK(response.request_id() == "r1");
  REQUIRE(response.has_chunk());
  CHECK(response.chunk().text() == "Weld ");
  REQUIRE(response.chunk().token_ids_size() == 2);
  CHECK(response.chunk().token_ids(1) == 7);
}

TEST_CASE("the final message carries reason, counts, every timing and the model version") {
  GenerationFinal final;
  final.reason = FinishReason::kStopString;
  final.prompt_tokens = 90;
  final.completion_tokens = 12;
  final.images = 2;
  final.timings = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7};
  final.model_version = "line-7-2026-03";
  const v1::GenerateResponse response = FinalResponse("r2", final);
  REQUIRE(response.has_final());
  const v1::GenerateFinal& out = response.final();
  CHECK(out.finish_reason() == v1::FINISH_REASON_STOP_STRING);
  CHECK(out.prompt_tokens() == 90);
  CHECK(out.completion_tokens() == 12);
  CHECK(out.images() == 2);
  CHECK(out.timings().queued_seconds() == 0.1);
  CHECK(out.timings().preprocessing_seconds() == 0.2);
  CHECK(out.timings().vision_seconds() == 0.3);
  CHECK(out.timings().prefill_seconds() == 0.4);
  CHECK(out.timings().decode_seconds() == 0.5);
  CHECK(out.timings().time_to_first_token_seconds() == 0.6);
  CHECK(out.timings().total_seconds() == 0.7);
  CHECK(out.model_version() == "line-7-2026-03");
}

TEST_CASE("every finish reason has its proto value and the right closing status") {
  CHECK(ToProtoFinishReason(FinishReason::kStop) == v1::FINISH_REASON_STOP);
  CHECK(ToProtoFinishReason(FinishReason::kLength) == v1::FINISH_REASON_LENGTH);
  CHECK(ToProtoFinishReason(FinishReason::kCancelled) == v1::FINISH_REASON_CANCELLED);
  CHECK(ToProtoFinishReason(FinishReason::kDeadline) == v1::FINISH_REASON_DEADLINE);
  GenerationFinal final;
  final.completion_tokens = 3;
  final.reason = FinishReason::kLength;
  CHECK(FinalStatus(final).ok());
  final.reason = FinishReason::kCancelled;
  CHECK(FinalStatus(final).error_code() == grpc::StatusCode::CANCELLED);
  final.reason = FinishReason::kDeadline;
  CHECK(FinalStatus(final).error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  CHECK(FinalStatus(final).error_message() == "deadline passed after 3 tokens");
}

}  // namespace auroraedge::server::grpc_api

namespace auroraedge::server::grpc_api {

TEST_CASE("a chunk carries each token's log-probabilities") {
  GenerationChunk chunk{"ok", {5, 9}};
  chunk.logprobs = {{5, -0.25f, {{5, -0.25f}, {7, -1.5f}}}, {9, -2.0f, {}}};
  const v1::GenerateResponse response = ChunkResponse("r", chunk);
  REQUIRE(response.chunk().logprobs_size() == 2);
  const v1::TokenLogprob& first = response.chunk().logprobs(0);
  CHECK(first.token_id() == 5);
  CHECK(first.logprob() == -0.25f);
  REQUIRE(first.top_logprobs_size() == 2);
  CHECK(first.top_logprobs(1).token_id() == 7);
  CHECK(first.top_logprobs(1).logprob() == -1.5f);
  CHECK(response.chunk().logprobs(1).top_logprobs_size() == 0);
  CHECK(ChunkResponse("r", {"x", {1}}).chunk().logprobs_size() == 0);
}

TEST_CASE("an inspection's result maps to InspectResponse") {
  InspectionResult result;
  result.scores = {{"OK", 0.25, -1.9, 2}, {"NG", 0.75, -0.8, 2}};
  result.chosen = 1;
  result.decision = Decision::kUnknown;
  result.prompt_tokens = 46;
  result.images = 1;
  result.timings = {0.1, 0.2, 0.3, 0.4, 0.0, 0.6, 0.7};
  result.model_version = "demo-1";
  const v1::InspectResponse response = InspectResponse("i1", result);
  CHECK(response.request_id() == "i1");
  REQUIRE(response.scores_size() == 2);
  CHECK(response.scores(0).label() == "OK");
  CHECK(response.scores(0).probability() == 0.25);
  CHECK(response.scores(1).logprob() == -0.8);
  CHECK(response.scores(1).tokens() == 2);
  CHECK(response.label() == "NG");
  CHECK(response.decision() == v1::DECISION_UNKNOWN);
  CHECK(response.prompt_tokens() == 46);
  CHECK(response.images() == 1);
  CHECK(response.timings().time_to_first_token_seconds() == 0.6);
  CHECK(response.model_version() == "demo-1");
  result.decision = Decision::kNone;
  CHECK(InspectResponse("i", result).decision() == v1::DECISION_UNSPECIFIED);
  result.decision = Decision::kOk;
  CHECK(InspectResponse("i", result).decision() == v1::DECISION_OK);
  result.decision = Decision::kNg;
  CHECK(InspectResponse("i", result).decision() == v1::DECISION_NG);
}

}  // namespace auroraedge::server::grpc_api
