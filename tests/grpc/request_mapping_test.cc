#include "request_mapping.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

namespace auroraedge::server::grpc_api {
namespace {

v1::GenerateRequest ValidRequest() {
  v1::GenerateRequest request;
  request.set_prompt("Is the weld seam complete?");
  request.add_images()->set_encoded("\x89PNG....");
  return request;
}

Status Map(const v1::GenerateRequest& request, GenerationRequest* out = nullptr) {
  GenerationRequest scratch;
  RequestBounds bounds;
  bounds.vocab_size = 1000;
  return MapGenerateRequest(request, bounds, out != nullptr ? out : &scratch);
}

void RequireInvalid(const v1::GenerateRequest& request, const std::string& message) {
  const Status status = Map(request);
  CHECK(status.code == StatusCode::kInvalidArgument);
  CHECK_THAT(status.message, Catch::Matchers::StartsWith(message));
}

}  // namespace

TEST_CASE("a full request maps field by field") {
  v1::GenerateRequest request = ValidRequest();
  request.set_system_prompt("You inspect parts.");
  request.set_request_id("line4-cam2-000017");
  request.set_priority(v1::PRIORITY_LINE_CRITICAL);
  request.set_keep_special_tokens(true);
  v1::Image* raw_image = request.add_images();
  v1::RawFrame* raw = raw_image->mutable_raw();
  raw->set_data(std::string(12, '\x7f'));
  raw->set_width(2);
  raw->set_height(2);
  raw->set_stride(6);
  raw->set_pixel_format(v1::PIXEL_FORMAT_BAYER_RG8);
  v1::RegionOfInterest* roi = raw_image->mutable_roi();
  roi->set_x(1);
  roi->set_y(0);
  roi->set_width(1);
  roi->set_height(2);
  v1::SamplingParams* sampling = request.mutable_sampling();
  sampling->set_max_new_tokens(32);
  sampling->set_temperature(0.7f);
  sampling->set_top_k(40);
  sampling->set_top_p(0.9f);
  sampling->set_repetition_penalty(1.1f);
  sampling->set_seed(1234);
  sampling->add_stop("\n\n");

  GenerationRequest out;
  REQUIRE(Map(request, &out).ok());
  CHECK(out.request_id == "line4-cam2-000017");
  CHECK(out.prompt == "Is the weld seam complete?");
  CHECK(out.system_prompt == "You inspect parts.");
  CHECK(out.priority == Priority::kLineCritical);
  CHECK_FALSE(out.skip_special_tokens);
  REQUIRE(out.images.size() == 2);
  CHECK(out.images[0].encoded == "\x89PNG....");
  CHECK_FALSE(out.images[0].raw.has_value());
  CHECK_FALSE(out.images[0].roi.has_value());
  REQUIRE(out.images[1].raw.has_value());
  CHECK(out.images[1].raw->width == 2);
  CHECK(out.images[1].raw->height == 2);
  CHECK(out.images[1].raw->stride == 6);
  CHECK(out.images[1].raw->format == preprocessing::PixelFormat::kBayerRg8);
  CHECK(out.images[1].raw->data.size() == 12);
  REQUIRE(out.images[1].roi.has_value());
  CHECK(out.images[1].roi->x == 1);
  CHECK(out.images[1].roi->width == 1);
  CHECK(out.images[1].roi->height == 2);
  CHECK(out.sampling.max_new_tokens == 32);
  CHECK(out.sampling.temperature == Approx(0.7f));
  CHECK(out.sampling.top_k == 40);
  CHECK(out.sampling.top_p == Approx(0.9f));
  CHECK(out.sampling.repetition_penalty == Approx(1.1f));
  CHECK(out.sampling.seed == 1234u);
  CHECK(out.sampling.stop == std::vector<std::string>{"\n\n"});
}

TEST_CASE("unset sampling fields stay unset so the model's defaults apply") {
  GenerationRequest out;
  REQUIRE(Map(ValidRequest(), &out).ok());
  CHECK_FALSE(out.sampling.max_new_tokens.has_value());
  CHECK_FALSE(out.sampling.temperature.has_value());
  CHECK_FALSE(out.sampling.top_k.has_value());
  CHECK_FALSE(out.sampling.top_p.has_value());
  CHECK_FALSE(out.sampling.repetition_penalty.has_value());
  CHECK_FALSE(out.sampling.seed.has_value());
  CHECK(out.priority == Priority::kNormal);
  CHECK(out.skip_special_tokens);
}

TEST_CASE("each pixel format maps to its preprocessing twin") {
  const std::pair<v1::PixelFormat, preprocessing::PixelFormat> formats[] = {
      {v1::PIXEL_FORMAT_MONO8, preprocessing::PixelFormat::kMono8},
      {v1::PIXEL_FORMAT_RGB8, preprocessing::PixelFormat::kRgb8},
      {v1::PIXEL_FORMAT_BGR8, preprocessing::PixelFormat::kBgr8},
      {v1::PIXEL_FORMAT_BAYER_RG8, preprocessing::PixelFormat::kBayerRg8}};
  for (const auto& [proto, expected] : formats) {
    v1::GenerateRequest request = ValidRequest();
    request.mutable_images(0)->mutable_raw()->set_pixel_format(proto);
    GenerationRequest out;
    REQUIRE(Map(request, &out).ok());
    CHECK(out.images[0].raw->format == expected);
  }
}

TEST_CASE("an image without pixels is rejected naming its index") {
  v1::GenerateRequest request = ValidRequest();
  request.add_images();
  RequireInvalid(request, "images[1]: no pixels");
  request.mutable_images(1)->set_encoded("");
  RequireInvalid(request, "images[1].encoded: empty");
}

TEST_CASE("a raw frame needs a known pixel format") {
  v1::GenerateRequest request = ValidRequest();
  request.mutable_images(0)->mutable_raw()->set_width(4);
  RequireInvalid(request, "images[0].raw.pixel_format: 0 is not a pixel format");
  request.mutable_images(0)->mutable_raw()->set_pixel_format(static_cast<v1::PixelFormat>(9));
  RequireInvalid(request, "images[0].raw.pixel_format: 9 is not a pixel format");
}

TEST_CASE("sizes beyond int are rejected rather than wrapped") {
  v1::GenerateRequest request = ValidRequest();
  v1::RawFrame* raw = request.mutable_images(0)->mutable_raw();
  raw->set_pixel_format(v1::PIXEL_FORMAT_MONO8);
  raw->set_width(3'000'000'000u);
  RequireInvalid(request, "images[0].raw.width: 3000000000 is larger than the limit 2147483647");
  raw->set_width(4);
  request.mutable_images(0)->mutable_roi()->set_y(4'000'000'000u);
  RequireInvalid(request, "images[0].roi.y: 4000000000 is larger than the limit");
}

TEST_CASE("the prompt must not be empty") {
  v1::GenerateRequest request = ValidRequest();
  request.clear_prompt();
  RequireInvalid(request, "prompt: empty");
}

TEST_CASE("sampling parameters outside their ranges name the field and the range") {
  v1::GenerateRequest request = ValidRequest();
  v1::SamplingParams* sampling = request.mutable_sampling();
  SECTION("max_new_tokens") {
    sampling->set_max_new_tokens(0);
    RequireInvalid(request, "sampling.max_new_tokens: 0; must be at least 1");
  }
  SECTION("temperature") {
    sampling->set_temperature(-0.5f);
    RequireInvalid(request, "sampling.temperature: -0.5 is outside [0, 100]");
    sampling->set_temperature(std::numeric_limits<float>::quiet_NaN());
    RequireInvalid(request, "sampling.temperature: nan is outside [0, 100]");
    sampling->set_temperature(0.0f);
    CHECK(Map(request).ok());
  }
  SECTION("top_k") {
    sampling->set_top_k(1001);
    RequireInvalid(request, "sampling.top_k: 1001 is larger than the vocabulary size 1000");
    sampling->set_top_k(1000);
    CHECK(Map(request).ok());
  }
  SECTION("top_p") {
    sampling->set_top_p(0.0f);
    RequireInvalid(request, "sampling.top_p: 0 is outside (0, 1]");
    sampling->set_top_p(1.5f);
    RequireInvalid(request, "sampling.top_p: 1.5 is outside (0, 1]");
    sampling->set_top_p(1.0f);
    CHECK(Map(request).ok());
  }
  SECTION("repetition_penalty") {
    sampling->set_repetition_penalty(0.0f);
    RequireInvalid(request, "sampling.repetition_penalty: 0 is outside (0, 10]");
    sampling->set_repetition_penalty(std::numeric_limits<float>::infinity());
    RequireInvalid(request, "sampling.repetition_penalty: inf is outside (0, 10]");
  }
  SECTION("stop strings") {
    sampling->add_stop("");
    RequireInvalid(request, "sampling.stop[0]: 0 bytes; must be 1 to 256");
    sampling->set_stop(0, std::string(257, 'x'));
    RequireInvalid(request, "sampling.stop[0]: 257 bytes; must be 1 to 256");
    sampling->set_stop(0, "END");
    for (int i = 0; i < 16; ++i) sampling->add_stop("x");
    RequireInvalid(request, "sampling.stop: 17 strings; at most 16");
  }
}

TEST_CASE("priorities map to the scheduler's classes and unknown ones are rejected") {
  v1::GenerateRequest request = ValidRequest();
  GenerationRequest out;
  request.set_priority(v1::PRIORITY_BACKGROUND);
  REQUIRE(Map(request, &out).ok());
  CHECK(out.priority == Priority::kBackground);
  request.set_priority(v1::PRIORITY_NORMAL);
  REQUIRE(Map(request, &out).ok());
  CHECK(out.priority == Priority::kNormal);
  request.set_priority(static_cast<v1::Priority>(7));
  RequireInvalid(request, "priority: 7 is not a priority");
}

TEST_CASE("request ids are bounded printable ASCII") {
  v1::GenerateRequest request = ValidRequest();
  request.set_request_id(std::string(129, 'a'));
  RequireInvalid(request, "request_id: 129 bytes; at most 128");
  request.set_request_id("has space");
  RequireInvalid(request, "request_id: must be printable ASCII");
  request.set_request_id(std::string(128, 'a'));
  CHECK(Map(request).ok());
}

}  // namespace auroraedge::server::grpc_api
