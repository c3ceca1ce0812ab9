#include "raw_frame_pixels.h"

#include <algorithm>
#include <cstdint>
#include <opencv2/imgproc.hpp>
#include <string>

#include "image_limits.h"
#include "input_error.h"
#include "pixel_layout.h"
#include "raw_frame_unpack.h"
#include "region_of_interest.h"

namespace auroraedge::preprocessing {
namespace {

void CheckMosaicSize(const RawFrame& frame, const PixelLayout& layout, int image_index) {
  // Bilinear demosaicing needs a pixel on each side of the ones it computes.
  if (layout.mosaic != Mosaic::kNone && (frame.width < 3 || frame.height < 3)) {
    RejectField(image_index, frame.width < 3 ? "raw.width" : "raw.height",
                std::string("a ") + layout.name + " frame needs at least 3 x 3 pixels, got " +
                    std::to_string(frame.width) + " x " + std::to_string(frame.height));
  }
}

void CheckPackedWidth(const RawFrame& frame, const PixelLayout& layout, int image_index) {
  const int multiple = WidthMultiple(layout);
  if (frame.width % multiple != 0) {
    RejectField(image_index, "raw.width",
                std::to_string(frame.width) + " is not a multiple of " + std::to_string(multiple) +
                    ": " + layout.name + " packs " + std::to_string(multiple) + " pixels in " +
                    std::to_string(RowBytes(layout, multiple)) +
                    " bytes and each row must hold whole groups");
  }
}

// Returns the row pitch in bytes.
int64_t CheckLayout(const RawFrame& frame, const PixelLayout& layout, int image_index,
                    const PreprocessConfig& config) {
  if (frame.width <= 0) {
    RejectField(image_index, "raw.width", std::to_string(frame.width) + " must be positive");
  }
  if (frame.height <= 0) {
    RejectField(image_index, "raw.height", std::to_string(frame.height) + " must be positive");
  }
  CheckMosaicSize(frame, layout, image_index);
  CheckPackedWidth(frame, layout, image_index);
  CheckImageSize(frame.width, frame.height, std::string(layout.name) + " frame", "raw", image_index,
                 config);
  const int64_t row_bytes = RowBytes(layout, frame.width);
  if (frame.stride < 0) {
    RejectField(image_index, "raw.stride",
                std::to_string(frame.stride) + " is negative (0 means rows are tightly packed)");
  }
  const int64_t stride = frame.stride == 0 ? row_bytes : frame.stride;
  if (stride < row_bytes) {
    RejectField(image_index, "raw.stride",
                std::to_string(stride) + " is smaller than a row of " +
                    std::to_string(frame.width) + " " + layout.name + " pixels (" +
                    std::to_string(row_bytes) + " bytes)");
  }
  // Rows of `stride` bytes; the last may stop right after its pixels, as a
  // camera's buffer often does. More than `height` whole rows is refused: the
  // sizes do not describe the bytes.
  const int64_t least = stride * (frame.height - 1) + row_bytes;
  const int64_t most = stride * frame.height;
  const auto size = static_cast<int64_t>(frame.data.size());
  if (size < least || size > most) {
    const std::string expected = least == most
                                     ? std::to_string(most)
                                     : std::to_string(least) + " to " + std::to_string(most);
    RejectField(image_index, "raw.data",
                std::to_string(size) + " bytes, expected " + expected + " (" +
                    std::to_string(frame.height) + " rows of stride " + std::to_string(stride) +
                    ", the last may end after its " + std::to_string(row_bytes) +
                    " bytes of pixels)");
  }
  return stride;
}

int DemosaicCode(Mosaic mosaic) {
  switch (mosaic) {
    case Mosaic::kGrbg:
      return cv::COLOR_BayerGRBG2RGB;
    case Mosaic::kGbrg:
      return cv::COLOR_BayerGBRG2RGB;
    case Mosaic::kBggr:
      return cv::COLOR_BayerBGGR2RGB;
    case Mosaic::kRggb:
    case Mosaic::kNone:
      break;
  }
  return cv::COLOR_BayerRGGB2RGB;
}

// Demosaics only the ROI plus a two-pixel margin, starting on an even
// column and row so the mosaic's phase is kept: every ROI pixel then gets the
// same value as in a demosaic of the whole frame, at a fraction of the cost.
// (A one-pixel margin would do for the interior, but OpenCV blanks a region
// less than 3 pixels high instead of repeating its edge rows.)
cv::Mat DemosaicRegion(const RawFrame& frame, const PixelLayout& layout, int64_t stride,
                       const cv::Rect& region, int image_index) {
  constexpr int kMargin = 2;
  const int left = std::max(0, region.x - kMargin) & ~1;
  const int top = std::max(0, region.y - kMargin) & ~1;
  const int right = std::min(frame.width, region.x + region.width + kMargin);
  const int bottom = std::min(frame.height, region.y + region.height + kMargin);
  const cv::Mat mosaic = UnpackRegion(frame, layout, stride,
                                      cv::Rect(left, top, right - left, bottom - top), image_index);
  cv::Mat rgb;
  cv::cvtColor(mosaic, rgb, DemosaicCode(layout.mosaic));
  return rgb(cv::Rect(region.x - left, region.y - top, region.width, region.height));
}

// Values wider than 8 bits become floats on the 0..255 scale of 8-bit
// pixels, so the resize averages them at full precision (see pixels.h).
cv::Mat ScaledToFloat(const cv::Mat& values, int max_value) {
  cv::Mat scaled;
  values.convertTo(scaled, CV_32F, 255.0 / max_value);
  return scaled;
}

}  // namespace

RawFrameLayout CheckRawFrame(const RawFrame& frame, const std::optional<RegionOfInterest>& roi,
                             int image_index, const PreprocessConfig& config) {
  const PixelLayout layout = LayoutOf(frame.format, image_index);
  const int64_t stride = CheckLayout(frame, layout, image_index, config);
  return {stride, CheckedRegion(roi, frame.width, frame.height, image_index)};
}

Pixels RawFramePixels(const RawFrame& frame, const std::optional<RegionOfInterest>& roi,
                      int image_index, const PreprocessConfig& config) {
  const PixelLayout layout = LayoutOf(frame.format, image_index);
  const auto [stride, region] = CheckRawFrame(frame, roi, image_index, config);
  cv::Mat pixels = layout.mosaic == Mosaic::kNone
                       ? UnpackRegion(frame, layout, stride, region, image_index)
                       : DemosaicRegion(frame, layout, stride, region, image_index);
  if (layout.significant_bits > 8) pixels = ScaledToFloat(pixels, layout.max_value());
  return {pixels, layout.order};
}

}  // namespace auroraedge::preprocessing
