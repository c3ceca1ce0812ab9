#pragma once

// Causal grouped-query attention of one sequence's new rows over its cache.

#include "pch.h"

namespace auroraedge::model {

// q [n, q_heads, d] are the rows at positions past .. past+n-1; k and v
// [kv_heads, past+n, d] are the cache including them. Query head h reads kv
// head h / (q_heads / kv_heads). Returns [n, q_heads * d]. Uses
// scaled_dot_product_attention where LibTorch has it (>= 2.0), else
// ManualCausalAttention.
at::Tensor CausalAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                           int64_t past);

// The same computation with matmul and softmax (softmax in float32); the
// only path on LibTorch 1.x.
at::Tensor ManualCausalAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                 int64_t past);

}  // namespace auroraedge::model
