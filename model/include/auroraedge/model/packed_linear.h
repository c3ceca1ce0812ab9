#pragma once

// Linear layers y = x W^T + b with weights packed once, at load, for the
// CPU's matrix kernels (oneDNN's matmul, the library LibTorch itself links):
// the decoder's matrix-vector products stream each weight once per step,
// and no step allocates. Plain C++: no LibTorch in this header (the tensor
// helpers are in model/src/linear/packed_linear_tensor.h).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace auroraedge::model {

// How a PackedLinear stores its weights and multiplies.
enum class LinearWeights {
  // fp32 weights and arithmetic: matches at::linear to rounding.
  kFloat32,
  // Weight-only-sized int8: each output channel's weights scaled by their
  // largest magnitude to [-127, 127]; each input row is quantized the same
  // way on the fly (dynamic, per row); int32 dot products, fp32 output.
  kInt8,
  // bf16 weights and inputs, fp32 accumulation and output. Only where the
  // CPU has native bf16 instructions (LinearCpuSupport::native_bf16): the
  // constructor refuses it elsewhere.
  kBFloat16,
};

// "float32", "int8" or "bfloat16". Throws std::invalid_argument naming
// `field` and the accepted values.
LinearWeights ParseLinearWeights(const std::string& name, const std::string& field);
const char* LinearWeightsName(LinearWeights weights);

// What this CPU offers the packed kernels, as oneDNN sees it (the ISA it
// dispatches to, after any ONEDNN_MAX_CPU_ISA limit).
struct LinearCpuSupport {
  std::string isa;           // e.g. "avx512_core_bf16", "avx2"
  bool native_int8 = false;  // int8 dot-product instructions (AVX512-VNNI, AVX-VNNI, AMX)
  bool native_bf16 = false;  // bf16 dot-product instructions (AVX512-BF16, AMX)
};
LinearCpuSupport DetectLinearCpuSupport();

// One block of a layer's weight: fused layers (q, k and v; gate and up)
// are several parts with the same in_features, packed side by side, so the
// input is read once and the outputs come out concatenated.
struct LinearPart {
  const float* weight = nullptr;  // [out_features, in_features], row-major
  const float* bias = nullptr;    // [out_features], or nullptr for none
  int64_t out_features = 0;
};

// A linear layer packed for the CPU. Construction copies the weights into
// the kernel's layout (the caller may free its own copy afterwards) and
// throws std::invalid_argument for an empty or inconsistent layer, and
// std::runtime_error when this CPU has no fast kernel for `weights`.
//
// Threads: Run uses LibTorch's intra-op thread count of the calling thread
// (at::set_num_threads; oneDNN and LibTorch share one OpenMP pool). Run
// may be called from several threads; calls are serialized.
class PackedLinear {
 public:
  PackedLinear(const std::vector<LinearPart>& parts, int64_t in_features, LinearWeights weights);
  ~PackedLinear();
  PackedLinear(PackedLinear&&) noexcept;
  PackedLinear& operator=(PackedLinear&&) noexcept;

  // y[rows][out_features()] = x[rows][in_features()] W^T + b, both
  // row-major and dense; y must not overlap x. Rows run in pieces of a
  // fixed set of sizes; the first piece of a size (and thread count) builds
  // that size's kernel, later ones allocate nothing. rows >= 1.
  void Run(const float* x, int64_t rows, float* y) const;

  int64_t in_features() const;
  int64_t out_features() const;  // the parts' sum
  // Each part's out_features, in order: the widths of the fused outputs.
  const std::vector<int64_t>& part_features() const;
  LinearWeights weights() const;
  int64_t packed_bytes() const;  // the packed weights (and int8 compensation), bias excluded
  // oneDNN's implementation for one row, e.g. "brg:avx512_core"; a name
  // starting with "ref" is oneDNN's slow reference code.
  std::string implementation() const;
  // Builds the kernel of every piece size for the calling thread's
  // intra-op thread count now, so that no Run waits for oneDNN to compile
  // one (a serving step would otherwise stall on each new batch size).
  void BuildKernels() const;
  // The kernels built so far: at most 31 per intra-op thread count, however
  // many different row counts were run.
  int64_t kernel_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace auroraedge::model
