#include "image_decoder.h"

#include <allheaders.h>  // Leptonica

#include <memory>
#include <opencv2/core.hpp>

namespace auroraedge::preprocessing {
namespace {

struct PixDeleter {
  void operator()(PIX* pix) const { pixDestroy(&pix); }
};
using PixPtr = std::unique_ptr<PIX, PixDeleter>;

// Leptonica reports bad data on stderr as well as by returning null; the
// caller's error message is the one that counts. Process-wide, set once.
void SilenceLeptonica() {
  static const int kPrevious = setMsgSeverity(L_SEVERITY_NONE);
  (void)kPrevious;
}

// Grey (8 bpp, no colour map) or RGB(A) (32 bpp): the two layouts copied out.
PixPtr ToGreyOrRgb(PixPtr pix) {
  if (pixGetColormap(pix.get()) != nullptr) {
    pix.reset(pixRemoveColormap(pix.get(), REMOVE_CMAP_BASED_ON_SRC));
  }
  if (pix == nullptr) return pix;
  const int depth = pixGetDepth(pix.get());
  if (depth == 32 || depth == 8) return pix;
  if (depth == 24) return PixPtr(pixConvert24To32(pix.get()));
  return PixPtr(pixConvertTo8(pix.get(), 0));  // 1, 2, 4 or 16 bits of grey
}

}  // namespace

DecodedImage DecodeImage(std::string_view encoded) {
  SilenceLeptonica();
  PixPtr pix(pixReadMem(reinterpret_cast<const l_uint8*>(encoded.data()), encoded.size()));
  if (pix == nullptr) return {{}, "corrupt or truncated data"};
  pix = ToGreyOrRgb(std::move(pix));
  // Leptonica keeps pixels in 32-bit words, most significant byte first;
  // swapped, each row is plain bytes (R, G, B, A for colour).
  if (pix != nullptr) pix.reset(pixEndianByteSwapNew(pix.get()));
  if (pix == nullptr) return {{}, "unsupported pixel layout"};

  const bool grey = pixGetDepth(pix.get()) == 8;
  const cv::Mat words(pixGetHeight(pix.get()), pixGetWidth(pix.get()), grey ? CV_8UC1 : CV_8UC4,
                      pixGetData(pix.get()), static_cast<size_t>(pixGetWpl(pix.get())) * 4);
  DecodedImage decoded;
  if (grey) {
    decoded.pixels = {words.clone(), ChannelOrder::kGray};
  } else {
    cv::Mat rgb(words.size(), CV_8UC3);
    const int from_to[] = {0, 0, 1, 1, 2, 2};
    cv::mixChannels(&words, 1, &rgb, 1, from_to, 3);
    decoded.pixels = {rgb, ChannelOrder::kRgb};
  }
  return decoded;
}

}  // namespace auroraedge::preprocessing
