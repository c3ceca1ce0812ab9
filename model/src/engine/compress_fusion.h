#pragma once

// compress_fusion.pt: the token compressor and the fusion layer
// (model/FORMAT.md), for the compressed path only.

#include <string>

#include "auroraedge/model/model_config.h"
#include "fusion_layer.h"
#include "pch.h"

namespace auroraedge::model {

class CompressFusion {
 public:
  // The fusion layer's linear layers run as `plan` says (fused_linear.h).
  CompressFusion(const std::string& path, const ModelConfig& config, const at::Device& device,
                 at::ScalarType dtype, const LinearPlan& plan);

  // visual [B, P, hidden], valid [B, P] bool -> [B, num_tokens, hidden].
  at::Tensor Compress(const at::Tensor& visual, const at::Tensor& valid);

  // Cross-attention keys and values of one request's valid visual rows
  // [N_v, hidden], written to storage rows [first_row, first_row + N_v) of
  // `kv`'s cross-attention keys and values.
  void WriteCrossKv(const at::Tensor& visual_rows, int64_t first_row, const KvStorage& kv);

  const FusionLayer& fusion() const { return fusion_; }

  // The module's parameters (the fusion layer's packed copies not counted).
  int64_t weight_bytes() const;
  // The fusion layer's share, as it runs: what every fused token reads.
  int64_t fusion_weight_bytes() const;

 private:
  torch::jit::Module module_;
  ModelConfig config_;
  FusionLayer fusion_;
};

}  // namespace auroraedge::model
