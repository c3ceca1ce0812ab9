#pragma once

#include <cstdint>
#include <string_view>

namespace auroraedge::preprocessing {

enum class EncodedFormat { kJpeg, kPng, kBmp, kTiff };

struct EncodedHeader {
  EncodedFormat format = EncodedFormat::kJpeg;
  int64_t width = 0;
  int64_t height = 0;
};

// Recognises JPEG, PNG, BMP and TIFF by their signature and reads the image
// dimensions from the header alone, so that limits are enforced before a
// decoder allocates anything. A JPEG must also carry its end-of-image marker
// after the scan data: libjpeg silently pads a truncated stream with grey.
// Throws PreprocessError naming images[image_index].encoded.
EncodedHeader ReadEncodedHeader(std::string_view bytes, int image_index);

const char* FormatName(EncodedFormat format);

}  // namespace auroraedge::preprocessing
