#pragma once

#include <cstdint>
#include <opencv2/core/mat.hpp>

#include "auroraedge/preprocessing/image_source.h"
#include "pixel_layout.h"

namespace auroraedge::preprocessing {

// The pixels of `region` of a frame whose layout has been checked (rows of
// `stride` bytes, each at least RowBytes()): for 8-bit formats a read-only
// view into frame.data; for wider ones a CV_16U copy holding each value as a
// number, read byte by byte (little-endian words, LSB-first bit packing), so
// the frame may sit at any alignment. Throws PreprocessError naming
// images[image_index].raw.data when a value exceeds layout.max_value() (a
// camera sending MSB-aligned or wider data than its format says).
cv::Mat UnpackRegion(const RawFrame& frame, const PixelLayout& layout, int64_t stride,
                     const cv::Rect& region, int image_index);

}  // namespace auroraedge::preprocessing
