#pragma once

#include <opencv2/core/mat.hpp>

namespace auroraedge::preprocessing {

enum class ChannelOrder { kGray, kRgb, kBgr };

// An image with 1 (kGray) or 3 channels, possibly a view into the caller's
// buffer: grey and BGR images are resized as they are and only turned into
// RGB when the patches are written. Depth CV_8U for 8-bit sources; CV_32F
// holding 0..255 for raw formats of 10 to 16 bits, which are scaled, not
// truncated to 8 bits: the area resize averages many source pixels per
// output pixel and so recovers levels finer than 8 bits, which the float
// patches keep.
struct Pixels {
  cv::Mat image;
  ChannelOrder order = ChannelOrder::kRgb;
};

}  // namespace auroraedge::preprocessing
