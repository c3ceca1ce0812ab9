#pragma once

// Keys and values of several sequences gathered into one zero-padded tensor,
// so that the new rows of each attend in a single batched call.

#include <cstdint>
#include <vector>

#include "pch.h"

namespace auroraedge::model {

class PaddedKv {
 public:
  // prefixes[b] [layers, 2, heads, length_b, head_dim]: entry b's keys
  // (index 0) and values (index 1), for example SequenceKvCache::Prefix.
  // appended[b] more positions are kept for entry b's new rows (none when
  // `appended` is empty).
  PaddedKv(const std::vector<at::Tensor>& prefixes, const std::vector<int64_t>& appended);

  // Stores the new keys and values [R, heads, head_dim] of `layer`: entry
  // 0's appended[0] rows, then entry 1's, ..., at positions length_b ..
  void Append(int layer, const at::Tensor& k, const at::Tensor& v);

  // [B, heads, S, head_dim], positions past an entry's length zero.
  at::Tensor Keys(int layer) const { return storage_[layer][0]; }
  at::Tensor Values(int layer) const { return storage_[layer][1]; }
  // [B] int64: every entry's valid positions, the appended ones included.
  const at::Tensor& lengths() const { return lengths_; }
  // Entry b's appended positions of every layer, [layers, 2, heads,
  // appended_b, head_dim].
  at::Tensor Appended(int64_t b) const;

 private:
  at::Tensor storage_;  // [layers, 2, B, heads, S, head_dim]
  std::vector<int64_t> past_;
  std::vector<int64_t> appended_;
  at::Tensor row_entry_;     // [R] the entry of every appended row
  at::Tensor row_position_;  // [R] its position
  at::Tensor lengths_;
};

}  // namespace auroraedge::model
