// The real server through the generated C++ stubs: info, a streamed
// Generate, bad input, and a clean exit on SIGTERM. The test cases share
// one server and run in order.

#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "auroraedge/v1/inference.grpc.pb.h"
#include "server_launcher.h"

namespace auroraedge::testing {
namespace {

ServerLauncher& SharedServer() {
  static ServerLauncher server(AURORAEDGE_TEST_SERVER,
                               {"--model", AURORAEDGE_TEST_MODEL, "--threads", "2"});
  return server;
}

std::unique_ptr<v1::Inference::Stub> Stub() {
  return v1::Inference::NewStub(
      grpc::CreateChannel(SharedServer().address(), grpc::InsecureChannelCredentials()));
}

// A 64x48 RGB8 frame: grey gradient with a dark bar.
v1::Image RawPart() {
  v1::Image image;
  v1::RawFrame* raw = image.mutable_raw();
  std::string data(64 * 48 * 3, '\0');
  for (int y = 0; y < 48; ++y) {
    for (int x = 0; x < 64 * 3; ++x) {
      data[y * 64 * 3 + x] = static_cast<char>(y >= 22 && y < 26 ? 20 : 90 + (x + y) % 60);
    }
  }
  raw->set_data(data);
  raw->set_width(64);
  raw->set_height(48);
  raw->set_pixel_format(v1::PIXEL_FORMAT_RGB8);
  return image;
}

}  // namespace

TEST_CASE("GetModelInfo describes the model and its limits") {
  grpc::ClientContext context;
  v1::ModelInfo info;
  REQUIRE(Stub()->GetModelInfo(&context, {}, &info).ok());
  CHECK_FALSE(info.name().empty());
  CHECK(info.limits().context_length() > 0);
  CHECK(info.limits().max_images_per_request() >= 1);
  CHECK(info.kv_cache().tokens_total() > 0);
}

TEST_CASE("Generate streams chunks, then one final message") {
  v1::GenerateRequest request;
  *request.add_images() = RawPart();
  request.set_prompt("Is there a defect?");
  request.set_request_id("cpp-stub-1");
  request.mutable_sampling()->set_max_new_tokens(5);
  request.mutable_sampling()->set_temperature(0.0f);
  grpc::ClientContext context;
  auto reader = Stub()->Generate(&context, request);
  v1::GenerateResponse response;
  uint32_t chunk_tokens = 0;
  int finals = 0;
  v1::GenerateFinal final;
  while (reader->Read(&response)) {
    CHECK(response.request_id() == "cpp-stub-1");
    REQUIRE(finals == 0);
    if (response.has_chunk()) {
      chunk_tokens += static_cast<uint32_t>(response.chunk().token_ids_size());
    } else {
      REQUIRE(response.has_final());
      final = response.final();
      ++finals;
    }
  }
  const grpc::Status status = reader->Finish();
  REQUIRE(status.ok());
  CHECK(finals == 1);
  CHECK(final.completion_tokens() == chunk_tokens);
  CHECK(chunk_tokens >= 1u);
  CHECK(chunk_tokens <= 5u);
  CHECK(final.images() == 1);
  CHECK(final.timings().total_seconds() > 0);
}

TEST_CASE("a raw frame whose stride is too small is INVALID_ARGUMENT naming the field") {
  v1::GenerateRequest request;
  v1::Image* image = request.add_images();
  *image = RawPart();
  image->mutable_raw()->set_stride(100);
  request.set_prompt("Defect?");
  grpc::ClientContext context;
  auto reader = Stub()->Generate(&context, request);
  v1::GenerateResponse response;
  CHECK_FALSE(reader->Read(&response));
  const grpc::Status status = reader->Finish();
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::Matchers::Contains("images[0].raw.stride"));
}

TEST_CASE("the server exits 0 on SIGTERM") { CHECK(SharedServer().Stop(SIGTERM) == 0); }

}  // namespace auroraedge::testing
