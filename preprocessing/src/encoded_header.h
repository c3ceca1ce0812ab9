#pragma once

#include <cstdint>
#include <string_view>

namespace auroraedge::preprocessing {

enum class EncodedFormat { kJpeg, kPng, kBmp, kTiff };

struct EncodedHeader {
  EncodedFormat format = EncodedFormat::kJpeg;
  int64_t width = 0;
  int64_t height = 0;
  // The data stops before the image does, as far as the headers tell.
  bool truncated = false;
};

// Recognises JPEG, PNG, BMP and TIFF by their signature and reads the image
// dimensions from the header alone, so that limits are enforced before a
// decoder allocates anything. A JPEG counts as truncated without its
// end-of-image marker after the scan data, since libjpeg silently pads a cut
// stream with grey. Throws PreprocessError naming images[image_index].encoded
// when the format is unknown or the header itself is cut or corrupt.
EncodedHeader ReadEncodedHeader(std::string_view bytes, int image_index);

const char* FormatName(EncodedFormat format);

}  // namespace auroraedge::preprocessing
