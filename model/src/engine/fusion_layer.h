#pragma once

// The fusion layer of compress_fusion.pt (model/FORMAT.md, `fuse`), run
// natively on that module's `fusion.*` weights so that the text rows of all
// sequences of a step go through it at once. compress_fusion.pt's `fuse`
// (model/python/auroraedge/fusion.py) stays the definition it is checked
// against.

#include <vector>

#include "auroraedge/model/model_config.h"
#include "pch.h"
#include "rotary_embedding.h"
#include "segment_attention.h"

namespace auroraedge::model {

class FusionLayer {
 public:
  // Takes the module's fusion weights (shared, not copied). Throws
  // ModelLoadError naming a parameter that is missing or has another shape.
  FusionLayer(const torch::jit::Module& module, const ModelConfig& config,
              const at::Device& device);

  // text [N, hidden]: the plain embeddings of packed text rows, at text
  // positions `positions` [N]. The rows of segments[i] attend causally to
  // their sequence's fusion cache (which receives them) and to all of
  // crosses[i] [1, 2, heads, N_v, head_dim]. Returns the fused rows
  // [N, hidden].
  at::Tensor Forward(const at::Tensor& text, const at::Tensor& positions,
                     const std::vector<CacheSegment>& segments,
                     const std::vector<at::Tensor>& crosses) const;

 private:
  struct Weights {
    at::Tensor input_norm;
    at::Tensor q_weight, q_bias, k_weight, k_bias, v_weight, v_bias, o_weight;
    at::Tensor cross_norm;
    at::Tensor cross_q_weight, cross_q_bias, cross_o_weight;
    at::Tensor post_attention_norm;
    at::Tensor gate_weight, up_weight, down_weight;
  };

  Weights weights_;
  int64_t head_dim_;
  double eps_;
  RotaryEmbedding rope_;
};

}  // namespace auroraedge::model
