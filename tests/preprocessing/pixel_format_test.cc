// Raw pixel formats beyond 8-bit RGB: wide (10-16 bit) values in words and
// packed, and the four Bayer orders.
#include <catch2/catch.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <utility>

#include "auroraedge/preprocessing/preprocess.h"
#include "test_images.h"

namespace pre = auroraedge::preprocessing;
using namespace pre::testing;

namespace {

using Format = pre::PixelFormat;

pre::PatchImage Run(const pre::ImageSource& source, const pre::PreprocessConfig& config = {}) {
  return pre::Preprocess(source, 0, config);
}

pre::ImageSource WithRoi(pre::ImageSource source, const cv::Rect& region) {
  source.roi = pre::RegionOfInterest{region.x, region.y, region.width, region.height};
  return source;
}

// patch_size 1 and a patch per pixel: no resize, and with mean 0 and std
// 1/255 each value is the pixel's value on the 0..255 scale.
pre::PreprocessConfig PixelConfig(int width, int height) {
  pre::PreprocessConfig config;
  config.patch_size = 1;
  config.max_num_patches = width * height;
  config.mean = {0, 0, 0};
  config.std = {1.0f / 255, 1.0f / 255, 1.0f / 255};
  return config;
}

// The pixels of a PixelConfig run as a rows x columns CV_32FC3 (RGB) image.
cv::Mat PixelsOf(const pre::PatchImage& out) {
  return cv::Mat(out.grid_h, out.grid_w, CV_32FC3, const_cast<float*>(out.patches.data())).clone();
}

cv::Mat RandomValues(int width, int height, int bits, uint64_t seed) {
  cv::Mat values(height, width, CV_16UC1);
  cv::RNG rng(seed);
  rng.fill(values, cv::RNG::UNIFORM, 0, 1 << bits);
  return values;
}

float Normalised(double value_0_255) { return static_cast<float>((value_0_255 / 255 - 0.5) / 0.5); }

}  // namespace

TEST_CASE("wide values are scaled to the 8-bit range, not truncated to 8 bits") {
  // 2049 of 4095 is 127.59 on the 0..255 scale: 8 bits would give 127 or 128.
  const std::pair<Format, int> cases[] = {
      {Format::kMono10, 10}, {Format::kMono12, 12}, {Format::kMono16, 16}};
  for (const auto& [format, bits] : cases) {
    for (int value : {0, 1, (1 << (bits - 1)) + 1, (1 << bits) - 1}) {
      INFO("bits " << bits << " value " << value);
      const cv::Mat values(48, 64, CV_16UC1, cv::Scalar(value));
      const pre::PatchImage out = Run(RawSource(WideRawFrame(values, format, 16)));
      const float expected = Normalised(255.0 * value / ((1 << bits) - 1));
      for (int i = 0; i < out.num_valid() * out.patch_dim; ++i) {
        REQUIRE(out.patches[i] == Approx(expected).margin(1e-6));
      }
    }
  }
}

TEST_CASE("levels finer than 8 bits survive the area resize") {
  // Columns alternate 256 and 257 (16-bit): the 2:1 area average is 256.5,
  // i.e. 0.998 on the 0..255 scale, which no 8-bit intermediate can hold.
  cv::Mat values(512, 512, CV_16UC1);
  for (int x = 0; x < values.cols; ++x) values.col(x).setTo(256 + x % 2);
  const pre::PatchImage out = Run(RawSource(WideRawFrame(values, Format::kMono16, 16)));
  REQUIRE(out.grid_h * 16 == 256);
  const float expected = Normalised(255.0 * 256.5 / 65535);
  for (int i = 0; i < out.num_valid() * out.patch_dim; ++i) {
    REQUIRE(out.patches[i] == Approx(expected).margin(1e-6));
  }
}

TEST_CASE("a 16-bit frame of v * 257 gives the 8-bit frame's patches within one level") {
  const cv::Mat rgb = GradientRgb(300, 170);
  cv::Mat grey, wide;
  cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
  grey.convertTo(wide, CV_16U, 257);
  const pre::PatchImage narrow = Run(RawSource(ToRawFrame(grey, Format::kMono8)));
  const pre::PatchImage out = Run(RawSource(WideRawFrame(wide, Format::kMono16, 16, 700)));
  // The 8-bit path resizes with OpenCV's fixed-point weights and rounds to
  // whole levels (one level of error at most, as the parity tests allow); the
  // wide path does neither.
  CHECK(MaxDifference(out.patches, narrow.patches) <= 1.0f / 255 / 0.5f + 1e-6f);
  CHECK(MaxDifference(out.patches, narrow.patches) > 0);
}

