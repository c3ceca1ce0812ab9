#pragma once

// The Qwen2 language decoder, native on LibTorch tensors. Rows of several
// sequences are packed into one [N, hidden] matrix: the linear layers run on
// all rows at once; each row's keys and values are written into the KV
// storage in place and attention reads each sequence's run of it
// (segment_attention.h).

#include <vector>

#include "auroraedge/model/model_config.h"
#include "decoder_weights.h"
#include "fused_linear.h"
#include "kv_storage.h"
#include "pch.h"
#include "rotary_embedding.h"

namespace auroraedge::model {

class Qwen2Decoder {
 public:
  // Fuses and packs the linear layers once (q, k and v as one layer, gate
  // and up as one) as `plan` says; their source tensors are released.
  Qwen2Decoder(DecoderWeights weights, const DecoderConfig& config, const LinearPlan& plan);

  // Token embeddings [N, hidden] of int64 ids [N].
  at::Tensor Embed(const at::Tensor& ids) const;

  // Runs every layer over the packed rows `x` [N, hidden] at int64
  // `positions` [N]: writes row i's keys and values to storage row
  // kv_write[i] of every layer, attends over the storage runs segments[i]
  // (AttendSegments), and returns the hidden states before the last norm.
  at::Tensor Forward(at::Tensor x, const at::Tensor& positions, const at::Tensor& kv_write,
                     const at::Tensor& segments, const KvStorage& kv) const;

  // Logits [M, vocab] in float32 of hidden rows [M, hidden] from Forward
  // (the last norm, then the tied or own head).
  at::Tensor Logits(const at::Tensor& hidden) const;

  // Bytes a decode step reads: every layer's weights and the head (the
  // embedding table only for its one row, not counted).
  int64_t decode_weight_bytes() const;
  // Bytes held: the above plus the embedding table where the head does not
  // run on it.
  int64_t weight_bytes() const;

 private:
  struct LayerLinears {
    FusedLinear qkv, o, gate_up, down;
  };

  // Packs layer `l`'s linears and releases their source tensors (mapped
  // file pages or converted copies), so that only the packed form stays.
  static LayerLinears TakeLinears(DecoderLayerWeights& l, const LinearPlan& plan);

  at::Tensor Layer(int index, const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                   const at::Tensor& kv_write, const at::Tensor& segments,
                   const KvStorage& kv) const;

  DecoderWeights weights_;  // embeddings and norms; the linear tensors released
  DecoderConfig config_;
  std::vector<LayerLinears> linears_;
  FusedLinear lm_head_;
  RotaryEmbedding rope_;
};

}  // namespace auroraedge::model
