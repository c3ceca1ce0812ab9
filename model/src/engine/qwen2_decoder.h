#pragma once

// The Qwen2 language decoder, native on LibTorch tensors. Rows of several
// sequences are packed into one [N, hidden] matrix: the linear layers run on
// all rows at once, attention runs per sequence over its own KV cache.

#include <vector>

#include "auroraedge/model/model_config.h"
#include "decoder_weights.h"
#include "kv_cache.h"
#include "pch.h"
#include "rotary_embedding.h"

namespace auroraedge::model {

// The rows [offset, offset + length) of a packed batch belong to one
// sequence whose cache already holds `past` positions. Not owning.
struct DecoderSegment {
  int64_t offset = 0;
  int64_t length = 0;
  int64_t past = 0;
  SequenceKvCache* cache = nullptr;
};

class Qwen2Decoder {
 public:
  Qwen2Decoder(DecoderWeights weights, const DecoderConfig& config);

  // Token embeddings [N, hidden] of int64 ids [N].
  at::Tensor Embed(const at::Tensor& ids) const;

  // Runs every layer over the packed rows `x` [N, hidden] (row i at
  // `positions`[i]), writes each segment's keys and values into its cache,
  // and returns the final hidden states after the last norm.
  at::Tensor Forward(at::Tensor x, const at::Tensor& positions,
                     const std::vector<DecoderSegment>& segments) const;

  // Logits [M, vocab] of normed hidden rows [M, hidden], in float32.
  at::Tensor Logits(const at::Tensor& hidden) const;

  const DecoderWeights& weights() const { return weights_; }

 private:
  at::Tensor Layer(int index, const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                   const std::vector<DecoderSegment>& segments) const;
  at::Tensor RmsNorm(const at::Tensor& x, const at::Tensor& weight) const;

  DecoderWeights weights_;
  DecoderConfig config_;
  RotaryEmbedding rope_;
};

}  // namespace auroraedge::model
