// auroraedge_preprocessing_torch on the CPU device against the CPU path
// (the same test runs on cuda in preprocessing_torch_gpu_test).
#include "auroraedge/preprocessing/torch/device_preprocess.h"

#include <ATen/ATen.h>

#include <catch2/catch.hpp>

#include "demosaic.h"
#include "device_parity.h"
#include "test_images.h"

namespace pre = auroraedge::preprocessing;
using namespace pre::testing;

TEST_CASE("on the CPU device, raw frames match the CPU path within one grey level") {
  CheckParityWithCpuPath(c10::Device(c10::kCPU));
}

TEST_CASE("the device demosaic gives exactly the CPU path's pixels") {
  // patch_size 1 keeps the size: the demosaiced pixels themselves are compared.
  const int width = 46, height = 31;
  const at::Tensor mosaic =
      at::randint(0, 256, {height, width}, at::TensorOptions().dtype(at::kByte));
  pre::RawFrame frame;
  frame.data.assign(reinterpret_cast<const char*>(mosaic.data_ptr<uint8_t>()), width * height);
  frame.width = width;
  frame.height = height;
  frame.format = pre::PixelFormat::kBayerRg8;
  pre::PreprocessConfig config;
  config.patch_size = 1;
  config.max_num_patches = width * height;
  config.mean = {0, 0, 0};
  config.std = {1, 1, 1};
  const pre::ImageSource source = RawSource(frame);
  const pre::PatchImage cpu = pre::Preprocess(source, 0, config);
  const pre::PatchImage on_device =
      pre::ToPatchImage(pre::PreprocessRawFrameOn(source, 0, config, c10::Device(c10::kCPU)));
  REQUIRE(MaxDifference(cpu.patches, on_device.patches) < 1e-6f);  // a level is 0.0039
}

TEST_CASE("the other Bayer orders are the RGGB demosaic shifted by their phase") {
  const at::Tensor mosaic = at::randint(0, 256, {20, 30}, at::TensorOptions().dtype(at::kByte));
  const at::Tensor rggb = pre::DemosaicBilinear(mosaic, {0, 0});
  using at::indexing::Slice;
  // Dropping the first column of an RGGB mosaic leaves a GRBG one, and so on.
  const struct {
    int drop_rows, drop_columns;
    pre::BayerPhase phase;
  } orders[] = {{0, 1, {0, 1}}, {1, 0, {1, 0}}, {1, 1, {1, 1}}};
  for (const auto& order : orders) {
    const at::Tensor shifted = mosaic.index({Slice(order.drop_rows), Slice(order.drop_columns)});
    const at::Tensor demosaiced = pre::DemosaicBilinear(shifted, order.phase);
    // Interior pixels (the edges repeat their neighbours, which differ).
    const at::Tensor expected =
        rggb.index({Slice(1 + order.drop_rows, -1), Slice(1 + order.drop_columns, -1)});
    REQUIRE(demosaiced.index({Slice(1, -1), Slice(1, -1)}).equal(expected));
  }
}

// What the CPU path says about `source`.
std::string CpuRefusal(const pre::ImageSource& source, int index, const pre::PreprocessConfig& config) {
  try {
    pre::Preprocess(source, index, config);
  } catch (const pre::PreprocessError& e) {
    return e.what();
  }
  return "";
}

TEST_CASE("bad frames are refused with the CPU path's messages") {
  pre::RawFrame frame = ToRawFrame(GradientRgb(640, 8), pre::PixelFormat::kRgb8);
  frame.stride = 100;
  const pre::PreprocessConfig config;
  const auto device = c10::Device(c10::kCPU);
  const std::string stride_message = CpuRefusal(RawSource(frame), 1, config);
  REQUIRE_THAT(stride_message, Catch::Contains("images[1].raw.stride: 100"));
  REQUIRE_THROWS_WITH(pre::PreprocessRawFrameOn(RawSource(frame), 1, config, device),
                      stride_message);
  pre::ImageSource roi_outside =
      RawSource(ToRawFrame(GradientRgb(64, 48), pre::PixelFormat::kRgb8));
  roi_outside.roi = pre::RegionOfInterest{0, 40, 64, 9};
  const std::string roi_message = CpuRefusal(roi_outside, 0, config);
  REQUIRE_FALSE(roi_message.empty());
  REQUIRE_THROWS_WITH(pre::PreprocessRawFrameOn(roi_outside, 0, config, device), roi_message);
  REQUIRE_THROWS_AS(pre::PreprocessRawFrameOn(EncodedSource("\x89PNG"), 0, config, device),
                    std::invalid_argument);
}

TEST_CASE("frames wider than 8 bits are refused on the device path, naming the field") {
  pre::RawFrame frame;
  frame.width = 8;
  frame.height = 8;
  frame.format = pre::PixelFormat::kMono12;
  frame.data.assign(8 * 8 * 2, '\0');
  REQUIRE_NOTHROW(pre::Preprocess(RawSource(frame), 0, pre::PreprocessConfig{}));
  REQUIRE_THROWS_WITH(pre::PreprocessRawFrameOn(RawSource(frame), 0, pre::PreprocessConfig{},
                                                c10::Device(c10::kCPU)),
                      Catch::Contains("raw.pixel_format") && Catch::Contains("wider than 8 bits"));
}
