#include "kv_cache.h"

namespace auroraedge::model {

SequenceKvCache::SequenceKvCache(int num_layers, int kv_heads, int64_t capacity, int head_dim,
                                 const at::TensorOptions& options)
    : storage_(at::empty({num_layers, 2, kv_heads, capacity, head_dim}, options)) {}

void SequenceKvCache::Write(int layer, int64_t pos, const at::Tensor& k, const at::Tensor& v) {
  const int64_t n = k.size(0);
  storage_[layer][0].narrow(1, pos, n).copy_(k.transpose(0, 1));
  storage_[layer][1].narrow(1, pos, n).copy_(v.transpose(0, 1));
}

at::Tensor SequenceKvCache::Keys(int layer, int64_t length) const {
  return storage_[layer][0].narrow(1, 0, length);
}

at::Tensor SequenceKvCache::Values(int layer, int64_t length) const {
  return storage_[layer][1].narrow(1, 0, length);
}

at::Tensor SequenceKvCache::Prefix(int64_t length) const { return storage_.narrow(3, 0, length); }

at::Tensor SequenceKvCache::Positions(int64_t pos, int64_t n) { return storage_.narrow(3, pos, n); }

}  // namespace auroraedge::model
