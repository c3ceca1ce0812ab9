#include "region_of_interest.h"

#include <cstdint>
#include <string>

#include "input_error.h"

namespace auroraedge::preprocessing {

cv::Rect CheckedRegion(const std::optional<RegionOfInterest>& roi, int width, int height,
                       int image_index) {
  if (!roi) return {0, 0, width, height};
  if (roi->width <= 0) {
    RejectField(image_index, "roi.width", std::to_string(roi->width) + " must be positive");
  }
  if (roi->height <= 0) {
    RejectField(image_index, "roi.height", std::to_string(roi->height) + " must be positive");
  }
  if (roi->x < 0) RejectField(image_index, "roi.x", std::to_string(roi->x) + " is negative");
  if (roi->y < 0) RejectField(image_index, "roi.y", std::to_string(roi->y) + " is negative");
  const int64_t right = static_cast<int64_t>(roi->x) + roi->width;
  const int64_t bottom = static_cast<int64_t>(roi->y) + roi->height;
  if (right > width || bottom > height) {
    RejectField(image_index, "roi",
                "x=" + std::to_string(roi->x) + " y=" + std::to_string(roi->y) +
                    " width=" + std::to_string(roi->width) +
                    " height=" + std::to_string(roi->height) + " reaches outside the " +
                    std::to_string(width) + " x " + std::to_string(height) + " image");
  }
  return {roi->x, roi->y, roi->width, roi->height};
}

}  // namespace auroraedge::preprocessing
