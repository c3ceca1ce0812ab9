#pragma once

#include <ATen/core/Tensor.h>

namespace auroraedge::preprocessing {

// Resizes uint8 pixels [h, w, c] to [height, width, c] uint8 by the CPU
// path's rules (preprocessing/src/naflex_resize.h), axis by axis: area
// averaging (OpenCV's INTER_AREA) along a shrinking axis, bilinear (half-pixel
// centres, clamped edges) along a growing one, the shrinking axis first and
// rounded to 8 bits in between when there is one of each.
at::Tensor ResizeForNaflex(const at::Tensor& pixels, int64_t height, int64_t width);

}  // namespace auroraedge::preprocessing
