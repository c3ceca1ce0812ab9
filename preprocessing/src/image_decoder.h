#pragma once

#include <opencv2/core/mat.hpp>
#include <string>
#include <string_view>

#include "pixels.h"

namespace auroraedge::preprocessing {

// The pixels of a JPEG, PNG, BMP or TIFF as stored (EXIF orientation not
// applied), 8 bits per channel: grey images stay one channel, colour ones
// are RGB (alpha dropped, palettes expanded, 16-bit samples cut to their high
// byte). Decoded by Leptonica, which reads each format through its reference
// library (libjpeg-turbo, libpng, libtiff; BMP itself), the same in every
// build: OpenCV's imgcodecs would bring GDAL and about 140 libraries with it.
struct DecodedImage {
  Pixels pixels;      // empty image when the data could not be decoded
  std::string error;  // why, when it could not
};

// Thread-safe. Never throws for bad data.
DecodedImage DecodeImage(std::string_view encoded);

}  // namespace auroraedge::preprocessing
