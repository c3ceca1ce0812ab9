#include "kv_storage.h"

namespace auroraedge::model {

KvStorage::KvStorage(const ModelConfig& config, const KvGeometry& geometry, bool fusion,
                     int64_t cross_rows_per_slot, const at::TensorOptions& options)
    : cross_rows_per_slot_(fusion ? cross_rows_per_slot : 0) {
  const DecoderConfig& d = config.decoder;
  const int64_t tokens = geometry.num_blocks * geometry.block_size;
  // at::empty: pages a CPU build never writes stay unmapped.
  decoder_ = at::empty({d.num_layers, 2, tokens, d.num_key_value_heads, d.head_dim}, options);
  const int64_t heads = config.fusion.num_heads;
  const int64_t head_dim = config.fusion.head_dim;
  fusion_ = at::empty({2, fusion ? tokens : 0, heads, head_dim}, options);
  cross_ = at::empty({2, geometry.num_slots * cross_rows_per_slot_, heads, head_dim}, options);
}

int64_t KvStorage::bytes() const {
  return static_cast<int64_t>(decoder_.nbytes() + fusion_.nbytes() + cross_.nbytes());
}

int64_t KvBytesPerToken(const ModelConfig& config, bool fusion, at::ScalarType dtype) {
  const int64_t element = c10::elementSize(dtype);
  const DecoderConfig& d = config.decoder;
  int64_t bytes = 2LL * d.num_layers * d.num_key_value_heads * d.head_dim * element;
  if (fusion) bytes += 2LL * config.fusion.num_heads * config.fusion.head_dim * element;
  return bytes;
}

}  // namespace auroraedge::model
