#pragma once

// The fusion layer of compress_fusion.pt (model/FORMAT.md, `fuse`), run
// natively on that module's `fusion.*` weights so that the text rows of all
// sequences of a step go through it at once. compress_fusion.pt's `fuse`
// (model/python/auroraedge/fusion.py) stays the definition it is checked
// against.

#include "auroraedge/model/model_config.h"
#include "fused_linear.h"
#include "kv_storage.h"
#include "pch.h"
#include "rotary_embedding.h"

namespace auroraedge::model {

class FusionLayer {
 public:
  // Takes the module's fusion weights: the norms shared, the linear layers
  // fused (q, k and v; gate and up) and packed as `plan` says. Throws
  // ModelLoadError naming a parameter that is missing or has another shape.
  FusionLayer(const torch::jit::Module& module, const ModelConfig& config, const at::Device& device,
              const LinearPlan& plan);

  // Where a step's text rows keep and find their keys and values.
  struct Rows {
    at::Tensor positions;       // int64 [N]: each row's position among its sequence's text
    at::Tensor write;           // int64 [N]: its fusion storage row
    at::Tensor segments;        // int64 [N, 4]: fusion storage runs it attends to (causal)
    at::Tensor cross_segments;  // int64 [N, 4]: its seat's cross-attention rows
  };

  // text [N, hidden]: the plain embeddings of packed text rows. Each row's
  // self-attention keys and values go to the fusion storage in place; it
  // attends causally to its sequence's text there and to all of its
  // request's visual rows (cross-attention storage). Returns the fused rows
  // [N, hidden].
  at::Tensor Forward(const at::Tensor& text, const Rows& rows, const KvStorage& kv) const;

  // Bytes one pass reads: the norms and the linear layers as they run.
  int64_t weight_bytes() const;

 private:
  struct Weights {
    at::Tensor input_norm, cross_norm, post_attention_norm;
    FusedLinear qkv, o, cross_q, cross_o, gate_up, down;
  };

  static Weights TakeWeights(const torch::jit::Module& module, const ModelConfig& config,
                             const LinearPlan& plan);

  Weights weights_;
  int64_t head_dim_;
  double eps_;
  RotaryEmbedding rope_;
};

}  // namespace auroraedge::model
