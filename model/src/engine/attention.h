#pragma once

// Grouped-query attention: rows of several sequences over their zero-padded
// keys (length mask; causal prefill rows through per-query lengths).

#include "pch.h"

namespace auroraedge::model {

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
