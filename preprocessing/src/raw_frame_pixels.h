#pragma once

#include <optional>

#include "auroraedge/preprocessing/image_source.h"
#include "auroraedge/preprocessing/preprocess.h"
#include "pixels.h"

namespace auroraedge::preprocessing {

// Validates a raw camera frame (sizes, stride, byte count, pixel limit) and
// returns its ROI: a view into frame.data for Mono8, RGB8 and BGR8, the
// demosaiced ROI for Bayer RG8. Throws PreprocessError.
Pixels RawFramePixels(const RawFrame& frame, const std::optional<RegionOfInterest>& roi,
                      int image_index, const PreprocessConfig& config);

}  // namespace auroraedge::preprocessing
