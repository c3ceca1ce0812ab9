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
  return MapGenerateRequest(request, out != nullptr ? out : &scratch);
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
      {v1::PIXEL_FORMAT_BAYER_RG8, preprocessing::PixelFormat::kBayerRg8},
      {v1::PIXEL_FORMAT_BAYER_GR8, preprocessing::PixelFormat::kBayerGr8},
      {v1::PIXEL_FORMAT_BAYER_GB8, preprocessing::PixelFormat::kBayerGb8},
      {v1::PIXEL_FORMAT_BAYER_BG8, preprocessing::PixelFormat::kBayerBg8},
      {v1::PIXEL_FORMAT_MONO10, preprocessing::PixelFormat::kMono10},
      {v1::PIXEL_FORMAT_MONO12, preprocessing::PixelFormat::kMono12},
      {v1::PIXEL_FORMAT_MONO16, preprocessing::PixelFormat::kMono16},
      {v1::PIXEL_FORMAT_MONO10P, preprocessing::PixelFormat::kMono10p},
      {v1::PIXEL_FORMAT_MONO12P, preprocessing::PixelFormat::kMono12p},
      {v1::PIXEL_FORMAT_BAYER_RG12, preprocessing::PixelFormat::kBayerRg12},
      {v1::PIXEL_FORMAT_BAYER_RG16, preprocessing::PixelFormat::kBayerRg16}};
  for (const auto& [proto, expected] : formats) {
    v1::GenerateRequest request = ValidRequest();
    request.mutable_images(0)->mutable_raw()->set_pixel_format(proto);
    GenerationRequest out;
    REQUIRE(Map(request, &out).ok());
    CHECK(out.images[0].raw->format == expected);
  }
}

TEST_CASE("every pixel format the proto declares is mapped") {
  const auto* descriptor = v1::PixelFormat_descriptor();
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const auto proto = static_cast<v1::PixelFormat>(descriptor->value(i)->number());
    if (proto == v1::PIXEL_FORMAT_UNSPECIFIED) continue;
    INFO(descriptor->value(i)->name());
    v1::GenerateRequest request = ValidRequest();
    request.mutable_images(0)->mutable_raw()->set_pixel_format(proto);
    GenerationRequest out;
    CHECK(Map(request, &out).ok());
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
  request.mutable_images(0)->mutable_raw()->set_pixel_format(static_cast<v1::PixelFormat>(99));
  RequireInvalid(request,
                 "images[0].raw.pixel_format: 99 is not a pixel format; use one of "
                 "PIXEL_FORMAT_MONO8, PIXEL_FORMAT_RGB8");
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

TEST_CASE("sampling values pass through as sent: their ranges are the preparation's to check") {
  v1::GenerateRequest request = ValidRequest();
  v1::SamplingParams* sampling = request.mutable_sampling();
  sampling->set_max_new_tokens(0);
  sampling->set_temperature(-0.5f);
  sampling->set_top_k(1u << 20);
  sampling->set_top_p(std::numeric_limits<float>::quiet_NaN());
  sampling->add_stop("");
  GenerationRequest out;
  REQUIRE(Map(request, &out).ok());
  CHECK(out.sampling.max_new_tokens == 0);
  CHECK(out.sampling.temperature == -0.5f);
  CHECK(out.sampling.top_k == 1 << 20);
  CHECK(std::isnan(*out.sampling.top_p));
  CHECK(out.sampling.stop == std::vector<std::string>{""});
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

namespace auroraedge::server::grpc_api {

TEST_CASE("log-probabilities, choice, json_schema and image roles map as sent") {
  v1::GenerateRequest request = ValidRequest();
  request.add_images()->set_encoded("golden");
  request.mutable_images(1)->set_role(v1::IMAGE_ROLE_REFERENCE);
  v1::SamplingParams* sampling = request.mutable_sampling();
  sampling->set_top_logprobs(0);
  sampling->add_choice("OK");
  sampling->add_choice("NG");
  sampling->set_json_schema("{\"type\":\"boolean\"}");
  GenerationRequest out;
  REQUIRE(Map(request, &out).ok());
  CHECK(out.sampling.top_logprobs == 0);
  CHECK(out.sampling.choice == std::vector<std::string>{"OK", "NG"});
  CHECK(out.sampling.json_schema == "{\"type\":\"boolean\"}");
  CHECK(out.image_roles ==
        std::vector<model::ImageRole>{model::ImageRole::kTest, model::ImageRole::kReference});
  // Without a reference the roles stay empty: the layout without captions.
  GenerationRequest plain;
  REQUIRE(Map(ValidRequest(), &plain).ok());
  CHECK(plain.image_roles.empty());
  CHECK_FALSE(plain.sampling.top_logprobs.has_value());
  request.mutable_images(1)->set_role(static_cast<v1::ImageRole>(9));
  RequireInvalid(request, "images[1].role: 9 is not an image role");
}

TEST_CASE("an Inspect request maps field by field") {
  v1::InspectRequest request;
  request.set_prompt("Is the part OK or NG?");
  request.add_images()->set_encoded("\x89PNG....");
  request.add_labels("OK");
  request.add_labels("NG");
  request.set_request_id("cam2-17");
  request.set_priority(v1::PRIORITY_LINE_CRITICAL);
  request.set_system_prompt("You inspect parts.");
  v1::DecisionRule* rule = request.mutable_decision_rule();
  rule->set_label("NG");
  rule->set_ok_below(0.5);
  rule->set_ng_from(0.8);
  InspectionRequest out;
  REQUIRE(MapInspectRequest(request, &out).ok());
  CHECK(out.prompt == "Is the part OK or NG?");
  CHECK(out.labels == std::vector<std::string>{"OK", "NG"});
  CHECK(out.request_id == "cam2-17");
  CHECK(out.priority == Priority::kLineCritical);
  CHECK(out.system_prompt == "You inspect parts.");
  REQUIRE(out.images.size() == 1);
  REQUIRE(out.decision_rule);
  CHECK(out.decision_rule->label == "NG");
  CHECK(out.decision_rule->ok_below == 0.5);
  CHECK(out.decision_rule->ng_from == 0.8);

  InspectionRequest no_rule;
  request.clear_decision_rule();
  REQUIRE(MapInspectRequest(request, &no_rule).ok());
  CHECK_FALSE(no_rule.decision_rule);
  // The labels are the preparation's to check; the protocol's fields are
  // checked here.
  request.clear_labels();
  CHECK(MapInspectRequest(request, &no_rule).ok());
  request.set_prompt("");
  CHECK_THAT(MapInspectRequest(request, &no_rule).message, Catch::Matchers::StartsWith("prompt"));
  request.set_prompt("p");
  request.set_request_id("has space");
  CHECK_THAT(MapInspectRequest(request, &no_rule).message,
             Catch::Matchers::StartsWith("request_id"));
}

}  // namespace auroraedge::server::grpc_api
