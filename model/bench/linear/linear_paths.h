#pragma once

// The ways the benchmark runs a linear layer: LibTorch's at::linear as the
// decoder calls it today (one call per weight, fp32 or bf16), and
// PackedLinear (fused parts, fp32, int8 or bf16).

#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <vector>

#include "auroraedge/model/packed_linear.h"
#include "decoder_shapes.h"

namespace auroraedge::model::bench {

enum class Path { kAtenFloat32, kAtenBFloat16, kPackedFloat32, kPackedInt8, kPackedBFloat16 };

const char* PathName(Path path);

// Random weights of one shape: a [out_i, in] tensor per part (and a bias
// per part when the shape has them), fp32.
struct RandomWeights {
  std::vector<at::Tensor> parts;
  std::vector<at::Tensor> biases;
};
RandomWeights MakeRandomWeights(const LinearShape& shape);

// One linear layer on one path, with its own input rows and output buffer.
class BenchLinear {
 public:
  virtual ~BenchLinear() = default;
  // Multiplies the first `rows` input rows (rows <= the max_rows it was made for).
  virtual void Run(int64_t rows) = 0;
  virtual int64_t weight_bytes() const = 0;
  // The kernel's name, e.g. "brg:avx512_core" or "at::linear".
  virtual std::string implementation() const = 0;
};

// Packs or converts `weights` for `path`; the caller may drop them after.
std::unique_ptr<BenchLinear> MakeBenchLinear(Path path, const RandomWeights& weights,
                                             int64_t max_rows);

}  // namespace auroraedge::model::bench
