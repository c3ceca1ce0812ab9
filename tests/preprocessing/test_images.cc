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

RawFrame WideRawFrame(const cv::Mat& values, PixelFormat format, int bits, int stride) {
  const size_t row_bits = static_cast<size_t>(values.cols) * bits;
  if (values.type() != CV_16UC1 || row_bits % 8 != 0) {
    throw std::invalid_argument("WideRawFrame: CV_16UC1 rows of whole bytes only");
  }
  const size_t row_bytes = row_bits / 8;
  const size_t pitch = stride == 0 ? row_bytes : static_cast<size_t>(stride);
  RawFrame frame;
  frame.data.assign(pitch * values.rows, static_cast<char>(0xAB));
  for (int y = 0; y < values.rows; ++y) {
    std::string row(row_bytes, '\0');
    for (size_t bit = 0; bit < row_bits; ++bit) {
      const uint16_t value = values.at<uint16_t>(y, static_cast<int>(bit / bits));
      if (value >> (bit % bits) & 1) row[bit / 8] = static_cast<char>(row[bit / 8] | 1 << bit % 8);
    }
    frame.data.replace(y * pitch, row_bytes, row);
  }
  frame.width = values.cols;
  frame.height = values.rows;
  frame.stride = stride;
  frame.format = format;
  return frame;
}

cv::Mat BayerMosaic(const cv::Mat& rgb, const std::string& pattern) {
  std::vector<cv::Mat> planes;
  cv::split(rgb, planes);
  cv::Mat mosaic(rgb.rows, rgb.cols, planes[0].type());
  for (int y = 0; y < rgb.rows; ++y) {
    for (int x = 0; x < rgb.cols; ++x) {
      const int channel = std::string("RGB").find(pattern[2 * (y % 2) + x % 2]);
      planes[channel].row(y).col(x).copyTo(mosaic.row(y).col(x));
    }
  }
  return mosaic;
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
