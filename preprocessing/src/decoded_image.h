#pragma once

#include <optional>
#include <string_view>

#include "auroraedge/preprocessing/image_source.h"
#include "auroraedge/preprocessing/preprocess.h"
#include "pixels.h"

namespace auroraedge::preprocessing {

// Decodes a JPEG, PNG, BMP or TIFF (EXIF orientation not applied: pixels as
// stored) to 8-bit grey or RGB, then crops it to the ROI. The byte and pixel
// limits are checked, the latter from the header before decoding. Throws
// PreprocessError.
Pixels DecodedPixels(std::string_view encoded, const std::optional<RegionOfInterest>& roi,
                     int image_index, const PreprocessConfig& config);

}  // namespace auroraedge::preprocessing
