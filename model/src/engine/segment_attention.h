#pragma once

// Attention of a packed batch: rows of several sequences in one [N, ...]
// matrix. The one-row segments (decode rows) attend as one batch, the
// longer ones (prefill chunks) as another, each over zero-padded keys.

#include <vector>

#include "cache_segment.h"
#include "padded_kv.h"
#include "padded_rows.h"
#include "pch.h"

namespace auroraedge::model {

// Causal self-attention of one step's packed rows over their sequences'
// caches, for every layer of a stack.
class SegmentAttention {
 public:
  // `segments` cover the packed rows.
  explicit SegmentAttention(const std::vector<CacheSegment>& segments);

  // q [N, q_heads, d], k and v [N, kv_heads, d]: the packed rows of `layer`.
  // Keeps k and v as the rows' keys and values; returns [N, q_heads * d].
  at::Tensor Attend(int layer, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v);

  // Writes the rows' keys and values of every layer into their caches (the
  // batch held them until now). Call after the last layer.
  void Commit() const;

 private:
  // Segments that attend in one batched call.
  struct Batch {
    std::vector<CacheSegment> segments;
    PaddedRows rows;
    PaddedKv padded;
  };

  std::vector<Batch> batches_;
};

// Cross-attention of packed rows q [N, heads, d]: the rows of segments[i]
// attend to all of crosses[i] [1, 2, heads, N_i, d] (keys, values; N_i may
// be 0: zeros). Segments' `past` and `cache` are not used. Returns
// [N, heads * d].
at::Tensor SegmentCrossAttention(const at::Tensor& q, const std::vector<CacheSegment>& segments,
                                 const std::vector<at::Tensor>& crosses);

}  // namespace auroraedge::model
