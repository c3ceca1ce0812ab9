#pragma once

// Grouped-query attention: a sequence's new rows over its cache (causal), and
// rows of several sequences over their zero-padded keys (length mask).

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

// q [B, n, q_heads, d]; k and v [B, kv_heads, S, d]; lengths int64 on q's
// device, [B] (every query of entry b attends to keys 0 .. lengths[b]-1) or
// [B, n] (query i of entry b to keys 0 .. lengths[b][i]-1, e.g. causal
// prefill rows). Keys past a length are padding and must be finite; a query
// of length 0 gets zeros. Returns [B, n, q_heads * d]. SDPA on LibTorch >= 2,
// else ManualLengthMaskedAttention.
at::Tensor LengthMaskedAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                 const at::Tensor& lengths);

at::Tensor ManualLengthMaskedAttention(const at::Tensor& q, const at::Tensor& k,
                                       const at::Tensor& v, const at::Tensor& lengths);

}  // namespace auroraedge::model
