#pragma once

// PackedLinear on LibTorch tensors, for the engine: the checks between a
// tensor and the kernel's raw rows live here, once.

#include <ATen/ATen.h>

#include <vector>

#include "auroraedge/model/packed_linear.h"

namespace auroraedge::model {

// Packs weights [out_i, in] (any floating dtype, CPU) side by side into one
// layer, with biases [out_i]: `biases` is empty (no bias) or has one tensor
// per weight, an undefined tensor meaning none for that part. Throws
// std::invalid_argument naming the part and the mismatch.
PackedLinear PackLinear(const std::vector<at::Tensor>& weights,
                        const std::vector<at::Tensor>& biases, LinearWeights kind);

// y = x W^T + b over the last dimension: x [..., in] and y [..., out],
// both float32, contiguous and on the CPU, with the same leading shape.
// Writes y in place and allocates nothing. Throws std::invalid_argument
// naming the tensor and the expectation.
void LinearInto(const PackedLinear& linear, const at::Tensor& x, at::Tensor& y);

// As LinearInto, into a new tensor.
at::Tensor Linear(const PackedLinear& linear, const at::Tensor& x);

// The fused outputs of y [..., out], one view per part (no copy).
std::vector<at::Tensor> SplitParts(const PackedLinear& linear, const at::Tensor& y);

}  // namespace auroraedge::model
