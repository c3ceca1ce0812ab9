#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <optional>

#include "auroraedge/preprocessing/image_source.h"
#include "auroraedge/preprocessing/preprocess.h"
#include "pixels.h"

namespace auroraedge::preprocessing {

// A raw frame's validated layout: its row pitch and the region to keep.
struct RawFrameLayout {
  int64_t stride = 0;
  cv::Rect region;
};

// The checks of RawFramePixels() alone (sizes, packed widths, stride, byte
// count, pixel limit, ROI), for paths that read the pixels themselves.
// Throws PreprocessError.
RawFrameLayout CheckRawFrame(const RawFrame& frame, const std::optional<RegionOfInterest>& roi,
                             int image_index, const PreprocessConfig& config);

// Validates a raw camera frame (sizes, packed widths, stride, byte count,
// pixel limit) and returns its ROI: a view into frame.data for MONO8, RGB8
// and BGR8, the demosaiced ROI for a Bayer format, and for formats wider
// than 8 bits the ROI as floats on the 0..255 scale. Throws PreprocessError.
Pixels RawFramePixels(const RawFrame& frame, const std::optional<RegionOfInterest>& roi,
                      int image_index, const PreprocessConfig& config);

}  // namespace auroraedge::preprocessing
