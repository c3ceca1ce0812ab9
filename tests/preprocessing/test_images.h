#pragma once

#include <opencv2/core/mat.hpp>
#include <string>
#include <vector>

#include "auroraedge/preprocessing/image_source.h"

namespace auroraedge::preprocessing::testing {

// A smooth colour gradient with a little noise, 8-bit, 3 channels (RGB).
cv::Mat GradientRgb(int width, int height);

// The image's bytes as a raw frame, each row padded to `stride` (0: packed)
// with 0xAB filler bytes.
RawFrame ToRawFrame(const cv::Mat& image, PixelFormat format, int stride = 0);

// The image encoded as `extension` (".png", ".jpg", ".bmp", ".tiff"); a
// 3-channel image is taken as RGB.
std::string Encode(const cv::Mat& image, const std::string& extension);

ImageSource EncodedSource(std::string bytes);

// The largest absolute difference between two patch tensors (infinity when
// their sizes differ); keeps failure messages short.
float MaxDifference(const std::vector<float>& a, const std::vector<float>& b);
ImageSource RawSource(RawFrame frame);

}  // namespace auroraedge::preprocessing::testing
