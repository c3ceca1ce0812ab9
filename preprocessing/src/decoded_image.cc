#include "decoded_image.h"

#include <algorithm>
#include <climits>
#include <opencv2/imgcodecs.hpp>
#include <string>

#include "encoded_header.h"
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

cv::Mat Decode(std::string_view encoded, const char* format_name, int image_index) {
  // imdecode only reads its input; the Mat merely wraps the caller's bytes.
  const cv::Mat bytes(1, static_cast<int>(encoded.size()), CV_8UC1,
                      const_cast<char*>(encoded.data()));
  cv::Mat image;
  std::string reason = "corrupt or truncated data";
  try {
    // ANYCOLOR keeps grey images single-channel and drops alpha; without
    // ANYDEPTH 16-bit images come back as 8-bit.
    image = cv::imdecode(bytes, cv::IMREAD_ANYCOLOR | cv::IMREAD_IGNORE_ORIENTATION);
  } catch (const cv::Exception& e) {
    reason = e.err;
  }
  if (image.empty()) {
    RejectField(image_index, kField,
                std::string("could not decode the ") + format_name + " (" + reason + ")");
  }
  return image;
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
  const cv::Mat image = Decode(encoded, format_name, image_index);
  CheckImageSize(image.cols, image.rows, format_name, kField, image_index, config);
  const cv::Rect region = CheckedRegion(roi, image.cols, image.rows, image_index);
  return {image(region), image.channels() == 1 ? ChannelOrder::kGray : ChannelOrder::kBgr};
}

}  // namespace auroraedge::preprocessing
