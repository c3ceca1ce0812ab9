#include "attention.h"

#include <torch/version.h>

#include <cmath>
#include <limits>

namespace auroraedge::model {
namespace {

// [B, 1, 1 or n, S]: true where key j is within the entry's (lengths [B])
// or the query's (lengths [B, n]) length.
at::Tensor KeyMask(const at::Tensor& lengths, int64_t keys) {
  const auto mask = at::arange(keys, lengths.options()) < lengths.unsqueeze(-1);
  return mask.view({lengths.size(0), 1, lengths.dim() == 1 ? 1 : lengths.size(1), keys});
}

}  // namespace

at::Tensor ManualLengthMaskedAttention(const at::Tensor& q, const at::Tensor& k,
                                       const at::Tensor& v, const at::Tensor& lengths) {
  const int64_t batch = q.size(0);
  const int64_t n = q.size(1);
  const int64_t q_heads = q.size(2);
  const int64_t d = q.size(3);
  const int64_t kv_heads = k.size(1);
  const int64_t group = q_heads / kv_heads;
  const int64_t keys = k.size(2);
  // [B, kv_heads, group * n, d], as in ManualCausalAttention.
  const auto qg = q.permute({0, 2, 1, 3}).reshape({batch, kv_heads, group * n, d});
  const auto scores =
      at::matmul(qg, k.transpose(2, 3)).to(at::kFloat) * (1.0 / std::sqrt(static_cast<double>(d)));
  // [B, 1, 1, 1 or n, S] against scores [B, kv_heads, group, n, S].
  const auto mask = KeyMask(lengths, keys).unsqueeze(1);
  // The lowest float rather than -inf, and the mask applied again after the
  // softmax: a query without keys gets zeros, not NaN (as the reference).
  const auto probs =
      at::softmax(scores.view({batch, kv_heads, group, n, keys})
                      .masked_fill(mask.logical_not(), std::numeric_limits<float>::lowest()),
                  -1) *
      mask;
  return at::matmul(probs.view({batch, kv_heads, group * n, keys}).to(v.scalar_type()), v)
      .view({batch, q_heads, n, d})
      .permute({0, 2, 1, 3})
      .reshape({batch, n, q_heads * d});
}

at::Tensor LengthMaskedAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                 const at::Tensor& lengths) {
#if TORCH_VERSION_MAJOR >= 2
  const int64_t batch = q.size(0);
  const int64_t n = q.size(1);
  const int64_t q_heads = q.size(2);
  const int64_t d = q.size(3);
  // No keys at all (cross-attention of text-only requests): not a case to
  // ask every SDPA kernel about.
  if (k.size(2) == 0) return at::zeros({batch, n, q_heads * d}, q.options());
  const int64_t group = q_heads / k.size(1);
  const auto expand = [&](const at::Tensor& t) { return t.repeat_interleave(group, 1); };
  const auto out = at::scaled_dot_product_attention(q.permute({0, 2, 1, 3}), expand(k), expand(v),
                                                    KeyMask(lengths, k.size(2)));
  // SDPA gives NaN where a query has no key at all; the reference gives zeros.
  const auto has_keys = (lengths > 0).view({batch, 1, lengths.dim() == 1 ? 1 : n, 1});
  return at::where(has_keys, out, at::zeros({}, out.options()))
      .permute({0, 2, 1, 3})
      .reshape({batch, n, q_heads * d});
#else
  return ManualLengthMaskedAttention(q, k, v, lengths);
#endif
}

}  // namespace auroraedge::model
