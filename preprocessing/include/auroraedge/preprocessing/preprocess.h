#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "auroraedge/preprocessing/image_source.h"
#include "auroraedge/preprocessing/naflex_size.h"
#include "auroraedge/preprocessing/patches.h"

namespace auroraedge::preprocessing {

// What the model config and the server's limits say about images.
struct PreprocessConfig {
  int patch_size = 16;
  int max_num_patches = 256;
  std::array<float, 3> mean{0.5f, 0.5f, 0.5f};
  std::array<float, 3> std{0.5f, 0.5f, 0.5f};
  int64_t max_encoded_bytes = 32LL << 20;
  int64_t max_pixels = 40'000'000;  // width * height of a decoded image or raw frame
};

// Bad input from the caller. The message names the image index, the field
// and the limit, e.g. "images[1].raw.stride: 100 is smaller than a row (3 x 640 = 1920 bytes)".
class PreprocessError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Decodes (or wraps) one image, applies its ROI, resizes it to the naflex
// grid and returns the normalised patches. Thread-safe; throws
// PreprocessError. `image_index` only serves the messages.
PatchImage Preprocess(const ImageSource& image, int image_index, const PreprocessConfig& config);

// What Preprocess() checks of a raw frame before it reads the pixels, for a
// path that processes them elsewhere (preprocessing/torch, on a device): the
// layout (sizes, stride, byte count, pixel limit), the ROI and the patch grid,
// with the same PreprocessError messages.
struct RawFramePlan {
  int64_t stride = 0;       // bytes per row
  RegionOfInterest region;  // the ROI, or the whole frame
  PatchGrid grid;           // the naflex grid the region is resized to
};
RawFramePlan PlanRawFrame(const ImageSource& image, int image_index,
                          const PreprocessConfig& config);

// Refuses a request with more than max_images images; throws PreprocessError
// ("images: 5 images, more than the 4 allowed per request").
void CheckImageCount(int count, int max_images);

// Makes OpenCV run each call on the calling thread instead of its own pool,
// so that preprocessing uses exactly the worker threads it is given and never
// takes cores from the decoder. Process-wide; call once at startup.
void RunOpenCvOnCallingThreads();

}  // namespace auroraedge::preprocessing
