#include "naflex_resize.h"

#include <opencv2/imgproc.hpp>

namespace auroraedge::preprocessing {
namespace {

cv::Mat Resized(const cv::Mat& image, int width, int height, int interpolation) {
  cv::Mat resized;
  cv::resize(image, resized, cv::Size(width, height), 0, 0, interpolation);
  return resized;
}

}  // namespace

cv::Mat ResizeForNaflex(const cv::Mat& image, int width, int height) {
  const bool grows = width > image.cols || height > image.rows;
  const bool shrinks = width < image.cols || height < image.rows;
  if (!grows) return Resized(image, width, height, cv::INTER_AREA);
  if (!shrinks) return Resized(image, width, height, cv::INTER_LINEAR);
  if (height < image.rows) {
    return Resized(Resized(image, image.cols, height, cv::INTER_AREA), width, height,
                   cv::INTER_LINEAR);
  }
  return Resized(Resized(image, width, image.rows, cv::INTER_AREA), width, height,
                 cv::INTER_LINEAR);
}

}  // namespace auroraedge::preprocessing
