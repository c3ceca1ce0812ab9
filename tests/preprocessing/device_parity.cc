#include "device_parity.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

#include "auroraedge/preprocessing/preprocess.h"
#include "auroraedge/preprocessing/torch/device_preprocess.h"
#include "test_images.h"

namespace auroraedge::preprocessing::testing {
namespace {

struct Case {
  PixelFormat format;
  int width;
  int height;
  int padding;  // stride bytes past a row
  std::optional<RegionOfInterest> roi;
};

const char* Name(PixelFormat format) {
  switch (format) {
    case PixelFormat::kMono8:
      return "MONO8";
    case PixelFormat::kRgb8:
      return "RGB8";
    case PixelFormat::kBgr8:
      return "BGR8";
    case PixelFormat::kBayerRg8:
      return "BAYER_RG8";
    case PixelFormat::kBayerGr8:
      return "BAYER_GR8";
    case PixelFormat::kBayerGb8:
      return "BAYER_GB8";
    case PixelFormat::kBayerBg8:
      return "BAYER_BG8";
    default:
      return "a format wider than 8 bits";
  }
}

ImageSource Frame(const Case& c) {
  const cv::Mat rgb = GradientRgb(c.width, c.height);
  cv::Mat pixels = rgb;
  const int channels = c.format == PixelFormat::kRgb8 || c.format == PixelFormat::kBgr8 ? 3 : 1;
  if (channels == 1) cv::extractChannel(rgb, pixels, 1);
  ImageSource source =
      RawSource(ToRawFrame(pixels, c.format, c.padding == 0 ? 0 : c.width * channels + c.padding));
  source.roi = c.roi;
  return source;
}

void CheckOne(const Case& c, const PreprocessConfig& config, c10::Device device) {
  const ImageSource source = Frame(c);
  const PatchImage cpu = Preprocess(source, 0, config);
  const PatchImage on_device = ToPatchImage(PreprocessRawFrameOn(source, 0, config, device));
  INFO(Name(c.format) << " " << c.width << " x " << c.height << " padding " << c.padding
                      << (c.roi ? " with a ROI" : "") << ", patch " << config.patch_size);
  REQUIRE(on_device.grid_h == cpu.grid_h);
  REQUIRE(on_device.grid_w == cpu.grid_w);
  REQUIRE(on_device.source_width == cpu.source_width);
  REQUIRE(on_device.source_height == cpu.source_height);
  REQUIRE(on_device.patches.size() == cpu.patches.size());
  const size_t valid = static_cast<size_t>(cpu.num_valid()) * cpu.patch_dim;
  float worst_excess = 0;
  for (size_t i = 0; i < cpu.patches.size(); ++i) {
    // Values interleave the channels: one grey level of channel i % 3.
    const float one_level = 1.0f / (255.0f * config.std[i % 3]) + 1e-5f;
    const float difference = std::abs(on_device.patches[i] - cpu.patches[i]);
    if (i >= valid) REQUIRE(on_device.patches[i] == 0.0f);
    worst_excess = std::max(worst_excess, difference - one_level);
  }
  REQUIRE(worst_excess <= 0.0f);
}

}  // namespace

void CheckParityWithCpuPath(c10::Device device) {
  const std::vector<Case> cases = {
      {PixelFormat::kBayerRg8, 1600, 1200, 0, std::nullopt},  // shrinks
      {PixelFormat::kBayerRg8, 800, 600, 7, RegionOfInterest{201, 151, 333, 123}},
      {PixelFormat::kBayerRg8, 3, 3, 0, std::nullopt},                       // grows
      {PixelFormat::kBayerRg8, 4, 1000, 0, RegionOfInterest{1, 1, 3, 999}},  // both
      {PixelFormat::kMono8, 1600, 1200, 0, std::nullopt},
      {PixelFormat::kMono8, 2000, 3, 5, RegionOfInterest{1, 0, 1999, 3}},
      {PixelFormat::kRgb8, 640, 480, 3, RegionOfInterest{101, 33, 300, 401}},
      {PixelFormat::kRgb8, 37, 53, 0, std::nullopt},
      {PixelFormat::kBgr8, 700, 1, 0, std::nullopt},
      {PixelFormat::kBgr8, 2, 500, 1, std::nullopt},
      {PixelFormat::kBayerGr8, 800, 600, 0, RegionOfInterest{201, 151, 333, 123}},
      {PixelFormat::kBayerGb8, 801, 601, 3, RegionOfInterest{100, 77, 401, 300}},
      {PixelFormat::kBayerBg8, 640, 480, 0, std::nullopt},
  };
  PreprocessConfig siglip2;
  PreprocessConfig other;  // another patch size, grid limit and normalisation
  other.patch_size = 14;
  other.max_num_patches = 64;
  other.mean = {0.481f, 0.458f, 0.408f};
  other.std = {0.269f, 0.261f, 0.276f};
  for (const Case& c : cases) {
    CheckOne(c, siglip2, device);
    CheckOne(c, other, device);
  }
}

}  // namespace auroraedge::preprocessing::testing
