#include "raw_frame_pixels.h"

#include <algorithm>
#include <cstdint>
#include <opencv2/imgproc.hpp>
#include <string>

#include "image_limits.h"
#include "input_error.h"
#include "region_of_interest.h"

namespace auroraedge::preprocessing {
namespace {

struct FormatTraits {
  const char* name;
  int channels;
  ChannelOrder order;
};

FormatTraits TraitsOf(PixelFormat format, int image_index) {
  switch (format) {
    case PixelFormat::kMono8:
      return {"MONO8", 1, ChannelOrder::kGray};
    case PixelFormat::kRgb8:
      return {"RGB8", 3, ChannelOrder::kRgb};
    case PixelFormat::kBgr8:
      return {"BGR8", 3, ChannelOrder::kBgr};
    case PixelFormat::kBayerRg8:
      return {"BAYER_RG8", 1, ChannelOrder::kRgb};
  }
  RejectField(image_index, "raw.format",
              "unknown pixel format " + std::to_string(static_cast<int>(format)));
}

// Returns the row pitch in bytes.
int64_t CheckLayout(const RawFrame& frame, const FormatTraits& traits, int image_index,
                    const PreprocessConfig& config) {
  if (frame.width <= 0) {
    RejectField(image_index, "raw.width", std::to_string(frame.width) + " must be positive");
  }
  if (frame.height <= 0) {
    RejectField(image_index, "raw.height", std::to_string(frame.height) + " must be positive");
  }
  // Bilinear demosaicing needs a pixel on each side of the ones it computes.
  if (frame.format == PixelFormat::kBayerRg8 && (frame.width < 3 || frame.height < 3)) {
    RejectField(image_index, frame.width < 3 ? "raw.width" : "raw.height",
                "a BAYER_RG8 frame needs at least 3 x 3 pixels, got " +
                    std::to_string(frame.width) + " x " + std::to_string(frame.height));
  }
  CheckImageSize(frame.width, frame.height, std::string(traits.name) + " frame", "raw", image_index,
                 config);
  const int64_t row_bytes = static_cast<int64_t>(frame.width) * traits.channels;
  if (frame.stride < 0) {
    RejectField(image_index, "raw.stride",
                std::to_string(frame.stride) + " is negative (0 means rows are tightly packed)");
  }
  const int64_t stride = frame.stride == 0 ? row_bytes : frame.stride;
  if (stride < row_bytes) {
    RejectField(image_index, "raw.stride",
                std::to_string(stride) + " is smaller than a row (" +
                    std::to_string(traits.channels) + " x " + std::to_string(frame.width) + " = " +
                    std::to_string(row_bytes) + " bytes)");
  }
  const int64_t expected = stride * frame.height;
  if (static_cast<int64_t>(frame.data.size()) != expected) {
    RejectField(image_index, "raw.data",
                std::to_string(frame.data.size()) + " bytes, expected " + std::to_string(expected) +
                    " (stride " + std::to_string(stride) + " x height " +
                    std::to_string(frame.height) + ")");
  }
  return stride;
}

// Demosaics only the ROI plus a two-pixel margin, starting on an even
// column and row so the RGGB phase is kept: every ROI pixel then gets the
// same value as in a demosaic of the whole frame, at a fraction of the cost.
// (A one-pixel margin would do for the interior, but OpenCV blanks a region
// less than 3 pixels high instead of repeating its edge rows.)
cv::Mat DemosaicRegion(const cv::Mat& bayer, const cv::Rect& region) {
  constexpr int kMargin = 2;
  const int left = std::max(0, region.x - kMargin) & ~1;
  const int top = std::max(0, region.y - kMargin) & ~1;
  const int right = std::min(bayer.cols, region.x + region.width + kMargin);
  const int bottom = std::min(bayer.rows, region.y + region.height + kMargin);
  cv::Mat rgb;
  cv::cvtColor(bayer(cv::Rect(left, top, right - left, bottom - top)), rgb,
               cv::COLOR_BayerRGGB2RGB);
  return rgb(cv::Rect(region.x - left, region.y - top, region.width, region.height));
}

}  // namespace

Pixels RawFramePixels(const RawFrame& frame, const std::optional<RegionOfInterest>& roi,
                      int image_index, const PreprocessConfig& config) {
  const FormatTraits traits = TraitsOf(frame.format, image_index);
  const int64_t stride = CheckLayout(frame, traits, image_index, config);
  const cv::Rect region = CheckedRegion(roi, frame.width, frame.height, image_index);
  // A read-only view of the caller's bytes: nothing below writes through it.
  const cv::Mat whole(frame.height, frame.width, CV_8UC(traits.channels),
                      const_cast<char*>(frame.data.data()), static_cast<size_t>(stride));
  if (frame.format == PixelFormat::kBayerRg8) return {DemosaicRegion(whole, region), traits.order};
  return {whole(region), traits.order};
}

}  // namespace auroraedge::preprocessing
