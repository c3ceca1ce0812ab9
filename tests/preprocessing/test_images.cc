#include "test_images.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>
#include <vector>

namespace auroraedge::preprocessing::testing {

cv::Mat GradientRgb(int width, int height) {
  cv::Mat image(height, width, CV_8UC3);
  cv::RNG rng(7);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      image.at<cv::Vec3b>(y, x) = cv::Vec3b(
          cv::saturate_cast<uint8_t>(x * 255 / width + rng.uniform(-8, 8)),
          cv::saturate_cast<uint8_t>(y * 255 / height), static_cast<uint8_t>((x + 2 * y) % 256));
    }
  }
  return image;
}

RawFrame ToRawFrame(const cv::Mat& image, PixelFormat format, int stride) {
  const size_t row_bytes = image.cols * image.elemSize();
  const size_t pitch = stride == 0 ? row_bytes : static_cast<size_t>(stride);
  RawFrame frame;
  frame.data.assign(pitch * image.rows, static_cast<char>(0xAB));
  for (int y = 0; y < image.rows; ++y) {
    std::memcpy(&frame.data[y * pitch], image.ptr(y), row_bytes);
  }
  frame.width = image.cols;
  frame.height = image.rows;
  frame.stride = stride;
  frame.format = format;
  return frame;
}

std::string Encode(const cv::Mat& image, const std::string& extension) {
  cv::Mat bgr;
  if (image.channels() == 3) {
    cv::cvtColor(image, bgr, cv::COLOR_RGB2BGR);
  } else {
    bgr = image;
  }
  std::vector<uint8_t> bytes;
  if (!cv::imencode(extension, bgr, bytes)) throw std::runtime_error("cannot encode " + extension);
  return std::string(bytes.begin(), bytes.end());
}

ImageSource EncodedSource(std::string bytes) {
  ImageSource source;
  source.encoded = std::move(bytes);
  return source;
}

float MaxDifference(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return std::numeric_limits<float>::infinity();
  float largest = 0;
  for (size_t i = 0; i < a.size(); ++i) largest = std::max(largest, std::abs(a[i] - b[i]));
  return largest;
}

ImageSource RawSource(RawFrame frame) {
  ImageSource source;
  source.raw = std::move(frame);
  return source;
}

}  // namespace auroraedge::preprocessing::testing
