#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "auroraedge/preprocessing/preprocess.h"
#include "test_images.h"

namespace pre = auroraedge::preprocessing;
using namespace pre::testing;
using Catch::Matchers::Contains;

namespace {

const pre::PreprocessConfig kConfig;

void Run(const pre::ImageSource& source, int index = 0,
         const pre::PreprocessConfig& config = kConfig) {
  pre::Preprocess(source, index, config);
}

pre::ImageSource Raw(int width, int height, pre::PixelFormat format, int stride, size_t bytes) {
  pre::RawFrame frame;
  frame.width = width;
  frame.height = height;
  frame.stride = stride;
  frame.format = format;
  frame.data.assign(bytes, '\x01');  // 16-bit words of 257: within every format's depth
  return RawSource(std::move(frame));
}

pre::ImageSource WithRoi(pre::ImageSource source, int x, int y, int width, int height) {
  source.roi = pre::RegionOfInterest{x, y, width, height};
  return source;
}

std::string BigEndian32(uint32_t value) {
  return {static_cast<char>(value >> 24), static_cast<char>(value >> 16),
          static_cast<char>(value >> 8), static_cast<char>(value)};
}

std::string LittleEndian(uint32_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out += static_cast<char>(value >> (8 * i));
  return out;
}

// A PNG that stops after its IHDR chunk: enough for the header check, and
// nothing a decoder could turn into pixels.
std::string PngHeaderOnly(uint32_t width, uint32_t height) {
  return std::string("\x89PNG\r\n\x1A\n", 8) + BigEndian32(13) + "IHDR" + BigEndian32(width) +
         BigEndian32(height) + std::string("\x08\x02\x00\x00\x00", 5) + BigEndian32(0);
}

// SOI, then a baseline frame header (SOF0) and nothing else.
std::string JpegHeaderOnly(uint16_t width, uint16_t height) {
  std::string sof = "\xFF\xC0";
  sof += std::string("\x00\x11\x08", 3);
  sof += {static_cast<char>(height >> 8), static_cast<char>(height)};
  sof += {static_cast<char>(width >> 8), static_cast<char>(width)};
  sof += std::string("\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01", 10);
  return "\xFF\xD8" + sof;
}

std::string BmpHeaderOnly(int32_t width, int32_t height) {
  return "BM" + LittleEndian(54, 4) + LittleEndian(0, 4) + LittleEndian(54, 4) +
         LittleEndian(40, 4) + LittleEndian(width, 4) + LittleEndian(height, 4) +
         LittleEndian(1, 2) + LittleEndian(24, 2) + std::string(24, '\0');
}

// Little-endian TIFF whose first directory holds only the given LONG tags.
std::string TiffDirectoryOnly(const std::vector<std::pair<uint16_t, uint32_t>>& tags) {
  std::string tiff = std::string("II*\0", 4) + LittleEndian(8, 4) + LittleEndian(tags.size(), 2);
  for (const auto& [tag, value] : tags) {
    tiff += LittleEndian(tag, 2) + LittleEndian(4, 2) + LittleEndian(1, 4) + LittleEndian(value, 4);
  }
  return tiff + LittleEndian(0, 4);
}

std::string TiffHeaderOnly(uint32_t width, uint32_t height) {
  return TiffDirectoryOnly({{256, width}, {257, height}});
}

void RequireRejected(const pre::ImageSource& source, const std::string& message,
                     const pre::PreprocessConfig& config = kConfig) {
  REQUIRE_THROWS_WITH(Run(source, 0, config), Contains(message));
}

}  // namespace

TEST_CASE("messages name the image index") {
  REQUIRE_THROWS_AS(Run(EncodedSource(""), 3), pre::PreprocessError);
  REQUIRE_THROWS_WITH(Run(EncodedSource(""), 3), Contains("images[3].encoded: empty"));
}

TEST_CASE("empty data is refused") {
  RequireRejected(EncodedSource(""), "images[0].encoded: empty");
  RequireRejected(
      Raw(4, 4, pre::PixelFormat::kMono8, 0, 0),
      "images[0].raw.data: 0 bytes, expected 16 (4 rows of stride 4, the last may end after its 4 "
      "bytes of pixels)");
}

TEST_CASE("unknown formats are refused") {
  RequireRejected(EncodedSource("GIF89a\x01\x00\x01\x00"),
                  "images[0].encoded: unknown image format (expected JPEG, PNG, BMP or TIFF)");
  RequireRejected(EncodedSource("P6\n2 2\n255\n............"), "unknown image format");
  RequireRejected(Raw(4, 4, static_cast<pre::PixelFormat>(99), 0, 16),
                  "images[0].raw.format: unknown pixel format 99");
}

