#pragma once

#include <opencv2/core/mat.hpp>

namespace auroraedge::preprocessing {

enum class ChannelOrder { kGray, kRgb, kBgr };

// An 8-bit image with 1 (kGray) or 3 channels, possibly a view into the
// caller's buffer: grey and BGR images are resized as they are and only
// turned into RGB when the patches are written.
struct Pixels {
  cv::Mat image;
  ChannelOrder order = ChannelOrder::kRgb;
};

}  // namespace auroraedge::preprocessing
