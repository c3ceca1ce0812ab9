#pragma once

#include <string>

#include "auroraedge/preprocessing/image_source.h"

namespace auroraedge::server {

// Lower-case hex SHA-256 of the bytes the client sent for an image (the
// encoded file or the raw frame's data), for the request log.
std::string ImageSha256(const preprocessing::ImageSource& image);

}  // namespace auroraedge::server
