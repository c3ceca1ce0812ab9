#pragma once

// One request's preprocessing, as a worker thread runs it.

#include <vector>

#include "auroraedge/preprocessing/image_source.h"
#include "auroraedge/preprocessing/preprocess.h"
#include "live_request.h"

namespace auroraedge::server {

// Turns every image into patches and a log record, and with
// `feature_keys` each image's image-feature cache key (PatchSha256). Bad
// input becomes an INVALID_ARGUMENT status naming the image; never throws.
PreprocessedImages PreprocessImages(SequenceId id,
                                    const std::vector<preprocessing::ImageSource>& images,
                                    const preprocessing::PreprocessConfig& config,
                                    bool feature_keys);

}  // namespace auroraedge::server
