// The attention fallback (the only path on LibTorch 1.x) against a plain
// per-head, per-query computation; on LibTorch >= 2 the SDPA path against
// the fallback.

#include "attention.h"

#include <catch2/catch.hpp>
#include <cmath>

namespace auroraedge::model {
namespace {

// out[i, h] = softmax_j<=past+i (q[i,h] . k[h/g, j] / sqrt(d)) v[h/g, j]
at::Tensor NaiveAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                          int64_t past) {
  const int64_t n = q.size(0), heads = q.size(1), d = q.size(2);
  const int64_t group = heads / k.size(0);
  auto out = at::zeros({n, heads, d}, q.options());
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t h = 0; h < heads; ++h) {
      const auto keys = k[h / group].narrow(0, 0, past + i + 1);
      const auto values = v[h / group].narrow(0, 0, past + i + 1);
      const auto weights = at::softmax(at::mv(keys, q[i][h]) / std::sqrt(double(d)), 0);
      out[i][h] = at::mv(values.t(), weights);
    }
  }
  return out.reshape({n, heads * d});
}

TEST_CASE("the manual causal GQA attention equals the per-head definition") {
  at::manual_seed(1);
  const int64_t past = GENERATE(0, 7);
  const int64_t n = GENERATE(1, 5);
  const auto q = at::randn({n, 6, 8});
  const auto k = at::randn({2, past + n, 8});
  const auto v = at::randn({2, past + n, 8});
  INFO("past " << past << ", rows " << n);
  const auto expected = NaiveAttention(q, k, v, past);
  CHECK((ManualCausalAttention(q, k, v, past) - expected).abs().max().item<double>() < 1e-5);
  // CausalAttention takes SDPA on LibTorch >= 2 and the fallback before.
  CHECK((CausalAttention(q, k, v, past) - expected).abs().max().item<double>() < 1e-5);
}

TEST_CASE("attention reads the cache through strided views") {
  at::manual_seed(2);
  const auto storage = at::randn({2, 32, 8});  // [kv_heads, capacity, d], as the cache holds it
  const auto q = at::randn({3, 4, 8});
  const auto k = storage.narrow(1, 0, 10);
  const auto v = storage.narrow(1, 0, 10) * 0.5;
  CHECK((ManualCausalAttention(q, k, v, 7) - NaiveAttention(q, k.contiguous(), v, 7))
            .abs()
            .max()
            .item<double>() < 1e-5);
}

}  // namespace
}  // namespace auroraedge::model
