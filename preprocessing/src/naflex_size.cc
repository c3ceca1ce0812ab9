#include "auroraedge/preprocessing/naflex_size.h"

#include <algorithm>
#include <cmath>

namespace auroraedge::preprocessing {
namespace {

// Patches along one side at `scale`, as transformers computes it in float64.
long long PatchesAlongSide(double scale, int size, int patch_size) {
  const double scaled = size * scale;
  return std::max(1LL, static_cast<long long>(std::ceil(scaled / patch_size)));
}

}  // namespace

PatchGrid NaflexGrid(int height, int width, int patch_size, int max_num_patches) {
  constexpr double kEpsilon = 1e-5;
  double scale_min = kEpsilon / 10;
  double scale_max = 100.0;
  while (scale_max - scale_min >= kEpsilon) {
    const double scale = (scale_min + scale_max) / 2;
    const long long patches =
        PatchesAlongSide(scale, height, patch_size) * PatchesAlongSide(scale, width, patch_size);
    if (patches <= max_num_patches) {
      scale_min = scale;
    } else {
      scale_max = scale;
    }
  }
  // Both fit an int: bounded by max_num_patches, or by size * 1e-6 at the smallest scale.
  return {static_cast<int>(PatchesAlongSide(scale_min, height, patch_size)),
          static_cast<int>(PatchesAlongSide(scale_min, width, patch_size))};
}

}  // namespace auroraedge::preprocessing
