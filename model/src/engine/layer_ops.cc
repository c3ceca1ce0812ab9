#include "layer_ops.h"

namespace auroraedge::model {

at::Tensor RmsNorm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  const auto x32 = x.to(at::kFloat);
  const auto normed = x32 * at::rsqrt(x32.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return weight * normed.to(x.scalar_type());
}

at::Tensor SiluProduct(const at::Tensor& gate, const at::Tensor& up) { return at::silu(gate) * up; }

}  // namespace auroraedge::model
