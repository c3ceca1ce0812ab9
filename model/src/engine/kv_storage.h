#pragma once

// The runner's KV storage, allocated once at load for the whole budget and
// written in place by every step: the decoder's keys and values of every
// layer and the fusion layer's self-attention keys and values, both indexed
// by token (a sequence owns the contiguous run of tokens its KvPlacement's
// blocks cover), and the fusion layer's cross-attention keys and values of
// each seat's images. Token-major ([tokens, heads, head_dim]) so that one
// row of keys is one contiguous vector and attention reads a sequence's
// range where it lies (segment_attention.h).

#include <cstdint>

#include "auroraedge/model/model_config.h"
#include "auroraedge/model/step_batch.h"
#include "pch.h"

namespace auroraedge::model {

class KvStorage {
 public:
  // Allocates geometry.num_blocks * block_size tokens of decoder (and, when
  // `fusion`, fusion-layer) keys and values, and num_slots *
  // cross_rows_per_slot rows of cross-attention keys and values.
  KvStorage(const ModelConfig& config, const KvGeometry& geometry, bool fusion,
            int64_t cross_rows_per_slot, const at::TensorOptions& options);

  int64_t num_tokens() const { return decoder_.size(2); }
  int64_t cross_rows_per_slot() const { return cross_rows_per_slot_; }

  // [tokens, kv_heads, head_dim] views of one decoder layer.
  at::Tensor DecoderKeys(int layer) const { return decoder_[layer][0]; }
  at::Tensor DecoderValues(int layer) const { return decoder_[layer][1]; }
  // [tokens, heads, head_dim]; fusion path only.
  at::Tensor FusionKeys() const { return fusion_[0]; }
  at::Tensor FusionValues() const { return fusion_[1]; }
  // [slots * cross_rows_per_slot, heads, head_dim]; fusion path only.
  at::Tensor CrossKeys() const { return cross_[0]; }
  at::Tensor CrossValues() const { return cross_[1]; }

  // Bytes allocated in all.
  int64_t bytes() const;

 private:
  at::Tensor decoder_;  // [layers, 2, tokens, kv_heads, head_dim]
  at::Tensor fusion_;   // [2, tokens, heads, head_dim]
  at::Tensor cross_;    // [2, slots * cross_rows_per_slot, heads, head_dim]
  int64_t cross_rows_per_slot_ = 0;
};

// Bytes of KV one token costs: the decoder's keys and values of every layer,
// plus the fusion layer's when `fusion`.
int64_t KvBytesPerToken(const ModelConfig& config, bool fusion, at::ScalarType dtype);

}  // namespace auroraedge::model
