// libFuzzer target over decode + preprocess. The first byte picks the source:
//   bit 0: raw frame (else encoded bytes), bit 1: with a region of interest.
// A raw frame takes 7 more bytes: pixel format, then width, height and stride
// as little-endian uint16. A ROI takes 8 bytes: x, y, width, height as int16.
// The rest is the payload. Only PreprocessError may leave Preprocess().
#include <cstddef>
#include <cstdint>
#include <string>

#include "auroraedge/preprocessing/preprocess.h"

namespace pre = auroraedge::preprocessing;

namespace {

class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool Has(size_t count) const { return size_ - offset_ >= count; }
  uint8_t Byte() { return data_[offset_++]; }
  uint16_t U16() {
    const uint16_t value = static_cast<uint16_t>(data_[offset_] | data_[offset_ + 1] << 8);
    offset_ += 2;
    return value;
  }
  std::string Rest() const {
    return std::string(reinterpret_cast<const char*>(data_ + offset_), size_ - offset_);
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t offset_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input input(data, size);
  if (!input.Has(1)) return 0;
  const uint8_t mode = input.Byte();
  pre::ImageSource image;
  if (mode & 1) {
    if (!input.Has(7)) return 0;
    pre::RawFrame frame;
    // 14 formats; one value past the last exercises the unknown-format check.
    frame.format = static_cast<pre::PixelFormat>(input.Byte() % 15);
    frame.width = input.U16();
    frame.height = input.U16();
    frame.stride = input.U16();
    image.raw = std::move(frame);
  }
  if (mode & 2) {
    if (!input.Has(8)) return 0;
    pre::RegionOfInterest roi;
    roi.x = static_cast<int16_t>(input.U16());
    roi.y = static_cast<int16_t>(input.U16());
    roi.width = static_cast<int16_t>(input.U16());
    roi.height = static_cast<int16_t>(input.U16());
    image.roi = roi;
  }
  (image.raw ? image.raw->data : image.encoded) = input.Rest();

  pre::PreprocessConfig config;
  config.max_pixels = 4'000'000;  // keeps each run fast; bombs past it are refused
  try {
    const pre::PatchImage patches = pre::Preprocess(image, 0, config);
    if (patches.num_valid() > patches.max_num_patches) __builtin_trap();
  } catch (const pre::PreprocessError&) {
  }
  return 0;
}
