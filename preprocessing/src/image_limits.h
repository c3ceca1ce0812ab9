#pragma once

#include <cstdint>
#include <string>

#include "auroraedge/preprocessing/preprocess.h"

namespace auroraedge::preprocessing {

// Refuses a width x height image with a side <= 0 or more pixels than
// config.max_pixels; `what` names it in the message ("PNG", "raw frame").
void CheckImageSize(int64_t width, int64_t height, const std::string& what,
                    const std::string& field, int image_index, const PreprocessConfig& config);

}  // namespace auroraedge::preprocessing
