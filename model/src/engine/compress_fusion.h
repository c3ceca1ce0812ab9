#pragma once

// compress_fusion.pt: the token compressor and the fusion layer
// (model/FORMAT.md), for the compressed path only.

#include <string>
#include <vector>

#include "auroraedge/model/model_config.h"
#include "fusion_layer.h"
#include "pch.h"

namespace auroraedge::model {

class CompressFusion {
 public:
  CompressFusion(const std::string& path, const ModelConfig& config, const at::Device& device,
                 at::ScalarType dtype);

  // visual [B, P, hidden], valid [B, P] bool -> [B, num_tokens, hidden].
  at::Tensor Compress(const at::Tensor& visual, const at::Tensor& valid);

  // Cross-attention keys and values of one request's valid visual rows
  // [N_v, hidden]: [1, 2, heads, N_v, head_dim] (keys, then values).
  at::Tensor CrossKv(const at::Tensor& visual_rows);

  // The fusion layer over the packed text rows of a step (FusionLayer::Forward).
  at::Tensor Fuse(const at::Tensor& text, const at::Tensor& positions,
                  const std::vector<CacheSegment>& segments,
                  const std::vector<at::Tensor>& crosses) const {
    return fusion_.Forward(text, positions, segments, crosses);
  }

  int64_t weight_bytes() const;
  // The fusion layer's share: what every fused token reads.
  int64_t fusion_weight_bytes() const;

 private:
  torch::jit::Module module_;
  ModelConfig config_;
  FusionLayer fusion_;
};

}  // namespace auroraedge::model
