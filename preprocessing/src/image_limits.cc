#include "image_limits.h"

#include "input_error.h"

namespace auroraedge::preprocessing {

void CheckImageSize(int64_t width, int64_t height, const std::string& what,
                    const std::string& field, int image_index, const PreprocessConfig& config) {
  const std::string size = std::to_string(width) + " x " + std::to_string(height);
  if (width <= 0 || height <= 0) {
    RejectField(image_index, field, what + " of " + size + " pixels: sizes must be positive");
  }
  if (width > config.max_pixels / height) {
    RejectField(image_index, field,
                what + " of " + size + " pixels is over the limit of " +
                    std::to_string(config.max_pixels) + " pixels (max_pixels)");
  }
}

}  // namespace auroraedge::preprocessing
