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

TEST_CASE("the final message carries reason, counts and every timing") {
  GenerationFinal final;
  final.reason = FinishReason::kStopString;
  final.prompt_tokens = 90;
  final.completion_tokens = 12;
  final.images = 2;
  final.timings = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7};
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
