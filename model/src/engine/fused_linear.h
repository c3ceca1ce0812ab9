#pragma once

// The linear layers of the decoder and the fusion layer, with their parts
// (q, k and v; gate and up) fused side by side so that a step reads its
// input once and makes one call. On the CPU with float32 activations they
// run PackedLinear (model/src/linear: weights packed once at load, fp32 at
// memory speed or int8 with per-channel scales); elsewhere (a GPU, bfloat16
// activations) LibTorch's at::linear on the concatenated weights.

#include <memory>
#include <string>
#include <vector>

#include "auroraedge/model/packed_linear.h"
#include "pch.h"

namespace auroraedge::model {

// How a model's linear layers run, decided once at load.
struct LinearPlan {
  bool packed = false;                              // PackedLinear, else at::linear
  LinearWeights weights = LinearWeights::kFloat32;  // the packed kind
};

// EngineOptions.weights ("float32" or "int8") for activations of `dtype` on
// `device`. Throws std::invalid_argument naming EngineOptions.weights or
// EngineOptions.dtype: int8 weights need float32 activations on the CPU,
// and bfloat16 is refused on a CPU without native bf16 instructions (it ran
// decode at half and prefill at 1/25 of float32's speed there).
LinearPlan PlanLinears(const std::string& weights, const at::Device& device, at::ScalarType dtype);

class FusedLinear {
 public:
  // weights [out_i, in] side by side; `biases` empty (none) or one per
  // weight. The weights are copied (packed or concatenated), except a single
  // unpacked part, which is kept as is.
  FusedLinear(const std::vector<at::Tensor>& weights, const std::vector<at::Tensor>& biases,
              const LinearPlan& plan);

  // x [N, in] -> [N, sum(out_i)], in x's dtype.
  at::Tensor operator()(const at::Tensor& x) const;

  // The parts of an output of operator(): views, no copy.
  std::vector<at::Tensor> Split(const at::Tensor& y) const;

  // The bytes one pass reads: weights (packed, with int8's compensation)
  // and biases.
  int64_t weight_bytes() const;

  // Whether this layer runs on `tensor` itself (an unpacked single part).
  bool Aliases(const at::Tensor& tensor) const;

 private:
  // Shared so that FusedLinear stays copyable into the layer structs; only
  // built where PackedLinear exists (not in CUDA builds).
  std::shared_ptr<const PackedLinear> packed_;
  at::Tensor weight_, bias_;  // the at::linear path
  std::vector<int64_t> parts_;
  int64_t bytes_ = 0;
};

}  // namespace auroraedge::model
