#pragma once

#include <string>

#include "auroraedge/preprocessing/image_source.h"
#include "auroraedge/preprocessing/patches.h"

namespace auroraedge::server {

// Lower-case hex SHA-256 of the bytes the client sent for an image (the
// encoded file or the raw frame's data), for the request log.
std::string ImageSha256(const preprocessing::ImageSource& image);

// Lower-case hex SHA-256 of what the vision encoder is given for an image:
// its patch grid and the patches' float bytes. Equal for equal encoder
// input whatever bytes, format or ROI it came from: the image-feature
// cache's key.
std::string PatchSha256(const preprocessing::PatchImage& image);

}  // namespace auroraedge::server
