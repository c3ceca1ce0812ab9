#include "message_codec.h"

#include <catch2/catch.hpp>
#include <string>

#include "auroraedge/v1/inference.pb.h"

namespace auroraedge::server::grpc_api {
namespace {

using Catch::Matchers::Contains;

grpc::ByteBuffer Bytes(const std::string& data) {
  grpc::Slice slice(data);
  return grpc::ByteBuffer(&slice, 1);
}

// A request with every text field set to a distinct marker, serialized; the
// test then swaps one marker's bytes for invalid UTF-8 of the same length,
// which keeps the wire format valid.
std::string WireWithMarkers() {
  v1::GenerateRequest request;
  request.set_prompt("PROMPT");
  request.set_system_prompt("SYSTEM");
  request.set_request_id("REQUEST");
  request.mutable_sampling()->add_stop("STOP0");
  request.mutable_sampling()->add_stop("STOP1");
  request.add_images()->set_encoded(std::string("\xff\xfe image bytes", 14));
  return request.SerializeAsString();
}

std::string Replace(std::string wire, const std::string& marker, const std::string& with) {
  REQUIRE(with.size() == marker.size());
  const size_t at = wire.find(marker);
  REQUIRE(at != std::string::npos);
  return wire.replace(at, marker.size(), with);
}

}  // namespace

TEST_CASE("a valid request decodes, multi-byte UTF-8 and raw image bytes included") {
  v1::GenerateRequest request;
  request.set_prompt(
      "Kratzer auf der Oberfl\xc3\xa4"
      "che? \xe5\x82\xb7 \xf0\x9f\x94\xa7");
  request.add_images()->set_encoded(std::string("\x89PNG\xff\x00", 6));
  v1::GenerateRequest decoded;
  REQUIRE(DecodeMessage(Bytes(request.SerializeAsString()), &decoded).ok());
  CHECK(decoded.prompt() == request.prompt());
  CHECK(decoded.images(0).encoded() == request.images(0).encoded());
}

TEST_CASE("text that is not UTF-8 is INVALID_ARGUMENT naming the field") {
  const std::string wire = WireWithMarkers();
  v1::GenerateRequest decoded;
  REQUIRE(DecodeMessage(Bytes(wire), &decoded).ok());
  const std::pair<std::string, std::string> cases[] = {
      {"PROMPT", "prompt: not valid UTF-8 (byte 0 of 6)"},
      {"SYSTEM", "system_prompt: not valid UTF-8"},
      {"REQUEST", "request_id: not valid UTF-8"},
      {"STOP0", "sampling.stop[0]: not valid UTF-8"},
      {"STOP1", "sampling.stop[1]: not valid UTF-8"},
  };
  for (const auto& [marker, message] : cases) {
    INFO(marker);
    const Status status =
        DecodeMessage(Bytes(Replace(wire, marker, "\xc3" + marker.substr(1))), &decoded);
    CHECK(status.code == StatusCode::kInvalidArgument);
    CHECK_THAT(status.message, Contains(message));
  }
  // An overlong encoding and a UTF-16 surrogate are not UTF-8 either.
  for (const std::string& bad : {std::string("\xc0\xaf"), std::string("\xed\xa0\x80")}) {
    const Status status = DecodeMessage(
        Bytes(Replace(wire, "PROMPT", bad + std::string("PROMPT").substr(bad.size()))), &decoded);
    CHECK_THAT(status.message, Contains("prompt: not valid UTF-8"));
  }
}

TEST_CASE("bytes that are not a protobuf message are INVALID_ARGUMENT naming the message") {
  v1::GenerateRequest decoded;
  const std::string truncated = WireWithMarkers().substr(0, 20);
  for (const std::string& bad :
       {std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11),
        std::string("\x0a\x05hi", 4), std::string("\x00", 1), std::string("\x0f", 1), truncated}) {
    const Status status = DecodeMessage(Bytes(bad), &decoded);
    CHECK(status.code == StatusCode::kInvalidArgument);
    CHECK_THAT(status.message, Contains("request: not a valid auroraedge.v1.GenerateRequest"));
  }
}

TEST_CASE("a sub-message cut short by the end of the input is not a valid request") {
  v1::GenerateRequest request;
  request.mutable_sampling()->add_stop("stop");
  std::string wire = request.SerializeAsString();
  wire.pop_back();  // "sampling" still claims its full length
  v1::GenerateRequest decoded;
  CHECK(DecodeMessage(Bytes(wire), &decoded).code == StatusCode::kInvalidArgument);
}

TEST_CASE("an encoded response decodes back to itself") {
  v1::GenerateResponse response;
  response.set_request_id("r");
  response.mutable_chunk()->set_text("ok");
  v1::GenerateResponse back;
  REQUIRE(DecodeMessage(EncodeMessage(response), &back).ok());
  CHECK(back.chunk().text() == "ok");
}

}  // namespace auroraedge::server::grpc_api
