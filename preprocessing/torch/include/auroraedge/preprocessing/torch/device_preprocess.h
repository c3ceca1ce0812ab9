#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "auroraedge/preprocessing/image_source.h"
#include "auroraedge/preprocessing/patches.h"
#include "auroraedge/preprocessing/preprocess.h"

namespace auroraedge::preprocessing {

// One raw frame preprocessed as LibTorch operations on a device: the same
// rules, grid and values (within one 8-bit grey level) as Preprocess().
// The patches stay on the device, ready for the vision encoder: a camera
// frame crosses to the device once, as bytes of its region of interest, and
// nothing comes back (PatchImage would be host floats, a round trip).
struct DevicePatches {
  at::Tensor
      patches;  // [max_num_patches, 3 * p * p] float32 on the device, zero rows after the grid
  PatchGrid grid;
  int source_width = 0;  // the region's size before resizing
  int source_height = 0;
};

// Validates the frame exactly as Preprocess() does (PlanRawFrame: same
// PreprocessError messages), uploads the region of interest (a Bayer one with
// the margin its demosaic needs) and runs demosaic, resize, normalisation and
// patchify on `device`. Thread-safe; works on any device LibTorch has.
DevicePatches PreprocessRawFrameOn(const ImageSource& image, int image_index,
                                   const PreprocessConfig& config, c10::Device device);

// The host copy in the CPU path's type, for engines that take PatchImage.
PatchImage ToPatchImage(const DevicePatches& device_patches);

}  // namespace auroraedge::preprocessing
