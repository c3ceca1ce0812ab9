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

// A CV_16UC1 image of values as a raw frame of `format`: 16-bit
// little-endian words for bits == 16, else packed LSB first at `bits` per
// value (10 or 12), each row padded to `stride` (0: packed) with 0xAB bytes.
// Written bit by bit, independently of the library's unpacking.
RawFrame WideRawFrame(const cv::Mat& values, PixelFormat format, int bits, int stride = 0);

// A one-channel mosaic (depth of `rgb`) of an RGB image: `pattern` names the
// colours of the first two pixels of the first and second rows, e.g. "RGGB".
cv::Mat BayerMosaic(const cv::Mat& rgb, const std::string& pattern);

// The image encoded as `extension` (".png", ".jpg", ".bmp", ".tiff"); a
// 3-channel image is taken as RGB.
std::string Encode(const cv::Mat& image, const std::string& extension);

ImageSource EncodedSource(std::string bytes);

// The largest absolute difference between two patch tensors (infinity when
// their sizes differ); keeps failure messages short.
float MaxDifference(const std::vector<float>& a, const std::vector<float>& b);
ImageSource RawSource(RawFrame frame);

}  // namespace auroraedge::preprocessing::testing
