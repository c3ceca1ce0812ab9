#include "request_mapping.h"

#include <cstdio>
#include <limits>
#include <string>
#include <utility>

namespace auroraedge::server::grpc_api {
namespace {

Status Invalid(const std::string& field, const std::string& problem) {
  return {StatusCode::kInvalidArgument, field + ": " + problem};
}

// Proto sizes are uint32; the engine's are int.
Status ToInt(uint32_t value, const std::string& field, int* out) {
  if (value > static_cast<uint32_t>(std::numeric_limits<int>::max())) {
    return Invalid(field, std::to_string(value) + " is larger than the limit " +
                              std::to_string(std::numeric_limits<int>::max()));
  }
  *out = static_cast<int>(value);
  return Status::Ok();
}

Status MapPixelFormat(v1::PixelFormat format, const std::string& field,
                      preprocessing::PixelFormat* out) {
  using Format = preprocessing::PixelFormat;
  static constexpr std::pair<v1::PixelFormat, Format> kFormats[] = {
      {v1::PIXEL_FORMAT_MONO8, Format::kMono8},
      {v1::PIXEL_FORMAT_RGB8, Format::kRgb8},
      {v1::PIXEL_FORMAT_BGR8, Format::kBgr8},
      {v1::PIXEL_FORMAT_BAYER_RG8, Format::kBayerRg8},
      {v1::PIXEL_FORMAT_BAYER_GR8, Format::kBayerGr8},
      {v1::PIXEL_FORMAT_BAYER_GB8, Format::kBayerGb8},
      {v1::PIXEL_FORMAT_BAYER_BG8, Format::kBayerBg8},
      {v1::PIXEL_FORMAT_MONO10, Format::kMono10},
      {v1::PIXEL_FORMAT_MONO12, Format::kMono12},
      {v1::PIXEL_FORMAT_MONO16, Format::kMono16},
      {v1::PIXEL_FORMAT_MONO10P, Format::kMono10p},
      {v1::PIXEL_FORMAT_MONO12P, Format::kMono12p},
      {v1::PIXEL_FORMAT_BAYER_RG12, Format::kBayerRg12},
      {v1::PIXEL_FORMAT_BAYER_RG16, Format::kBayerRg16}};
  std::string names;
  for (const auto& [proto, mapped] : kFormats) {
    if (proto == format) {
      *out = mapped;
      return Status::Ok();
    }
    names += (names.empty() ? "" : ", ") + v1::PixelFormat_Name(proto);
  }
  return Invalid(field, std::to_string(static_cast<int>(format)) +
                            " is not a pixel format; use one of " + names);
}

Status MapRawFrame(const v1::RawFrame& raw, const std::string& field,
                   preprocessing::RawFrame* out) {
  out->data = raw.data();
  Status status = ToInt(raw.width(), field + ".width", &out->width);
  if (status.ok()) status = ToInt(raw.height(), field + ".height", &out->height);
  if (status.ok()) status = ToInt(raw.stride(), field + ".stride", &out->stride);
  if (status.ok())
    status = MapPixelFormat(raw.pixel_format(), field + ".pixel_format", &out->format);
  return status;
}

Status MapRoi(const v1::RegionOfInterest& roi, const std::string& field,
              preprocessing::RegionOfInterest* out) {
  Status status = ToInt(roi.x(), field + ".x", &out->x);
  if (status.ok()) status = ToInt(roi.y(), field + ".y", &out->y);
  if (status.ok()) status = ToInt(roi.width(), field + ".width", &out->width);
  if (status.ok()) status = ToInt(roi.height(), field + ".height", &out->height);
  return status;
}

Status MapImageRole(v1::ImageRole role, const std::string& field, model::ImageRole* out) {
  switch (role) {
    case v1::IMAGE_ROLE_UNSPECIFIED:
    case v1::IMAGE_ROLE_TEST:
      *out = model::ImageRole::kTest;
      return Status::Ok();
    case v1::IMAGE_ROLE_REFERENCE:
      *out = model::ImageRole::kReference;
      return Status::Ok();
    default:
      return Invalid(field, std::to_string(static_cast<int>(role)) +
                                " is not an image role; use IMAGE_ROLE_TEST or "
                                "IMAGE_ROLE_REFERENCE");
  }
}

Status MapImage(const v1::Image& image, const std::string& field, preprocessing::ImageSource* out) {
  switch (image.source_case()) {
    case v1::Image::kEncoded:
      if (image.encoded().empty()) {
        return Invalid(field + ".encoded",
                       "empty; send the bytes of a JPEG, PNG, BMP or TIFF file");
      }
      out->encoded = image.encoded();
      break;
    case v1::Image::kRaw: {
      Status status = MapRawFrame(image.raw(), field + ".raw", &out->raw.emplace());
      if (!status.ok()) return status;
      break;
    }
    default:
      return Invalid(field, "no pixels; set either `encoded` or `raw`");
  }
  if (image.has_roi()) return MapRoi(image.roi(), field + ".roi", &out->roi.emplace());
  return Status::Ok();
}

// Range checks of the sampling parameters belong to the request's
// preparation (engine_loop/request_preparation.h), where the model's limits
// are known; here only the protocol's types are mapped.
Status MapSampling(const v1::SamplingParams& in, SamplingParams* out) {
  Status status;
  if (in.has_max_new_tokens()) {
    status = ToInt(in.max_new_tokens(), "sampling.max_new_tokens", &out->max_new_tokens.emplace());
    if (!status.ok()) return status;
  }
  if (in.has_temperature()) out->temperature = in.temperature();
  if (in.has_top_k()) {
    status = ToInt(in.top_k(), "sampling.top_k", &out->top_k.emplace());
    if (!status.ok()) return status;
  }
  if (in.has_top_p()) out->top_p = in.top_p();
  if (in.has_repetition_penalty()) out->repetition_penalty = in.repetition_penalty();
  if (in.has_seed()) out->seed = in.seed();
  out->stop.assign(in.stop().begin(), in.stop().end());
  if (in.has_top_logprobs()) {
    status = ToInt(in.top_logprobs(), "sampling.top_logprobs", &out->top_logprobs.emplace());
    if (!status.ok()) return status;
  }
  out->choice.assign(in.choice().begin(), in.choice().end());
  out->json_schema = in.json_schema();
  return Status::Ok();
}

Status MapPriority(v1::Priority priority, Priority* out) {
  switch (priority) {
    case v1::PRIORITY_UNSPECIFIED:
    case v1::PRIORITY_NORMAL:
      *out = Priority::kNormal;
      return Status::Ok();
    case v1::PRIORITY_LINE_CRITICAL:
      *out = Priority::kLineCritical;
      return Status::Ok();
    case v1::PRIORITY_BACKGROUND:
      *out = Priority::kBackground;
      return Status::Ok();
    default:
      return Invalid("priority", std::to_string(static_cast<int>(priority)) +
                                     " is not a priority; use PRIORITY_LINE_CRITICAL, "
                                     "PRIORITY_NORMAL or PRIORITY_BACKGROUND");
  }
}

Status CheckRequestId(const std::string& id) {
  if (id.size() > static_cast<size_t>(kMaxRequestIdBytes)) {
    return Invalid("request_id", std::to_string(id.size()) + " bytes; at most " +
                                     std::to_string(kMaxRequestIdBytes));
  }
  for (unsigned char c : id) {
    if (c < 0x21 || c > 0x7e) {
      return Invalid("request_id", "must be printable ASCII without spaces");
    }
  }
  return Status::Ok();
}

// Images and their roles; the roles stay empty when every image is a test
// image (the prompt layout without captions).
Status MapImages(const google::protobuf::RepeatedPtrField<v1::Image>& images,
                 std::vector<preprocessing::ImageSource>* out,
                 std::vector<model::ImageRole>* roles) {
  out->clear();
  out->reserve(images.size());
  roles->clear();
  bool any_reference = false;
  for (int i = 0; i < images.size(); ++i) {
    const std::string field = "images[" + std::to_string(i) + "]";
    Status status = MapImage(images[i], field, &out->emplace_back());
    if (!status.ok()) return status;
    status = MapImageRole(images[i].role(), field + ".role", &roles->emplace_back());
    if (!status.ok()) return status;
    any_reference = any_reference || roles->back() == model::ImageRole::kReference;
  }
  if (!any_reference) roles->clear();
  return Status::Ok();
}

}  // namespace

Status MapGenerateRequest(const v1::GenerateRequest& request, GenerationRequest* out) {
  Status status = CheckRequestId(request.request_id());
  if (!status.ok()) return status;
  out->request_id = request.request_id();
  status = MapImages(request.images(), &out->images, &out->image_roles);
  if (!status.ok()) return status;
  if (request.prompt().empty()) return Invalid("prompt", "empty; ask the model something");
  out->prompt = request.prompt();
  out->system_prompt = request.system_prompt();
  status = MapSampling(request.sampling(), &out->sampling);
  if (!status.ok()) return status;
  status = MapPriority(request.priority(), &out->priority);
  if (!status.ok()) return status;
  out->skip_special_tokens = !request.keep_special_tokens();
  return Status::Ok();
}

Status MapInspectRequest(const v1::InspectRequest& request, InspectionRequest* out) {
  Status status = CheckRequestId(request.request_id());
  if (!status.ok()) return status;
  out->request_id = request.request_id();
  status = MapImages(request.images(), &out->images, &out->image_roles);
  if (!status.ok()) return status;
  if (request.prompt().empty()) return Invalid("prompt", "empty; ask the question to answer");
  out->prompt = request.prompt();
  out->system_prompt = request.system_prompt();
  out->labels.assign(request.labels().begin(), request.labels().end());
  if (request.has_decision_rule()) {
    const v1::DecisionRule& rule = request.decision_rule();
    out->decision_rule = DecisionRule{rule.label(), rule.ok_below(), rule.ng_from()};
  }
  return MapPriority(request.priority(), &out->priority);
}

}  // namespace auroraedge::server::grpc_api
