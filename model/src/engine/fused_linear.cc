#include "fused_linear.h"

#include <stdexcept>

#ifndef AURORAEDGE_CUDA
#include "packed_linear_tensor.h"
#endif

namespace auroraedge::model {
namespace {

int64_t Bytes(const std::vector<at::Tensor>& tensors, int64_t element) {
  int64_t bytes = 0;
  for (const at::Tensor& t : tensors) bytes += t.defined() ? t.numel() * element : 0;
  return bytes;
}

}  // namespace

LinearPlan PlanLinears(const std::string& weights, const at::Device& device, at::ScalarType dtype) {
  if (weights != "float32" && weights != "int8") {
    throw std::invalid_argument(
        "EngineOptions.weights: expected \"float32\" or \"int8\", found \"" + weights + "\"");
  }
  const bool int8 = weights == "int8";
  if (int8 && (!device.is_cpu() || dtype != at::kFloat)) {
    throw std::invalid_argument(
        "EngineOptions.weights: \"int8\" runs on the CPU with float32 activations, found device "
        "\"" +
        device.str() + "\" and dtype \"" + (dtype == at::kFloat ? "float32" : "bfloat16") + "\"");
  }
#ifdef AURORAEDGE_CUDA
  // The official LibTorch carries its own oneDNN: PackedLinear is not built.
  if (int8) throw std::invalid_argument("EngineOptions.weights: \"int8\" needs a CPU build");
  return {};
#else
  if (!device.is_cpu()) return {};
  if (dtype == at::kBFloat16) {
    const LinearCpuSupport cpu = DetectLinearCpuSupport();
    if (!cpu.native_bf16) {
      throw std::invalid_argument(
          "EngineOptions.dtype: \"bfloat16\" refused: this CPU (oneDNN ISA " + cpu.isa +
          ") has no native bf16 instructions, where bfloat16 ran decode at about half and "
          "prefill at 1/25 of float32's tokens/s (a 126-token prompt took a minute); use "
          "--dtype float32, or --weights int8 for 8-bit weights");
    }
    return {};  // at::linear in bf16: oneDNN's native kernels
  }
  return {true, int8 ? LinearWeights::kInt8 : LinearWeights::kFloat32};
#endif
}

FusedLinear::FusedLinear(const std::vector<at::Tensor>& weights,
                         const std::vector<at::Tensor>& biases,
                         [[maybe_unused]] const LinearPlan& plan) {
  for (const at::Tensor& w : weights) parts_.push_back(w.size(0));
#ifndef AURORAEDGE_CUDA
  if (plan.packed) {
    packed_ = std::make_shared<const PackedLinear>(PackLinear(weights, biases, plan.weights));
    packed_->BuildKernels();
    bytes_ = packed_->packed_bytes() + Bytes(biases, sizeof(float));
    return;
  }
#endif
  weight_ = weights.size() == 1 ? weights[0] : at::cat(weights);
  if (!biases.empty()) bias_ = biases.size() == 1 ? biases[0] : at::cat(biases);
  bytes_ = Bytes({weight_, bias_}, static_cast<int64_t>(weight_.element_size()));
}

at::Tensor FusedLinear::operator()(const at::Tensor& x) const {
#ifndef AURORAEDGE_CUDA
  if (packed_) return Linear(*packed_, x.contiguous());
#endif
  return at::linear(x, weight_, bias_);
}

std::vector<at::Tensor> FusedLinear::Split(const at::Tensor& y) const {
  return y.split_with_sizes(parts_, -1);
}

int64_t FusedLinear::weight_bytes() const { return bytes_; }

bool FusedLinear::Aliases(const at::Tensor& tensor) const { return weight_.is_same(tensor); }

}  // namespace auroraedge::model
