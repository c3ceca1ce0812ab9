#pragma once

#include <opencv2/core/mat.hpp>

namespace auroraedge::preprocessing {

// Resizes an 8-bit or float image to width x height, axis by axis: area
// averaging along an axis that shrinks, bilinear interpolation (half-pixel
// centres, edges clamped) along one that grows. When one axis shrinks and
// the other grows, the shrinking axis goes first (an 8-bit image is rounded
// to 8 bits in between, a float one is not); the Python reference follows
// the same steps.
cv::Mat ResizeForNaflex(const cv::Mat& image, int width, int height);

}  // namespace auroraedge::preprocessing