TEST_CASE("packed and 16-bit word frames of the same values give the same patches") {
  const std::pair<Format, Format> pairs[] = {{Format::kMono10p, Format::kMono10},
                                             {Format::kMono12p, Format::kMono12}};
  for (const auto& [packed, words] : pairs) {
    const int bits = packed == Format::kMono10p ? 10 : 12;
    const cv::Mat values = RandomValues(64, 40, bits, bits);
    for (const cv::Rect region : {cv::Rect(0, 0, 64, 40), cv::Rect(1, 3, 33, 20),
                                  cv::Rect(63, 0, 1, 40), cv::Rect(2, 39, 61, 1)}) {
      INFO("bits " << bits << " roi " << region);
      const auto packed_source =
          WithRoi(RawSource(WideRawFrame(values, packed, bits, 64 * bits / 8 + 3)), region);
      const auto words_source = WithRoi(RawSource(WideRawFrame(values, words, 16)), region);
      const pre::PreprocessConfig config = PixelConfig(region.width, region.height);
      const pre::PatchImage out = Run(packed_source, config);
      CHECK(MaxDifference(out.patches, Run(words_source, config).patches) == 0);
      // And the values themselves, on the 0..255 scale.
      cv::Mat expected;
      values(region).convertTo(expected, CV_32F, 255.0 / ((1 << bits) - 1));
      cv::Mat grey;
      cv::extractChannel(PixelsOf(out), grey, 0);
      CHECK(cv::norm(grey, expected, cv::NORM_INF) < 1e-4);
    }
  }
}

TEST_CASE("every Bayer order and depth demosaics a uniform colour to that colour") {
  struct Case {
    Format format;
    const char* pattern;
    int bits;
  };
  const Case cases[] = {{Format::kBayerRg8, "RGGB", 8},   {Format::kBayerGr8, "GRBG", 8},
                        {Format::kBayerGb8, "GBRG", 8},   {Format::kBayerBg8, "BGGR", 8},
                        {Format::kBayerRg12, "RGGB", 12}, {Format::kBayerRg16, "RGGB", 16}};
  const double colour[3] = {200, 100, 30};  // on the 0..255 scale
  for (const Case& c : cases) {
    INFO(c.pattern << " " << c.bits << " bits");
    const double max_value = (1 << c.bits) - 1;
    const cv::Mat rgb(21, 30, c.bits == 8 ? CV_8UC3 : CV_16UC3,
                      cv::Scalar(colour[0] * max_value / 255, colour[1] * max_value / 255,
                                 colour[2] * max_value / 255));
    const cv::Mat mosaic = BayerMosaic(rgb, c.pattern);
    const pre::RawFrame frame =
        c.bits == 8 ? ToRawFrame(mosaic, c.format, 31) : WideRawFrame(mosaic, c.format, 16, 64);
    const cv::Mat out = PixelsOf(Run(RawSource(frame), PixelConfig(30, 21)));
    for (int channel = 0; channel < 3; ++channel) {
      cv::Mat plane;
      cv::extractChannel(out, plane, channel);
      const double expected = std::round(colour[channel] * max_value / 255) * 255 / max_value;
      CHECK(cv::norm(plane - expected, cv::NORM_INF) < 1e-3);
    }
  }
}

TEST_CASE("a Bayer ROI at any offset matches demosaicing the whole frame, every order and depth") {
  const std::pair<Format, int> cases[] = {{Format::kBayerGr8, 8},
                                          {Format::kBayerGb8, 8},
                                          {Format::kBayerBg8, 8},
                                          {Format::kBayerRg12, 12},
                                          {Format::kBayerRg16, 16}};
  for (const auto& [format, bits] : cases) {
    const cv::Mat values = RandomValues(40, 30, bits, 11);
    cv::Mat narrow;
    values.convertTo(narrow, CV_8U);
    const pre::RawFrame frame =
        bits == 8 ? ToRawFrame(narrow, format, 43) : WideRawFrame(values, format, 16, 86);
    const cv::Mat whole = PixelsOf(Run(RawSource(frame), PixelConfig(40, 30)));
    for (const cv::Rect region : {cv::Rect(1, 3, 17, 9), cv::Rect(0, 29, 40, 1),
                                  cv::Rect(39, 0, 1, 30), cv::Rect(21, 11, 1, 1)}) {
      INFO("bits " << bits << " format " << static_cast<int>(format) << " roi " << region);
      const cv::Mat part = PixelsOf(
          Run(WithRoi(RawSource(frame), region), PixelConfig(region.width, region.height)));
      CHECK(cv::norm(part, whole(region), cv::NORM_INF) == 0);
    }
  }
}
