#include "response_stream.h"

#include <catch2/catch.hpp>
#include <optional>
#include <vector>

namespace auroraedge::server::grpc_api {
namespace {

// Records what the stream asks of its call, as the gRPC reactor would see it.
class RecordingCall : public ResponseStream::Call {
 public:
  void Write(const v1::GenerateResponse& response) override {
    REQUIRE_FALSE(write_in_flight);
    REQUIRE_FALSE(ended.has_value());
    write_in_flight = true;
    written.push_back(response);
  }
  void End(const grpc::Status& status) override {
    REQUIRE_FALSE(write_in_flight);
    REQUIRE_FALSE(ended.has_value());
    ended = status;
  }

  bool write_in_flight = false;
  std::vector<v1::GenerateResponse> written;
  std::optional<grpc::Status> ended;
};

void CompleteWrite(RecordingCall& call, ResponseStream& stream, bool ok = true) {
  REQUIRE(call.write_in_flight);
  call.write_in_flight = false;
  stream.OnWriteDone(ok);
}

GenerationFinal LengthFinal() {
  GenerationFinal final;
  final.reason = FinishReason::kLength;
  return final;
}

}  // namespace

TEST_CASE("one write is in flight; the next starts when it completes") {
  RecordingCall call;
  ResponseStream stream("r", 8, &call);
  REQUIRE(stream.OnChunk({"a", {1}}));
  REQUIRE(stream.OnChunk({"b", {2}}));
  CHECK(call.written.size() == 1);
  CompleteWrite(call, stream);
  CHECK(call.written.size() == 2);
  CHECK(call.written[1].chunk().text() == "b");
  CompleteWrite(call, stream);
  CHECK_FALSE(call.write_in_flight);
}

TEST_CASE("the final message follows the chunks, then the call ends OK") {
  RecordingCall call;
  ResponseStream stream("r", 8, &call);
  stream.OnChunk({"a", {1}});
  stream.OnFinal(LengthFinal());
  CHECK_FALSE(call.ended.has_value());
  CompleteWrite(call, stream);
  REQUIRE(call.written.size() == 2);
  CHECK(call.written[1].final().finish_reason() == v1::FINISH_REASON_LENGTH);
  CHECK(call.written[1].request_id() == "r");
  CompleteWrite(call, stream);
  REQUIRE(call.ended.has_value());
  CHECK(call.ended->ok());
}

TEST_CASE("a full buffer tells the engine to stop") {
  RecordingCall call;
  ResponseStream stream("r", 3, &call);
  CHECK(stream.OnChunk({"1", {1}}));
  CHECK(stream.OnChunk({"2", {2}}));
  CHECK(stream.OnChunk({"3", {3}}));
  CHECK_FALSE(stream.OnChunk({"4", {4}}));
  CompleteWrite(call, stream);
  CHECK(stream.OnChunk({"4", {4}}));
}

TEST_CASE("an engine error ends the call with its status after the queued chunks") {
  RecordingCall call;
  ResponseStream stream("r", 8, &call);
  stream.OnChunk({"a", {1}});
  stream.OnError({StatusCode::kResourceExhausted, "client reads too slowly"});
  CHECK_FALSE(call.ended.has_value());
  CompleteWrite(call, stream);
  REQUIRE(call.ended.has_value());
  CHECK(call.ended->error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(call.ended->error_message() == "client reads too slowly");
}

TEST_CASE("an error with nothing queued ends the call at once") {
  RecordingCall call;
  ResponseStream stream("r", 8, &call);
  stream.OnError({StatusCode::kInvalidArgument, "images[0].encoded: not an image"});
  REQUIRE(call.ended.has_value());
  CHECK(call.ended->error_code() == grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("after a failed write (client gone) nothing more is written, and the call still ends") {
  RecordingCall call;
  ResponseStream stream("r", 8, &call);
  stream.OnChunk({"a", {1}});
  stream.OnChunk({"b", {2}});
  CompleteWrite(call, stream, /*ok=*/false);
  CHECK(call.written.size() == 1);
  CHECK(stream.OnChunk({"c", {3}}));
  CHECK(call.written.size() == 1);
  GenerationFinal cancelled;
  cancelled.reason = FinishReason::kCancelled;
  stream.OnFinal(cancelled);
  CHECK(call.written.size() == 1);
  REQUIRE(call.ended.has_value());
  CHECK(call.ended->error_code() == grpc::StatusCode::CANCELLED);
}

}  // namespace auroraedge::server::grpc_api
