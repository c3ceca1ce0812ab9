#pragma once

// The Qwen2 language decoder, native on LibTorch tensors. Rows of several
// sequences are packed into one [N, hidden] matrix: the linear layers run on
// all rows at once, attention over each sequence's own KV cache
// (segment_attention.h).

#include <vector>

#include "auroraedge/model/model_config.h"
#include "decoder_weights.h"
#include "pch.h"
#include "rotary_embedding.h"
#include "segment_attention.h"

namespace auroraedge::model {

class Qwen2Decoder {
 public:
  Qwen2Decoder(DecoderWeights weights, const DecoderConfig& config);

  // Token embeddings [N, hidden] of int64 ids [N].
  at::Tensor Embed(const at::Tensor& ids) const;

  // Runs every layer over the packed rows `x` [N, hidden] (row i at
  // `positions`[i]), writes each segment's keys and values into its cache,
  // and returns the final hidden states after the last norm.
  at::Tensor Forward(at::Tensor x, const at::Tensor& positions,
                     const std::vector<CacheSegment>& segments) const;

  // Logits [M, vocab] of normed hidden rows [M, hidden], in float32.
  at::Tensor Logits(const at::Tensor& hidden) const;

  const DecoderWeights& weights() const { return weights_; }

 private:
  at::Tensor Layer(int index, const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                   SegmentAttention& attention) const;

  DecoderWeights weights_;
  DecoderConfig config_;
  RotaryEmbedding rope_;
};

}  // namespace auroraedge::model
