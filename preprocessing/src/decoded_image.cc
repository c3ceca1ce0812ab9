#include "decoded_image.h"

#include <algorithm>
#include <climits>
#include <string>

#include "encoded_header.h"
#include "image_decoder.h"
#include "image_limits.h"
#include "input_error.h"
#include "region_of_interest.h"

namespace auroraedge::preprocessing {
namespace {

constexpr char kField[] = "encoded";

void CheckByteLimit(std::string_view encoded, int image_index, const PreprocessConfig& config) {
  const int64_t limit = std::min<int64_t>(config.max_encoded_bytes, INT_MAX);
  if (static_cast<int64_t>(encoded.size()) > limit) {
    RejectField(image_index, kField,
                std::to_string(encoded.size()) + " bytes is over the limit of " +
                    std::to_string(limit) + " bytes (max_encoded_bytes)");
  }
}

Pixels Decode(std::string_view encoded, const char* format_name, int image_index) {
  DecodedImage decoded = DecodeImage(encoded);
  if (decoded.pixels.image.empty()) {
    RejectField(image_index, kField,
                std::string("could not decode the ") + format_name + " (" + decoded.error + ")");
  }
  return std::move(decoded.pixels);
}

}  // namespace

Pixels DecodedPixels(std::string_view encoded, const std::optional<RegionOfInterest>& roi,
                     int image_index, const PreprocessConfig& config) {
  CheckByteLimit(encoded, image_index, config);
  const EncodedHeader header = ReadEncodedHeader(encoded, image_index);
  const char* format_name = FormatName(header.format);
  CheckImageSize(header.width, header.height, format_name, kField, image_index, config);
  if (header.truncated) {
    RejectField(image_index, kField,
                std::string("truncated ") + format_name + " (the data ends before the image)");
  }
  const Pixels decoded = Decode(encoded, format_name, image_index);
  const cv::Mat& image = decoded.image;
  CheckImageSize(image.cols, image.rows, format_name, kField, image_index, config);
  const cv::Rect region = CheckedRegion(roi, image.cols, image.rows, image_index);
  return {image(region), decoded.order};
}

}  // namespace auroraedge::preprocessing
