#pragma once

// The packed rows of several segments as a [B, width] batch, every segment
// padded to the longest one's rows, and back.

#include <cstdint>
#include <vector>

#include "cache_segment.h"
#include "pch.h"

namespace auroraedge::model {

class PaddedRows {
 public:
  // `segments` non-empty, rows of a packed batch on `device`.
  PaddedRows(const std::vector<CacheSegment>& segments, const at::Device& device);

  // [N, ...] packed rows -> [B, width, ...]; a shorter segment's padding
  // repeats its last row.
  at::Tensor Gather(const at::Tensor& packed) const;
  // [N, ...] -> [R, ...]: the segments' rows, segment after segment.
  at::Tensor Real(const at::Tensor& packed) const;
  // Writes the segments' rows of `padded` [B, width, F] into `packed` [N, F].
  void Scatter(const at::Tensor& padded, at::Tensor& packed) const;
  // True when the segments are the `packed_rows` rows in order, one each:
  // Gather(packed).squeeze(1) is then `packed` itself.
  bool IsWhole(int64_t packed_rows) const { return in_order_ && gather_.size(0) == packed_rows; }
  // [B, width]: how many keys each row sees when row i of segment b sits at
  // position past_b + i of its sequence (causal; padding as its last row).
  const at::Tensor& causal_lengths() const { return causal_lengths_; }

 private:
  int64_t width_ = 0;
  bool in_order_ = true;   // one row per segment, the packed rows 0 .. B-1
  at::Tensor gather_;      // [B * width] packed row of every padded row
  at::Tensor real_rows_;   // [R] packed row of every real row
  at::Tensor real_slots_;  // [R] its padded row
  at::Tensor causal_lengths_;
};

}  // namespace auroraedge::model
