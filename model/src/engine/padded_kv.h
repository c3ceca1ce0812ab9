#pragma once

// Keys and values of several sequences gathered into one zero-padded tensor,
// so that one new row of each attends in a single batched call.

#include <cstdint>
#include <vector>

#include "pch.h"

namespace auroraedge::model {

class PaddedKv {
 public:
  // prefixes[b] [layers, 2, heads, length_b, head_dim]: entry b's keys
  // (index 0) and values (index 1), for example SequenceKvCache::Prefix.
  // With `append`, one more position per entry is kept for a new row.
  PaddedKv(const std::vector<at::Tensor>& prefixes, bool append);

  // Stores every entry's new key and value [B, heads, head_dim] of `layer`
  // at its position length_b (only with `append`).
  void Append(int layer, const at::Tensor& k, const at::Tensor& v);

  // [B, heads, S, head_dim], positions past an entry's length zero.
  at::Tensor Keys(int layer) const { return storage_[layer][0]; }
  at::Tensor Values(int layer) const { return storage_[layer][1]; }
  // [B] int64: every entry's valid positions, the appended one included.
  const at::Tensor& lengths() const { return lengths_; }
  // Entry b's appended position of every layer, [layers, 2, heads, head_dim].
  at::Tensor Appended(int64_t b) const;

 private:
  at::Tensor storage_;  // [layers, 2, B, heads, S, head_dim]
  std::vector<int64_t> past_;
  at::Tensor batch_index_;  // [B] 0 .. B-1
  at::Tensor past_index_;   // [B] length_b
  at::Tensor lengths_;
};

}  // namespace auroraedge::model
