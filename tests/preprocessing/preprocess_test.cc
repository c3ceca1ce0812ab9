#include "auroraedge/preprocessing/preprocess.h"

#include <catch2/catch.hpp>
#include <opencv2/imgproc.hpp>

#include "auroraedge/preprocessing/naflex_size.h"
#include "test_images.h"

namespace pre = auroraedge::preprocessing;
using namespace pre::testing;

namespace {

const pre::PreprocessConfig kConfig;

pre::PatchImage Run(const pre::ImageSource& source, const pre::PreprocessConfig& config = kConfig) {
  return pre::Preprocess(source, 0, config);
}

cv::Mat Uniform(int width, int height, cv::Vec3b rgb) {
  return cv::Mat(height, width, CV_8UC3, rgb);
}

}  // namespace

TEST_CASE("a uniform image gives normalised values in the valid rows and zero padding") {
  const pre::PatchImage out =
      Run(RawSource(ToRawFrame(Uniform(64, 48, {255, 0, 51}), pre::PixelFormat::kRgb8)));
  const pre::PatchGrid grid = pre::NaflexGrid(48, 64, 16, 256);
  REQUIRE(out.grid_h == grid.rows);
  REQUIRE(out.grid_w == grid.columns);
  REQUIRE(out.max_num_patches == 256);
  REQUIRE(out.patch_dim == 3 * 16 * 16);
  REQUIRE(out.patches.size() == 256u * out.patch_dim);
  CHECK(out.source_width == 64);
  CHECK(out.source_height == 48);
  const float expected[3] = {1.0f, -1.0f, (51 / 255.0f - 0.5f) / 0.5f};
  for (int i = 0; i < out.num_valid() * out.patch_dim; ++i) {
    REQUIRE(out.patches[i] == Approx(expected[i % 3]).margin(1e-6));
  }
  for (size_t i = out.num_valid() * out.patch_dim; i < out.patches.size(); ++i) {
    REQUIRE(out.patches[i] == 0.0f);
  }
}

TEST_CASE("mean and std come from the config") {
  pre::PreprocessConfig config;
  config.mean = {0.1f, 0.2f, 0.3f};
  config.std = {0.25f, 0.5f, 2.0f};
  const pre::PatchImage out =
      Run(RawSource(ToRawFrame(Uniform(32, 32, {255, 255, 0}), pre::PixelFormat::kRgb8)), config);
  CHECK(out.patches[0] == Approx((1.0f - 0.1f) / 0.25f));
  CHECK(out.patches[1] == Approx((1.0f - 0.2f) / 0.5f));
  CHECK(out.patches[2] == Approx((0.0f - 0.3f) / 2.0f));
}

TEST_CASE("patches hold (row, column, channel) values, patch by patch in row-major order") {
  // 32 x 32 with at most 4 patches of 16: a 2 x 2 grid, no resizing.
  pre::PreprocessConfig config;
  config.max_num_patches = 4;
  config.mean = {0, 0, 0};
  config.std = {1.0f / 255, 1.0f / 255, 1.0f / 255};  // values come out as the 8-bit pixels
  cv::Mat image(32, 32, CV_8UC3);
  for (int y = 0; y < 32; ++y) {
    for (int x = 0; x < 32; ++x) image.at<cv::Vec3b>(y, x) = cv::Vec3b(x, y, x < 16 ? y : 200);
  }
  const pre::PatchImage out = Run(RawSource(ToRawFrame(image, pre::PixelFormat::kRgb8)), config);
  REQUIRE(out.grid_h == 2);
  REQUIRE(out.grid_w == 2);
  auto value = [&](int patch, int y, int x, int c) {
    return out.patches[patch * out.patch_dim + (y * 16 + x) * 3 + c];
  };
  CHECK(value(1, 3, 5, 0) == Approx(16 + 5));  // patch (row 0, column 1)
  CHECK(value(1, 3, 5, 1) == Approx(3));
  CHECK(value(1, 3, 5, 2) == Approx(200));
  CHECK(value(2, 7, 2, 0) == Approx(2));  // patch (row 1, column 0)
  CHECK(value(2, 7, 2, 1) == Approx(16 + 7));
  CHECK(value(2, 7, 2, 2) == Approx(16 + 7));
}

TEST_CASE("RGB8, BGR8, MONO8 and padded strides describe the same pixels") {
  const cv::Mat rgb = GradientRgb(300, 170);
  const pre::PatchImage reference = Run(RawSource(ToRawFrame(rgb, pre::PixelFormat::kRgb8)));

  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  CHECK(MaxDifference(Run(RawSource(ToRawFrame(bgr, pre::PixelFormat::kBgr8))).patches,
                      reference.patches) == 0);
  CHECK(
      MaxDifference(Run(RawSource(ToRawFrame(rgb, pre::PixelFormat::kRgb8, 300 * 3 + 13))).patches,
                    reference.patches) == 0);

  cv::Mat grey, grey_rgb;
  cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
  cv::cvtColor(grey, grey_rgb, cv::COLOR_GRAY2RGB);
  CHECK(MaxDifference(Run(RawSource(ToRawFrame(grey, pre::PixelFormat::kMono8, 301))).patches,
                      Run(RawSource(ToRawFrame(grey_rgb, pre::PixelFormat::kRgb8))).patches) == 0);
}

