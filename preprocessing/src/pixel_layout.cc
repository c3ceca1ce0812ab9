#include "pixel_layout.h"

#include <numeric>
#include <string>

#include "input_error.h"

namespace auroraedge::preprocessing {

PixelLayout LayoutOf(PixelFormat format, int image_index) {
  switch (format) {
    case PixelFormat::kMono8:
      return {"MONO8", 1, 8, 8, Mosaic::kNone, ChannelOrder::kGray};
    case PixelFormat::kRgb8:
      return {"RGB8", 3, 8, 8, Mosaic::kNone, ChannelOrder::kRgb};
    case PixelFormat::kBgr8:
      return {"BGR8", 3, 8, 8, Mosaic::kNone, ChannelOrder::kBgr};
    case PixelFormat::kBayerRg8:
      return {"BAYER_RG8", 1, 8, 8, Mosaic::kRggb, ChannelOrder::kRgb};
    case PixelFormat::kBayerGr8:
      return {"BAYER_GR8", 1, 8, 8, Mosaic::kGrbg, ChannelOrder::kRgb};
    case PixelFormat::kBayerGb8:
      return {"BAYER_GB8", 1, 8, 8, Mosaic::kGbrg, ChannelOrder::kRgb};
    case PixelFormat::kBayerBg8:
      return {"BAYER_BG8", 1, 8, 8, Mosaic::kBggr, ChannelOrder::kRgb};
    case PixelFormat::kMono10:
      return {"MONO10", 1, 16, 10, Mosaic::kNone, ChannelOrder::kGray};
    case PixelFormat::kMono12:
      return {"MONO12", 1, 16, 12, Mosaic::kNone, ChannelOrder::kGray};
    case PixelFormat::kMono16:
      return {"MONO16", 1, 16, 16, Mosaic::kNone, ChannelOrder::kGray};
    case PixelFormat::kMono10p:
      return {"MONO10P", 1, 10, 10, Mosaic::kNone, ChannelOrder::kGray};
    case PixelFormat::kMono12p:
      return {"MONO12P", 1, 12, 12, Mosaic::kNone, ChannelOrder::kGray};
    case PixelFormat::kBayerRg12:
      return {"BAYER_RG12", 1, 16, 12, Mosaic::kRggb, ChannelOrder::kRgb};
    case PixelFormat::kBayerRg16:
      return {"BAYER_RG16", 1, 16, 16, Mosaic::kRggb, ChannelOrder::kRgb};
  }
  RejectField(image_index, "raw.format",
              "unknown pixel format " + std::to_string(static_cast<int>(format)));
}

int WidthMultiple(const PixelLayout& layout) {
  const int bits = layout.channels * layout.bits_per_value;
  return 8 / std::gcd(bits, 8);
}

int64_t RowBytes(const PixelLayout& layout, int64_t width) {
  return width * layout.channels * layout.bits_per_value / 8;
}

}  // namespace auroraedge::preprocessing
