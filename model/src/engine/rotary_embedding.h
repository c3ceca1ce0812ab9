#pragma once

// Rotary position embedding, Qwen2/HF convention: frequencies
// theta^(-2i/d) for i < d/2, both halves share them, rotate_half pairs
// element j with element j + d/2.

#include "pch.h"

namespace auroraedge::model {

class RotaryEmbedding {
 public:
  RotaryEmbedding(int head_dim, double theta, const at::Device& device);

  // cos and sin tables [N, head_dim] for int64 `positions` [N], in `dtype`.
  std::pair<at::Tensor, at::Tensor> CosSin(const at::Tensor& positions, at::ScalarType dtype) const;

 private:
  at::Tensor inv_freq_;  // [head_dim / 2] float32
};

// x [N, heads, head_dim] rotated by the tables of its rows.
at::Tensor ApplyRotary(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

}  // namespace auroraedge::model
