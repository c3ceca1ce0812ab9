#pragma once

// One sequence's KV cache (decoder or fusion self-attention), allocated once
// for its whole reserved length so that a step never reallocates.

#include <cstdint>

#include "pch.h"

namespace auroraedge::model {

class SequenceKvCache {
 public:
  SequenceKvCache(int num_layers, int kv_heads, int64_t capacity, int head_dim,
                  const at::TensorOptions& options);

  int64_t capacity() const { return storage_.size(3); }

  // Stores k and v [n, kv_heads, head_dim] of positions pos .. pos+n-1.
  void Write(int layer, int64_t pos, const at::Tensor& k, const at::Tensor& v);

  // Views [kv_heads, length, head_dim] of positions 0 .. length-1.
  at::Tensor Keys(int layer, int64_t length) const;
  at::Tensor Values(int layer, int64_t length) const;

  // Every layer's keys and values of positions 0 .. length-1, a view
  // [layers, 2, kv_heads, length, head_dim].
  at::Tensor Prefix(int64_t length) const;
  // Every layer's keys and values at positions pos .. pos+n-1, a writable
  // view [layers, 2, kv_heads, n, head_dim].
  at::Tensor Positions(int64_t pos, int64_t n);

 private:
  at::Tensor storage_;  // [layers, 2, kv_heads, capacity, head_dim]
};

}  // namespace auroraedge::model