TEST_CASE("truncated encoded images are refused") {
  const cv::Mat image = GradientRgb(64, 48);
  for (const char* extension : {".jpg", ".png", ".bmp", ".tiff"}) {
    const std::string bytes = Encode(image, extension);
    for (size_t keep : {size_t{5}, size_t{30}, bytes.size() / 2, bytes.size() - 20}) {
      INFO(extension << " cut to " << keep << " of " << bytes.size() << " bytes");
      REQUIRE_THROWS_WITH(Run(EncodedSource(bytes.substr(0, keep))),
                          Contains("images[0].encoded: ") &&
                              (Contains("truncated") || Contains("could not decode")));
    }
  }
}

TEST_CASE("corrupt data inside a valid header is refused") {
  std::string png = Encode(GradientRgb(64, 48), ".png");
  for (size_t i = 40; i < png.size() - 12; ++i) png[i] = static_cast<char>(png[i] ^ 0x5A);
  RequireRejected(EncodedSource(png), "images[0].encoded: could not decode the PNG");
}

TEST_CASE("encoded bytes over max_encoded_bytes are refused") {
  pre::PreprocessConfig config;
  config.max_encoded_bytes = 1000;
  RequireRejected(
      EncodedSource(Encode(GradientRgb(64, 48), ".bmp")),
      "images[0].encoded: 9270 bytes is over the limit of 1000 bytes (max_encoded_bytes)", config);
}

TEST_CASE("decompression bombs are refused from the header, before decoding") {
  // Each header declares 50000 x 50000 pixels and carries no pixel data: a
  // decoder would fail on it, so the limit message proves nothing was decoded.
  const std::string limit =
      "50000 x 50000 pixels is over the limit of 40000000 pixels (max_pixels)";
  RequireRejected(EncodedSource(PngHeaderOnly(50000, 50000)), "images[0].encoded: PNG of " + limit);
  RequireRejected(EncodedSource(JpegHeaderOnly(50000, 50000)),
                  "images[0].encoded: JPEG of " + limit);
  RequireRejected(EncodedSource(BmpHeaderOnly(50000, -50000)),
                  "images[0].encoded: BMP of " + limit);
  RequireRejected(EncodedSource(TiffHeaderOnly(50000, 50000)),
                  "images[0].encoded: TIFF of " + limit);
}

TEST_CASE("a TIFF directory that repeats the image size is refused") {
  RequireRejected(EncodedSource(TiffDirectoryOnly({{256, 10}, {257, 10}, {257, 50000}})),
                  "images[0].encoded: TIFF directory repeats the image width or length");
}

TEST_CASE("JPEGs with too many progressive scans are refused") {
  // A start-of-scan segment for one component with an empty scan body.
  const std::string scan = std::string("\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00", 10);
  std::string jpeg = JpegHeaderOnly(64, 64);
  for (int i = 0; i < 1001; ++i) jpeg += scan;
  jpeg += "\xFF\xD9";
  RequireRejected(EncodedSource(jpeg),
                  "images[0].encoded: JPEG has more than 1000 scans (a limit against decoding-time "
                  "bombs)");
}

TEST_CASE("the pixel limit is config.max_pixels") {
  pre::PreprocessConfig config;
  config.max_pixels = 64 * 47;
  RequireRejected(EncodedSource(Encode(GradientRgb(64, 48), ".png")),
                  "PNG of 64 x 48 pixels is over the limit of 3008 pixels (max_pixels)", config);
  RequireRejected(Raw(64, 48, pre::PixelFormat::kMono8, 0, 64 * 48),
                  "images[0].raw: MONO8 frame of 64 x 48 pixels is over the limit of 3008 pixels",
                  config);
}

TEST_CASE("zero or negative sizes are refused") {
  RequireRejected(EncodedSource(PngHeaderOnly(0, 10)),
                  "images[0].encoded: PNG of 0 x 10 pixels: sizes must be positive");
  RequireRejected(EncodedSource(JpegHeaderOnly(10, 0)),
                  "images[0].encoded: JPEG of 10 x 0 pixels: sizes must be positive");
  RequireRejected(EncodedSource(BmpHeaderOnly(-5, 10)),
                  "images[0].encoded: BMP of -5 x 10 pixels: sizes must be positive");
  RequireRejected(Raw(0, 4, pre::PixelFormat::kRgb8, 0, 0),
                  "images[0].raw.width: 0 must be positive");
  RequireRejected(Raw(4, -2, pre::PixelFormat::kRgb8, 0, 0),
                  "images[0].raw.height: -2 must be positive");
  RequireRejected(Raw(2, 8, pre::PixelFormat::kBayerRg8, 0, 16),
                  "images[0].raw.width: a BAYER_RG8 frame needs at least 3 x 3 pixels, got 2 x 8");
  RequireRejected(Raw(8, 2, pre::PixelFormat::kBayerGb8, 0, 16),
                  "images[0].raw.height: a BAYER_GB8 frame needs at least 3 x 3 pixels, got 8 x 2");
  RequireRejected(Raw(2, 8, pre::PixelFormat::kBayerRg12, 0, 32),
                  "images[0].raw.width: a BAYER_RG12 frame needs at least 3 x 3 pixels, got 2 x 8");
}

