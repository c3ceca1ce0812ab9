#include "rotary_embedding.h"

namespace auroraedge::model {

RotaryEmbedding::RotaryEmbedding(int head_dim, double theta, const at::Device& device) {
  // Computed in float32 exactly as the reference does, so positions far
  // into the context round the same way.
  const auto exponents =
      at::arange(0, head_dim, 2, at::TensorOptions().dtype(at::kLong)).to(at::kFloat) / head_dim;
  inv_freq_ = (1.0 / at::pow(theta, exponents)).to(at::kFloat).to(device);
}

std::pair<at::Tensor, at::Tensor> RotaryEmbedding::CosSin(const at::Tensor& positions,
                                                          at::ScalarType dtype) const {
  const auto freqs = at::outer(positions.to(at::kFloat), inv_freq_);
  const auto angles = at::cat({freqs, freqs}, -1);
  return {angles.cos().to(dtype), angles.sin().to(dtype)};
}

at::Tensor ApplyRotary(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  const auto rotated = at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  return x * cos.unsqueeze(1) + rotated * sin.unsqueeze(1);
}

}  // namespace auroraedge::model