TEST_CASE("a padded frame whose last row stops after its pixels gives the same patches") {
  // The rule of RawFrame.data in inference.proto: height rows of stride
  // bytes, the last one at least width x bytes-per-pixel long.
  const cv::Mat rgb = GradientRgb(120, 90);
  const int stride = 120 * 3 + 40;
  const pre::PatchImage full = Run(RawSource(ToRawFrame(rgb, pre::PixelFormat::kRgb8, stride)));
  pre::RawFrame shortened = ToRawFrame(rgb, pre::PixelFormat::kRgb8, stride);
  shortened.data.resize(shortened.data.size() - 40);
  CHECK(MaxDifference(Run(RawSource(shortened)).patches, full.patches) == 0);
}

TEST_CASE("the region of interest is cut before resizing") {
  const cv::Mat rgb = GradientRgb(400, 300);
  const cv::Rect region(37, 21, 150, 201);
  pre::ImageSource with_roi = RawSource(ToRawFrame(rgb, pre::PixelFormat::kRgb8));
  with_roi.roi = pre::RegionOfInterest{region.x, region.y, region.width, region.height};
  const pre::PatchImage out = Run(with_roi);
  CHECK(out.source_width == 150);
  CHECK(out.source_height == 201);
  const pre::PatchImage cropped =
      Run(RawSource(ToRawFrame(rgb(region).clone(), pre::PixelFormat::kRgb8)));
  CHECK(MaxDifference(out.patches, cropped.patches) == 0);

  pre::ImageSource encoded = EncodedSource(Encode(rgb, ".png"));
  encoded.roi = with_roi.roi;
  CHECK(MaxDifference(Run(encoded).patches, out.patches) == 0);
}

TEST_CASE("a Bayer ROI at any offset matches demosaicing the whole frame") {
  cv::Mat bayer(60, 80, CV_8UC1);
  cv::randu(bayer, 0, 256);
  cv::Mat demosaiced;
  cv::cvtColor(bayer, demosaiced, cv::COLOR_BayerRGGB2RGB);
  for (const cv::Rect region :
       {cv::Rect(0, 0, 80, 60), cv::Rect(1, 3, 17, 9), cv::Rect(0, 59, 80, 1),
        cv::Rect(79, 0, 1, 60), cv::Rect(40, 31, 1, 1), cv::Rect(2, 2, 5, 5)}) {
    INFO(region);
    pre::ImageSource source = RawSource(ToRawFrame(bayer, pre::PixelFormat::kBayerRg8, 83));
    source.roi = pre::RegionOfInterest{region.x, region.y, region.width, region.height};
    const pre::PatchImage expected =
        Run(RawSource(ToRawFrame(demosaiced(region).clone(), pre::PixelFormat::kRgb8)));
    CHECK(MaxDifference(Run(source).patches, expected.patches) == 0);
  }
}

TEST_CASE("lossless formats decode to the same patches as the raw pixels") {
  const cv::Mat rgb = GradientRgb(123, 45);
  const pre::PatchImage raw = Run(RawSource(ToRawFrame(rgb, pre::PixelFormat::kRgb8)));
  for (const char* extension : {".png", ".bmp", ".tiff"}) {
    INFO(extension);
    CHECK(MaxDifference(Run(EncodedSource(Encode(rgb, extension))).patches, raw.patches) == 0);
  }
  const pre::PatchImage jpeg = Run(EncodedSource(Encode(rgb, ".jpg")));
  CHECK(jpeg.grid_h == raw.grid_h);
  CHECK(jpeg.grid_w == raw.grid_w);
}

TEST_CASE("grey encoded images are replicated to three channels") {
  cv::Mat grey(40, 40, CV_8UC1, cv::Scalar(102));
  const pre::PatchImage out = Run(EncodedSource(Encode(grey, ".png")));
  const float expected = (102 / 255.0f - 0.5f) / 0.5f;
  for (int i = 0; i < out.num_valid() * out.patch_dim; ++i)
    REQUIRE(out.patches[i] == Approx(expected));
}

TEST_CASE("extreme aspect ratios keep one patch along the short side") {
  const pre::PatchImage wide =
      Run(RawSource(ToRawFrame(GradientRgb(5000, 1), pre::PixelFormat::kRgb8)));
  CHECK(wide.grid_h == 1);
  CHECK(wide.grid_w == 256);
  const pre::PatchImage tall =
      Run(RawSource(ToRawFrame(GradientRgb(1, 999), pre::PixelFormat::kRgb8)));
  CHECK(tall.grid_h == 256);
  CHECK(tall.grid_w == 1);
}