TEST_CASE("raw frames whose byte count does not match their layout are refused") {
  RequireRejected(Raw(640, 480, pre::PixelFormat::kRgb8, 0, 640 * 480 * 3 - 1),
                  "images[0].raw.data: 921599 bytes, expected 921600 (480 rows of stride 1920, the "
                  "last may end after its 1920 bytes of pixels)");
  RequireRejected(Raw(10, 10, pre::PixelFormat::kBgr8, 0, 301),
                  "images[0].raw.data: 301 bytes, expected 300 (10 rows of stride 30, the last may "
                  "end after its 30 bytes of pixels)");
  // Padded rows: from stride x (height - 1) + the last row's pixels up to
  // stride x height.
  RequireRejected(Raw(640, 480, pre::PixelFormat::kMono8, 700, 700 * 479 + 639),
                  "images[0].raw.data: 335939 bytes, expected 335940 to 336000 (480 rows of stride "
                  "700, the last may end after its 640 bytes of pixels)");
  RequireRejected(Raw(640, 480, pre::PixelFormat::kMono8, 700, 700 * 480 + 1),
                  "images[0].raw.data: 336001 bytes, expected 335940 to 336000 (480 rows of stride "
                  "700, the last may end after its 640 bytes of pixels)");
}

TEST_CASE("a padded frame may end anywhere from its last pixel to its last row's padding") {
  for (const size_t bytes : {size_t{700 * 479 + 640}, size_t{700 * 479 + 671}, size_t{700 * 480}}) {
    CAPTURE(bytes);
    CHECK_NOTHROW(Run(Raw(640, 480, pre::PixelFormat::kMono8, 700, bytes)));
  }
}

TEST_CASE("packed frames whose byte count does not match the packed size are refused") {
  // 16-bit words sent under a packed format, and the reverse.
  RequireRejected(
      Raw(640, 480, pre::PixelFormat::kMono12p, 0, 640 * 480 * 2),
      "images[0].raw.data: 614400 bytes, expected 460800 (480 rows of stride 960, the last may "
      "end after its 960 bytes of pixels)");
  RequireRejected(
      Raw(640, 480, pre::PixelFormat::kMono10p, 0, 640 * 480 * 2),
      "images[0].raw.data: 614400 bytes, expected 384000 (480 rows of stride 800, the last may "
      "end after its 800 bytes of pixels)");
  RequireRejected(
      Raw(640, 480, pre::PixelFormat::kMono12, 0, 960 * 480),
      "images[0].raw.data: 460800 bytes, expected 614400 (480 rows of stride 1280, the last may "
      "end after its 1280 bytes of pixels)");
  RequireRejected(
      Raw(64, 48, pre::PixelFormat::kBayerRg12, 0, 64 * 48),
      "images[0].raw.data: 3072 bytes, expected 6144 (48 rows of stride 128, the last may "
      "end after its 128 bytes of pixels)");
}

TEST_CASE("packed widths that split a packing group are refused") {
  RequireRejected(Raw(641, 4, pre::PixelFormat::kMono12p, 0, 962 * 4),
                  "images[0].raw.width: 641 is not a multiple of 2: MONO12P packs 2 pixels in 3 "
                  "bytes and each row must hold whole groups");
  for (int width : {1, 2, 3, 5, 6, 7, 642}) {
    INFO(width);
    RequireRejected(Raw(width, 4, pre::PixelFormat::kMono10p, 0, 4000),
                    "images[0].raw.width: " + std::to_string(width) +
                        " is not a multiple of 4: MONO10P packs 4 pixels in 5 bytes");
  }
  // Widths that unpacked formats take as they come.
  REQUIRE_NOTHROW(Run(Raw(641, 4, pre::PixelFormat::kMono12, 0, 641 * 2 * 4)));
  REQUIRE_NOTHROW(Run(Raw(3, 3, pre::PixelFormat::kBayerRg16, 0, 3 * 2 * 3)));
}

