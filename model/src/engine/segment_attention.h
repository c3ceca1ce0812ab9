#pragma once

// Attention of a packed batch: rows of several sequences in one [N, ...]
// matrix. Segments of several rows (prefill chunks) attend one by one; all
// one-row segments (decode rows) attend as one batch over zero-padded keys.

#include <optional>
#include <vector>

#include "kv_cache.h"
#include "padded_kv.h"
#include "pch.h"

namespace auroraedge::model {

// The rows [offset, offset + length) of a packed batch belong to one
// sequence whose cache already holds `past` positions. Not owning.
struct CacheSegment {
  int64_t offset = 0;
  int64_t length = 0;
  int64_t past = 0;
  SequenceKvCache* cache = nullptr;
};

// Causal self-attention of one step's packed rows over their sequences'
// caches, for every layer of a stack.
class SegmentAttention {
 public:
  explicit SegmentAttention(const std::vector<CacheSegment>& segments);

  // q [N, q_heads, d], k and v [N, kv_heads, d]: the packed rows of `layer`.
  // Stores k and v as the rows' cache entries; returns [N, q_heads * d].
  at::Tensor Attend(int layer, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v);

  // Writes the one-row segments' keys and values of every layer into their
  // caches (the batch held them until now). Call after the last layer.
  void Commit() const;

 private:
  // The one-row segments' rows, in segment order.
  at::Tensor AttendSingles(int layer, const at::Tensor& q, const at::Tensor& k,
                           const at::Tensor& v);

  std::vector<CacheSegment> chunks_;
  std::vector<CacheSegment> singles_;
  at::Tensor single_rows_;  // [singles] packed row of each one-row segment
  std::optional<PaddedKv> padded_;
};

// Cross-attention of packed rows q [N, heads, d]: the rows of segments[i]
// attend to all of crosses[i] [1, 2, heads, N_i, d] (keys, values; N_i may
// be 0: zeros). Segments' `past` and `cache` are not used. Returns
// [N, heads * d].
at::Tensor SegmentCrossAttention(const at::Tensor& q, const std::vector<CacheSegment>& segments,
                                 const std::vector<at::Tensor>& crosses);

}  // namespace auroraedge::model
