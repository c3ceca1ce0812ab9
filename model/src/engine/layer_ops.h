#pragma once

// Pieces the decoder layers and the fusion layer share, as the reference
// (model/python/auroraedge/layers.py) defines them.

#include "pch.h"

namespace auroraedge::model {

// Qwen2's RMSNorm: normalised in float32, the weight applied in x's dtype.
at::Tensor RmsNorm(const at::Tensor& x, const at::Tensor& weight, double eps);

// down(silu(gate(x)) * up(x)), no biases.
at::Tensor SwiGlu(const at::Tensor& x, const at::Tensor& gate, const at::Tensor& up,
                  const at::Tensor& down);

}  // namespace auroraedge::model
