#pragma once

#include <ATen/core/Tensor.h>

#include "unpack_frame.h"

namespace auroraedge::preprocessing {

// Bilinear demosaic of an 8-bit Bayer mosaic [h, w] (h, w >= 3) whose
// samples[0][0] has the given phase -> RGB [h, w, 3] uint8, as OpenCV's
// COLOR_Bayer*2RGB and the Python reference do: interior pixels average
// their 2 or 4 nearest samples of each missing colour (halves rounded up),
// the outermost rows and columns repeat their inner neighbours. Integer
// arithmetic: exactly the CPU path's values.
at::Tensor DemosaicBilinear(const at::Tensor& mosaic, BayerPhase phase);

}  // namespace auroraedge::preprocessing
