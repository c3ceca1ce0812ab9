#include "auroraedge/preprocessing/preprocess.h"

#include <opencv2/core/utility.hpp>
#include <string>

#include "auroraedge/preprocessing/naflex_size.h"
#include "decoded_image.h"
#include "input_error.h"
#include "naflex_resize.h"
#include "patchify.h"
#include "raw_frame_pixels.h"

namespace auroraedge::preprocessing {
namespace {

// Model-config errors are the operator's, not the caller's: plain invalid_argument.
void CheckConfig(const PreprocessConfig& config) {
  if (config.patch_size <= 0) {
    throw std::invalid_argument("PreprocessConfig.patch_size must be positive");
  }
  if (config.max_num_patches <= 0) {
    throw std::invalid_argument("PreprocessConfig.max_num_patches must be positive");
  }
  for (float s : config.std) {
    if (!(s > 0)) throw std::invalid_argument("PreprocessConfig.std must be positive");
  }
}

const char* SourceField(const ImageSource& image) {
  if (image.roi) return "roi";
  return image.raw ? "raw" : "encoded";
}

void CheckOneSource(const ImageSource& image, int image_index) {
  if (image.raw && !image.encoded.empty()) {
    RejectField(image_index, "raw", "set together with encoded; send one or the other");
  }
}

Pixels SourcePixels(const ImageSource& image, int image_index, const PreprocessConfig& config) {
  CheckOneSource(image, image_index);
  if (!image.raw) return DecodedPixels(image.encoded, image.roi, image_index, config);
  return RawFramePixels(*image.raw, image.roi, image_index, config);
}

PatchGrid CheckedGrid(int rows, int cols, const ImageSource& source, int image_index,
                      const PreprocessConfig& config) {
  const PatchGrid grid = NaflexGrid(rows, cols, config.patch_size, config.max_num_patches);
  const long long patches = static_cast<long long>(grid.rows) * grid.columns;
  if (patches > config.max_num_patches) {
    RejectField(image_index, SourceField(source),
                "a " + std::to_string(cols) + " x " + std::to_string(rows) +
                    " image is too elongated: it needs " + std::to_string(patches) +
                    " patches, more than max_num_patches (" +
                    std::to_string(config.max_num_patches) + ")");
  }
  return grid;
}

}  // namespace

PatchImage Preprocess(const ImageSource& image, int image_index, const PreprocessConfig& config) {
  CheckConfig(config);
  try {
    const Pixels source = SourcePixels(image, image_index, config);
    const PatchGrid grid =
        CheckedGrid(source.image.rows, source.image.cols, image, image_index, config);
    const Pixels resized{ResizeForNaflex(source.image, grid.columns * config.patch_size,
                                         grid.rows * config.patch_size),
                         source.order};
    PatchImage patches = ToPatches(resized, config);
    patches.source_width = source.image.cols;
    patches.source_height = source.image.rows;
    return patches;
  } catch (const cv::Exception& e) {
    RejectField(image_index, SourceField(image), "could not be processed (" + e.err + ")");
  }
}

RawFramePlan PlanRawFrame(const ImageSource& image, int image_index,
                          const PreprocessConfig& config) {
  CheckConfig(config);
  if (!image.raw) throw std::invalid_argument("PlanRawFrame needs a raw frame");
  CheckOneSource(image, image_index);
  const auto [stride, region] = CheckRawFrame(*image.raw, image.roi, image_index, config);
  return {stride,
          {region.x, region.y, region.width, region.height},
          CheckedGrid(region.height, region.width, image, image_index, config)};
}

void CheckImageCount(int count, int max_images) {
  if (count > max_images) {
    throw PreprocessError("images: " + std::to_string(count) + " images, more than the " +
                          std::to_string(max_images) + " allowed per request");
  }
}

void RunOpenCvOnCallingThreads() { cv::setNumThreads(0); }

}  // namespace auroraedge::preprocessing
