#pragma once

// Pieces the decoder layers and the fusion layer share, as the reference
// (model/python/auroraedge/layers.py) defines them.

#include "pch.h"

namespace auroraedge::model {

// Qwen2's RMSNorm: normalised in float32, the weight applied in x's dtype.
at::Tensor RmsNorm(const at::Tensor& x, const at::Tensor& weight, double eps);

// SwiGLU's gating, silu(gate) * up, on the gate and up projections' outputs
// (the caller then applies down).
at::Tensor SiluProduct(const at::Tensor& gate, const at::Tensor& up);

}  // namespace auroraedge::model
