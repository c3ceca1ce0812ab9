#include "request_mapping.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

namespace auroraedge::server::grpc_api {
namespace {

Status Invalid(const std::string& field, const std::string& problem) {
  return {StatusCode::kInvalidArgument, field + ": " + problem};
}

std::string FormatFloat(float value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
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
  switch (format) {
    case v1::PIXEL_FORMAT_MONO8:
      *out = preprocessing::PixelFormat::kMono8;
      return Status::Ok();
    case v1::PIXEL_FORMAT_RGB8:
      *out = preprocessing::PixelFormat::kRgb8;
      return Status::Ok();
    case v1::PIXEL_FORMAT_BGR8:
      *out = preprocessing::PixelFormat::kBgr8;
      return Status::Ok();
    case v1::PIXEL_FORMAT_BAYER_RG8:
      *out = preprocessing::PixelFormat::kBayerRg8;
      return Status::Ok();
    default:
      return Invalid(field, std::to_string(static_cast<int>(format)) +
                                " is not a pixel format; use PIXEL_FORMAT_MONO8, "
                                "PIXEL_FORMAT_RGB8, PIXEL_FORMAT_BGR8 or PIXEL_FORMAT_BAYER_RG8");
  }
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

Status CheckRange(float value, float low, bool low_inclusive, float high,
                  const std::string& field) {
  const bool above_low = low_inclusive ? value >= low : value > low;
  if (std::isfinite(value) && above_low && value <= high) return Status::Ok();
  return Invalid(field, FormatFloat(value) + " is outside " + (low_inclusive ? "[" : "(") +
                            FormatFloat(low) + ", " + FormatFloat(high) + "]");
}

Status MapSampling(const v1::SamplingParams& in, const RequestBounds& bounds, SamplingParams* out) {
  Status status;
  if (in.has_max_new_tokens()) {
    if (in.max_new_tokens() == 0)
      return Invalid("sampling.max_new_tokens", "0; must be at least 1");
    status = ToInt(in.max_new_tokens(), "sampling.max_new_tokens", &out->max_new_tokens.emplace());
    if (!status.ok()) return status;
  }
  if (in.has_temperature()) {
    status = CheckRange(in.temperature(), 0.0f, true, RequestBounds::kMaxTemperature,
                        "sampling.temperature");
    if (!status.ok()) return status;
    out->temperature = in.temperature();
  }
  if (in.has_top_k()) {
    if (bounds.vocab_size > 0 && in.top_k() > static_cast<uint32_t>(bounds.vocab_size)) {
      return Invalid("sampling.top_k", std::to_string(in.top_k()) +
                                           " is larger than the vocabulary size " +
                                           std::to_string(bounds.vocab_size));
    }
    status = ToInt(in.top_k(), "sampling.top_k", &out->top_k.emplace());
    if (!status.ok()) return status;
  }
  if (in.has_top_p()) {
    status = CheckRange(in.top_p(), 0.0f, false, 1.0f, "sampling.top_p");
    if (!status.ok()) return status;
    out->top_p = in.top_p();
  }
  if (in.has_repetition_penalty()) {
    status = CheckRange(in.repetition_penalty(), 0.0f, false, RequestBounds::kMaxRepetitionPenalty,
                        "sampling.repetition_penalty");
    if (!status.ok()) return status;
    out->repetition_penalty = in.repetition_penalty();
  }
  if (in.has_seed()) out->seed = in.seed();
  if (in.stop_size() > RequestBounds::kMaxStopStrings) {
    return Invalid("sampling.stop", std::to_string(in.stop_size()) + " strings; at most " +
                                        std::to_string(RequestBounds::kMaxStopStrings));
  }
  for (int i = 0; i < in.stop_size(); ++i) {
    const std::string& stop = in.stop(i);
    if (stop.empty() || stop.size() > static_cast<size_t>(RequestBounds::kMaxStopStringBytes)) {
      return Invalid("sampling.stop[" + std::to_string(i) + "]",
                     std::to_string(stop.size()) + " bytes; must be 1 to " +
                         std::to_string(RequestBounds::kMaxStopStringBytes));
    }
  }
  out->stop.assign(in.stop().begin(), in.stop().end());
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
  if (id.size() > static_cast<size_t>(RequestBounds::kMaxRequestIdBytes)) {
    return Invalid("request_id", std::to_string(id.size()) + " bytes; at most " +
                                     std::to_string(RequestBounds::kMaxRequestIdBytes));
  }
  for (unsigned char c : id) {
    if (c < 0x21 || c > 0x7e) {
      return Invalid("request_id", "must be printable ASCII without spaces");
    }
  }
  return Status::Ok();
}

}  // namespace

Status MapGenerateRequest(const v1::GenerateRequest& request, const RequestBounds& bounds,
                          GenerationRequest* out) {
  Status status = CheckRequestId(request.request_id());
  if (!status.ok()) return status;
  out->request_id = request.request_id();
  out->images.clear();
  out->images.reserve(request.images_size());
  for (int i = 0; i < request.images_size(); ++i) {
    status = MapImage(request.images(i), "images[" + std::to_string(i) + "]",
                      &out->images.emplace_back());
    if (!status.ok()) return status;
  }
  if (request.prompt().empty()) return Invalid("prompt", "empty; ask the model something");
  out->prompt = request.prompt();
  out->system_prompt = request.system_prompt();
  status = MapSampling(request.sampling(), bounds, &out->sampling);
  if (!status.ok()) return status;
  status = MapPriority(request.priority(), &out->priority);
  if (!status.ok()) return status;
  out->skip_special_tokens = !request.keep_special_tokens();
  return Status::Ok();
}

}  // namespace auroraedge::server::grpc_api
