#pragma once

#include <optional>
#include <string>

namespace auroraedge::preprocessing {

// Raw camera pixel layouts, named after GenICam's pixel format naming
// convention (PFNC). Values wider than 8 bits are unsigned, in 16-bit
// little-endian words (MONO10/12/16, BAYER_RG12/16) or bit-packed LSB first
// (MONO10P: 4 pixels in 5 bytes, MONO12P: 2 pixels in 3 bytes). A Bayer
// format names the colours of its first two pixels of the first row.
// pixel_layout.h holds each format's bytes per row.
enum class PixelFormat {
  kMono8,
  kRgb8,
  kBgr8,
  kBayerRg8,
  kMono10,
  kMono12,
  kMono16,
  kMono10p,
  kMono12p,
  kBayerRg12,
  kBayerRg16,
  kBayerGr8,
  kBayerGb8,
  kBayerBg8,
};

// A frame as an industrial camera delivers it: rows of `stride` bytes, of
// which the first carry the row's pixels (width x bytes-per-pixel, or
// width x bits / 8 for a packed format).
struct RawFrame {
  std::string data;
  int width = 0;
  int height = 0;
  int stride = 0;  // 0: tightly packed
  PixelFormat format = PixelFormat::kRgb8;
};

struct RegionOfInterest {
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
};

// One image of a request: encoded bytes (JPEG, PNG, BMP, TIFF) or a raw frame,
// and an optional region of interest applied before resizing.
struct ImageSource {
  std::string encoded;
  std::optional<RawFrame> raw;
  std::optional<RegionOfInterest> roi;
};

}  // namespace auroraedge::preprocessing
