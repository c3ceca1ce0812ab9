#pragma once

#include <cstdint>
#include <vector>

namespace auroraedge::preprocessing {

// One image turned into SigLIP2-naflex encoder input. Plain data: it crosses
// from the preprocessing workers to the model engine without LibTorch types.
struct PatchImage {
  // max_num_patches rows of 3 * patch_size * patch_size floats, row-major,
  // each patch flattened in (row, column, channel) order as the SigLIP2 naflex
  // processor does. Rows past grid_h * grid_w are zero padding.
  std::vector<float> patches;
  int max_num_patches = 0;
  int patch_dim = 0;   // 3 * patch_size * patch_size
  int grid_h = 0;      // patch rows of the resized image
  int grid_w = 0;      // patch columns of the resized image
  int num_valid() const { return grid_h * grid_w; }
  // Original (pre-resize, post-ROI) size, for logs and timing.
  int source_width = 0;
  int source_height = 0;
};

}  // namespace auroraedge::preprocessing
