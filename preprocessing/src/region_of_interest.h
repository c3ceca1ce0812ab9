#pragma once

#include <opencv2/core/types.hpp>
#include <optional>

#include "auroraedge/preprocessing/image_source.h"

namespace auroraedge::preprocessing {

// The region of a width x height image to keep: the whole image without a
// ROI. Throws PreprocessError naming images[image_index].roi when the ROI is
// empty or reaches outside the image.
cv::Rect CheckedRegion(const std::optional<RegionOfInterest>& roi, int width, int height,
                       int image_index);

}  // namespace auroraedge::preprocessing
