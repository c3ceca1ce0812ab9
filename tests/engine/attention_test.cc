// The attention fallbacks (the only paths on LibTorch 1.x) against a plain
// per-head, per-query computation; on LibTorch >= 2 the SDPA paths too. The
// padded batch of keys against its sequences' own caches.

#include "attention.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <vector>

#include "kv_cache.h"
#include "padded_kv.h"

namespace auroraedge::model {
namespace {

// out[i, h] = softmax_j<visible(i) (q[i,h] . k[h/g, j] / sqrt(d)) v[h/g, j],
// zeros where visible(i) is 0.
at::Tensor NaiveAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                          const std::function<int64_t(int64_t)>& visible) {
  const int64_t n = q.size(0), heads = q.size(1), d = q.size(2);
  const int64_t group = heads / k.size(0);
  auto out = at::zeros({n, heads, d}, q.options());
  for (int64_t i = 0; i < n; ++i) {
    if (visible(i) == 0) continue;
    for (int64_t h = 0; h < heads; ++h) {
      const auto keys = k[h / group].narrow(0, 0, visible(i));
      const auto values = v[h / group].narrow(0, 0, visible(i));
      const auto weights = at::softmax(at::mv(keys, q[i][h]) / std::sqrt(double(d)), 0);
      out[i][h] = at::mv(values.t(), weights);
    }
  }
  return out.reshape({n, heads * d});
}

at::Tensor NaiveAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                          int64_t past) {
  return NaiveAttention(q, k, v, [past](int64_t i) { return past + i + 1; });
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

TEST_CASE("length-masked attention over padded keys equals each entry alone, none gives zeros") {
  at::manual_seed(3);
  const int64_t n = GENERATE(1, 3);
  const std::vector<int64_t> lengths{6, 1, 0, 4};
  const auto batch = static_cast<int64_t>(lengths.size());
  const auto q = at::randn({batch, n, 6, 8});
  // Random, not zero, past each length: the mask alone must hide them.
  const auto k = at::randn({batch, 2, 6, 8});
  const auto v = at::randn({batch, 2, 6, 8});
  const auto length_tensor = at::tensor(lengths, at::kLong);
  const auto manual = ManualLengthMaskedAttention(q, k, v, length_tensor);
  const auto dispatched = LengthMaskedAttention(q, k, v, length_tensor);
  REQUIRE(manual.sizes() == at::IntArrayRef({batch, n, 6 * 8}));
  for (int64_t b = 0; b < batch; ++b) {
    INFO("rows " << n << ", entry " << b << " of length " << lengths[b]);
    const auto expected = NaiveAttention(q[b], k[b], v[b], [&](int64_t) { return lengths[b]; });
    CHECK((manual[b] - expected).abs().max().item<double>() < 1e-5);
    CHECK((dispatched[b] - expected).abs().max().item<double>() < 1e-5);
  }
}

TEST_CASE("a padded batch holds each cache's prefix, zeros after it, and the appended rows") {
  at::manual_seed(4);
  const std::vector<int64_t> pasts{3, 0, 5};
  std::vector<SequenceKvCache> caches;
  std::vector<at::Tensor> prefixes;
  for (const int64_t past : pasts) {
    caches.emplace_back(2, 2, 8, 4, at::TensorOptions());
    for (int layer = 0; layer < 2; ++layer) {
      caches.back().Write(layer, 0, at::randn({past, 2, 4}), at::randn({past, 2, 4}));
    }
  }
  for (size_t b = 0; b < pasts.size(); ++b) prefixes.push_back(caches[b].Prefix(pasts[b]));
  PaddedKv padded(prefixes, /*append=*/true);
  CHECK(padded.lengths().equal(at::tensor(std::vector<int64_t>{4, 1, 6}, at::kLong)));
  const auto k_new = at::randn({3, 2, 4});
  const auto v_new = at::randn({3, 2, 4});
  padded.Append(1, k_new, v_new);
  REQUIRE(padded.Keys(1).sizes() == at::IntArrayRef({3, 2, 6, 4}));
  for (int64_t b = 0; b < 3; ++b) {
    INFO("entry " << b);
    const int64_t past = pasts[b];
    CHECK(padded.Keys(0)[b].narrow(1, 0, past).equal(caches[b].Keys(0, past)));
    CHECK(padded.Values(1)[b].narrow(1, 0, past).equal(caches[b].Values(1, past)));
    CHECK(padded.Keys(1)[b].select(1, past).equal(k_new[b]));
    CHECK(padded.Values(1)[b].select(1, past).equal(v_new[b]));
    CHECK(padded.Keys(0)[b].narrow(1, past, 6 - past).eq(0).all().item<bool>());
    // Appended(b) is what a cache stores at position `past`.
    caches[b].Position(past).copy_(padded.Appended(b));
    CHECK(caches[b].Keys(1, past + 1).select(1, past).equal(k_new[b]));
  }
}

}  // namespace
}  // namespace auroraedge::model
