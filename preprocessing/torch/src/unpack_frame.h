#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "auroraedge/preprocessing/image_source.h"
#include "auroraedge/preprocessing/preprocess.h"

namespace auroraedge::preprocessing {

// Where the red sample sits in a Bayer mosaic's 2 x 2 tile (row, column):
// RGGB is (0, 0), GRBG (0, 1), GBRG (1, 0), BGGR (1, 1).
struct BayerPhase {
  int red_row = 0;
  int red_column = 0;
};

// A region of a frame on the device, 8 bits per sample, before any
// processing: [h, w, 3] colour (RGB order, or BGR when `bgr`), [h, w, 1] grey,
// or a Bayer mosaic [h, w] of `region` grown by `margin` pixels (clamped to the
// frame) for the demosaic, whose offset inside is `inner`.
struct UnpackedRegion {
  at::Tensor samples;
  bool bgr = false;
  bool bayer = false;
  BayerPhase phase;  // of samples[0][0]
  int inner_x = 0;   // where the region starts inside a Bayer tile's samples
  int inner_y = 0;
};

// The one step that knows pixel formats: bytes of the frame's region -> 8-bit
// samples on the device. A new format (packed, 10/12/16 bits, another Bayer
// order) only needs its case here; everything after works on these samples.
UnpackedRegion UnpackRegion(const RawFrame& frame, const RawFramePlan& plan, c10::Device device);

}  // namespace auroraedge::preprocessing
