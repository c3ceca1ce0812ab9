#pragma once

#include "auroraedge/preprocessing/patches.h"
#include "auroraedge/preprocessing/preprocess.h"
#include "pixels.h"

namespace auroraedge::preprocessing {

// Rescales to [0, 1] (8-bit or float 0..255 pixels), normalises with the config's mean and std (per
// RGB channel) and cuts the image, whose sides are whole multiples of config.patch_size, into
// patches of (row, column, channel) values, padded with zero rows up to config.max_num_patches.
PatchImage ToPatches(const Pixels& pixels, const PreprocessConfig& config);

}  // namespace auroraedge::preprocessing
