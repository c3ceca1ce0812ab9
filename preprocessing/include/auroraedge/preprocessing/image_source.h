#pragma once

#include <optional>
#include <string>

namespace auroraedge::preprocessing {

enum class PixelFormat { kMono8, kRgb8, kBgr8, kBayerRg8 };

// A frame as an industrial camera delivers it: rows of `stride` bytes, of
// which the first width * bytes-per-pixel carry pixels.
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
