#pragma once

namespace auroraedge::preprocessing {

struct PatchGrid {
  int rows = 0;     // grid_h
  int columns = 0;  // grid_w
};

// The patch grid the SigLIP2 naflex image processor resizes a height x width
// image to: the largest scale, found by the same bisection as transformers'
// get_image_size_for_max_num_patches, at which each side rounded up to whole
// patches (at least one) gives at most max_num_patches patches. Extreme aspect
// ratios can exceed max_num_patches even at the smallest scale; callers check.
PatchGrid NaflexGrid(int height, int width, int patch_size, int max_num_patches);

}  // namespace auroraedge::preprocessing