TEST_CASE("values above a format's bit depth are refused") {
  pre::ImageSource source = Raw(8, 4, pre::PixelFormat::kMono12, 0, 8 * 2 * 4);
  source.raw->data[2 * (8 * 2 + 5)] = '\x00';
  source.raw->data[2 * (8 * 2 + 5) + 1] = '\x10';  // 0x1000 at (5, 2): a 13th bit
  RequireRejected(source,
                  "images[0].raw.data: MONO12 pixel (5, 2) holds 4096, above the 12-bit maximum "
                  "4095 (values must be LSB-aligned in their 16-bit words)");
  source.raw->format = pre::PixelFormat::kMono16;
  REQUIRE_NOTHROW(Run(source));
  source.raw->format = pre::PixelFormat::kBayerRg12;
  RequireRejected(source, "images[0].raw.data: BAYER_RG12 pixel (5, 2) holds 4096");
  // Outside the ROI the value is never read.
  source.roi = pre::RegionOfInterest{0, 0, 2, 2};
  REQUIRE_NOTHROW(Run(source));
  source.raw->format = pre::PixelFormat::kMono10;
  source.raw->data.assign(8 * 2 * 4, '\x00');
  source.raw->data[1] = '\x04';  // 1024 at (0, 0)
  RequireRejected(source, "images[0].raw.data: MONO10 pixel (0, 0) holds 1024, above the 10-bit");
}

TEST_CASE("a stride smaller than a row is refused") {
  RequireRejected(
      Raw(640, 480, pre::PixelFormat::kRgb8, 100, 100 * 480),
      "images[0].raw.stride: 100 is smaller than a row of 640 RGB8 pixels (1920 bytes)");
  RequireRejected(Raw(640, 4, pre::PixelFormat::kMono12, 1279, 1279 * 4),
                  "images[0].raw.stride: 1279 is smaller than a row of 640 MONO12 pixels (1280 "
                  "bytes)");
  RequireRejected(Raw(640, 4, pre::PixelFormat::kMono10p, 640, 640 * 4),
                  "images[0].raw.stride: 640 is smaller than a row of 640 MONO10P pixels (800 "
                  "bytes)");
  RequireRejected(Raw(640, 4, pre::PixelFormat::kMono12p, 959, 959 * 4),
                  "images[0].raw.stride: 959 is smaller than a row of 640 MONO12P pixels (960 "
                  "bytes)");
  RequireRejected(Raw(64, 4, pre::PixelFormat::kMono8, -64, 256),
                  "images[0].raw.stride: -64 is negative (0 means rows are tightly packed)");
}

TEST_CASE("regions of interest outside the image or empty are refused") {
  const pre::ImageSource frame = Raw(64, 48, pre::PixelFormat::kMono8, 0, 64 * 48);
  RequireRejected(WithRoi(frame, 0, 0, 0, 10), "images[0].roi.width: 0 must be positive");
  RequireRejected(WithRoi(frame, 0, 0, 10, -1), "images[0].roi.height: -1 must be positive");
  RequireRejected(WithRoi(frame, -1, 0, 10, 10), "images[0].roi.x: -1 is negative");
  RequireRejected(WithRoi(frame, 0, -3, 10, 10), "images[0].roi.y: -3 is negative");
  RequireRejected(WithRoi(frame, 60, 0, 5, 10),
                  "images[0].roi: x=60 y=0 width=5 height=10 reaches outside the 64 x 48 image");
  RequireRejected(WithRoi(frame, 0, 2147483000, 10, 2000), "reaches outside the 64 x 48 image");
  RequireRejected(WithRoi(EncodedSource(Encode(GradientRgb(64, 48), ".png")), 0, 40, 64, 9),
                  "images[0].roi: x=0 y=40 width=64 height=9 reaches outside the 64 x 48 image");
}

TEST_CASE("an image cannot be both encoded and raw") {
  pre::ImageSource source = Raw(4, 4, pre::PixelFormat::kMono8, 0, 16);
  source.encoded = Encode(GradientRgb(4, 4), ".png");
  RequireRejected(source, "images[0].raw: set together with encoded; send one or the other");
}

TEST_CASE("images too elongated for max_num_patches are refused") {
  pre::PreprocessConfig config;
  config.max_num_patches = 1;
  // Even at the smallest scale (1e-6) 17M pixels span two 16-pixel patches.
  RequireRejected(Raw(17'000'000, 1, pre::PixelFormat::kMono8, 0, 17'000'000),
                  "images[0].raw: a 17000000 x 1 image is too elongated: it needs 2 patches, more "
                  "than max_num_patches (1)",
                  config);
}

TEST_CASE("more images than allowed are refused") {
  REQUIRE_NOTHROW(pre::CheckImageCount(4, 4));
  REQUIRE_THROWS_AS(pre::CheckImageCount(5, 4), pre::PreprocessError);
  REQUIRE_THROWS_WITH(pre::CheckImageCount(5, 4),
                      "images: 5 images, more than the 4 allowed per request");
}
