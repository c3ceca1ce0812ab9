#pragma once

// compress_fusion.pt: the token compressor and the fusion layer
// (model/FORMAT.md), for the compressed path only.

#include <string>

#include "auroraedge/model/model_config.h"
#include "pch.h"

namespace auroraedge::model {

struct FusionKv {
  at::Tensor k;  // [1, heads, T, head_dim]
  at::Tensor v;
};

class CompressFusion {
 public:
  CompressFusion(const std::string& path, const ModelConfig& config, const at::Device& device,
                 at::ScalarType dtype);

  // visual [B, P, hidden], valid [B, P] bool -> [B, num_tokens, hidden].
  at::Tensor Compress(const at::Tensor& visual, const at::Tensor& valid);

  // Cross-attention keys and values of one request's valid visual rows
  // [N_v, hidden].
  FusionKv CrossKv(const at::Tensor& visual_rows);

  // Fuses text embeddings [T, hidden] at text positions `positions` [T]
  // given the fusion cache `past`; returns the fused rows [T, hidden] and
  // the grown cache.
  std::pair<at::Tensor, FusionKv> Fuse(const at::Tensor& text, const at::Tensor& positions,
                                       const FusionKv& past, const FusionKv& cross);

  int64_t weight_bytes() const;
  // The fusion layer's share: what every fused token reads.
  int64_t fusion_weight_bytes() const;

  // An empty fusion cache [1, heads, 0, head_dim].
  FusionKv EmptyCache(const at::TensorOptions& options) const;

 private:
  torch::jit::Module module_;
  ModelConfig config_;
};

}  // namespace auroraedge::model
