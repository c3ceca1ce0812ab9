#include "raw_frame_unpack.h"

#include <algorithm>
#include <opencv2/core.hpp>
#include <string>

#include "input_error.h"

namespace auroraedge::preprocessing {
namespace {

const uint8_t* RowStart(const RawFrame& frame, int64_t stride, int y) {
  return reinterpret_cast<const uint8_t*>(frame.data.data()) + y * stride;
}

// One row of 16-bit little-endian words; returns the largest value.
uint16_t UnpackWords(const uint8_t* bytes, int count, uint16_t* out) {
  uint16_t largest = 0;
  for (int x = 0; x < count; ++x) {
    out[x] = static_cast<uint16_t>(bytes[2 * x] | bytes[2 * x + 1] << 8);
    largest = std::max(largest, out[x]);
  }
  return largest;
}

// One row of values packed LSB first, `bits` (10 or 12) each, from pixel
// `first` on. A value starts at bit 0, 2, 4 or 6 of a byte and so always lies
// within two bytes; the width rule (WidthMultiple) keeps those inside the row.
void UnpackBits(const uint8_t* row, int bits, int first, int count, uint16_t* out) {
  const uint32_t mask = (1u << bits) - 1;
  for (int x = 0; x < count; ++x) {
    const int64_t bit = static_cast<int64_t>(first + x) * bits;
    const uint8_t* byte = row + bit / 8;
    const uint32_t window = byte[0] | static_cast<uint32_t>(byte[1]) << 8;
    out[x] = static_cast<uint16_t>((window >> (bit % 8)) & mask);
  }
}

[[noreturn]] void RejectValue(const cv::Mat& values, const PixelLayout& layout,
                              const cv::Rect& region, int image_index) {
  cv::Point at;
  double largest = 0;
  cv::minMaxLoc(values, nullptr, &largest, nullptr, &at);
  RejectField(image_index, "raw.data",
              std::string(layout.name) + " pixel (" + std::to_string(region.x + at.x) + ", " +
                  std::to_string(region.y + at.y) + ") holds " +
                  std::to_string(static_cast<int>(largest)) + ", above the " +
                  std::to_string(layout.significant_bits) + "-bit maximum " +
                  std::to_string(layout.max_value()) +
                  " (values must be LSB-aligned in their 16-bit words)");
}

}  // namespace

cv::Mat UnpackRegion(const RawFrame& frame, const PixelLayout& layout, int64_t stride,
                     const cv::Rect& region, int image_index) {
  if (layout.bits_per_value == 8) {
    // Read-only: nothing downstream writes through this view.
    const cv::Mat whole(frame.height, frame.width, CV_8UC(layout.channels),
                        const_cast<char*>(frame.data.data()), static_cast<size_t>(stride));
    return whole(region);
  }
  cv::Mat values(region.height, region.width, CV_16UC1);
  uint16_t largest = 0;
  for (int y = 0; y < region.height; ++y) {
    const uint8_t* row = RowStart(frame, stride, region.y + y);
    uint16_t* out = values.ptr<uint16_t>(y);
    if (layout.packed()) {
      UnpackBits(row, layout.bits_per_value, region.x, region.width, out);
    } else {
      largest = std::max(largest, UnpackWords(row + 2 * region.x, region.width, out));
    }
  }
  if (largest > layout.max_value()) RejectValue(values, layout, region, image_index);
  return values;
}

}  // namespace auroraedge::preprocessing
