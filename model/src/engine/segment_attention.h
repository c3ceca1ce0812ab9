#pragma once

// Attention of packed rows over KV storage read in place: each query row
// names the runs of storage rows holding its keys, so no sequence's prefix
// is ever copied into a batch. A decode row attends to its sequence's run
// up to itself, a prefill row to the run up to its own position (causal),
// a fusion cross-attention row to its seat's visual rows; a second run
// serves rows whose keys lie in two places (a scored label after the
// prompt it shares).

#include "pch.h"

namespace auroraedge::model {

// q [R, q_heads, d]; keys and values [T, kv_heads, d], contiguous, q's
// dtype and device (q_heads a multiple of kv_heads: grouped-query);
// segments int64 [R, 4] on q's device: row r attends to storage rows
// [s0, s0 + s1) then [s2, s2 + s3) of its group's key head. Scores are
// scaled by 1/sqrt(d) and softmaxed in float32. Returns [R, q_heads * d];
// a row without keys gets zeros.
at::Tensor AttendSegments(const at::Tensor& q, const at::Tensor& keys, const at::Tensor& values,
                          const at::Tensor& segments);

}  // namespace auroraedge::model
