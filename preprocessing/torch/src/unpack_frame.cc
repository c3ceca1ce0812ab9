#include "unpack_frame.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <stdexcept>

namespace auroraedge::preprocessing {
namespace {

// The demosaic of a pixel reads its neighbours; two pixels (as the CPU path
// takes) keep the region's edge pixels equal to a whole-frame demosaic, and
// an even start keeps the mosaic's phase.
constexpr int kBayerMargin = 2;

// A read-only view of the caller's bytes: [height, width, channels] with the
// frame's row pitch. Only the region is ever copied out of it.
at::Tensor HostView(const RawFrame& frame, int64_t stride, int channels) {
  auto* bytes = reinterpret_cast<uint8_t*>(const_cast<char*>(frame.data.data()));
  return at::from_blob(bytes, {frame.height, frame.width, channels}, {stride, channels, 1},
                       at::kByte);
}

at::Tensor Upload(const at::Tensor& host_region, c10::Device device) {
  return host_region.contiguous().to(device);
}

UnpackedRegion UnpackBayer(const RawFrame& frame, const RawFramePlan& plan, BayerPhase phase,
                           c10::Device device) {
  const RegionOfInterest& r = plan.region;
  const int left = std::max(0, r.x - kBayerMargin) & ~1;
  const int top = std::max(0, r.y - kBayerMargin) & ~1;
  const int right = std::min(frame.width, r.x + r.width + kBayerMargin);
  const int bottom = std::min(frame.height, r.y + r.height + kBayerMargin);
  const at::Tensor mosaic =
      HostView(frame, plan.stride, 1).slice(0, top, bottom).slice(1, left, right).squeeze(2);
  UnpackedRegion out;
  out.samples = Upload(mosaic, device);
  out.bayer = true;
  out.phase = phase;
  out.inner_x = r.x - left;
  out.inner_y = r.y - top;
  return out;
}

}  // namespace

UnpackedRegion UnpackRegion(const RawFrame& frame, const RawFramePlan& plan, c10::Device device) {
  const RegionOfInterest& r = plan.region;
  auto plain = [&](int channels, bool bgr) {
    UnpackedRegion out;
    out.samples = Upload(HostView(frame, plan.stride, channels)
                             .slice(0, r.y, r.y + r.height)
                             .slice(1, r.x, r.x + r.width),
                         device);
    out.bgr = bgr;
    return out;
  };
  switch (frame.format) {
    case PixelFormat::kMono8:
      return plain(1, false);
    case PixelFormat::kRgb8:
      return plain(3, false);
    case PixelFormat::kBgr8:
      return plain(3, true);
    case PixelFormat::kBayerRg8:
      return UnpackBayer(frame, plan, {0, 0}, device);
    case PixelFormat::kBayerGr8:
      return UnpackBayer(frame, plan, {0, 1}, device);
    case PixelFormat::kBayerGb8:
      return UnpackBayer(frame, plan, {1, 0}, device);
    case PixelFormat::kBayerBg8:
      return UnpackBayer(frame, plan, {1, 1}, device);
    case PixelFormat::kMono10:
    case PixelFormat::kMono12:
    case PixelFormat::kMono16:
    case PixelFormat::kMono10p:
    case PixelFormat::kMono12p:
    case PixelFormat::kBayerRg12:
    case PixelFormat::kBayerRg16:
      // Samples wider than 8 bits are the CPU path's (preprocess.h) for now.
      throw std::invalid_argument(
          "raw.pixel_format: formats wider than 8 bits are not preprocessed on the device yet");
  }
  // PlanRawFrame() has refused unknown formats already.
  throw std::logic_error("UnpackRegion: unhandled pixel format");
}

}  // namespace auroraedge::preprocessing
