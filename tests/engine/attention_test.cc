// The attention fallbacks (the only paths on LibTorch 1.x) against a plain
// per-head, per-query computation; on LibTorch >= 2 the SDPA paths too. The
// padded batch of keys against its sequences' own caches; segment attention
// of mixed batches (prefill chunks and decode rows) against each alone.

#include "attention.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <vector>

#include "kv_cache.h"
#include "padded_kv.h"
#include "segment_attention.h"

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

TEST_CASE("per-query lengths: causal rows of padded entries equal each entry alone") {
  at::manual_seed(5);
  // Entry b's rows sit at positions past_b .. past_b + 2; its row i sees
  // past_b + i + 1 keys.
  const std::vector<int64_t> pasts{0, 4};
  const auto q = at::randn({2, 3, 6, 8});
  const auto k = at::randn({2, 2, 7, 8});
  const auto v = at::randn({2, 2, 7, 8});
  const auto lengths =
      at::tensor(pasts, at::kLong).unsqueeze(1) + at::arange(1, 4, at::kLong).unsqueeze(0);
  const auto manual = ManualLengthMaskedAttention(q, k, v, lengths);
  const auto dispatched = LengthMaskedAttention(q, k, v, lengths);
  for (int64_t b = 0; b < 2; ++b) {
    INFO("entry " << b);
    const auto keys = pasts[b] + 3;
    const auto expected = NaiveAttention(q[b], k[b].narrow(1, 0, keys).contiguous(),
                                         v[b].narrow(1, 0, keys).contiguous(), pasts[b]);
    CHECK((manual[b] - expected).abs().max().item<double>() < 1e-5);
    CHECK((dispatched[b] - expected).abs().max().item<double>() < 1e-5);
  }
}

TEST_CASE("a padded batch holds each cache's prefix, zeros after it, and the appended rows") {
  at::manual_seed(4);
  const std::vector<int64_t> pasts{3, 0, 5};
  const std::vector<int64_t> appended{1, 3, 2};
  std::vector<SequenceKvCache> caches;
  std::vector<at::Tensor> prefixes;
  for (const int64_t past : pasts) {
    caches.emplace_back(2, 2, 8, 4, at::TensorOptions());
    for (int layer = 0; layer < 2; ++layer) {
      caches.back().Write(layer, 0, at::randn({past, 2, 4}), at::randn({past, 2, 4}));
    }
  }
  for (size_t b = 0; b < pasts.size(); ++b) prefixes.push_back(caches[b].Prefix(pasts[b]));
  PaddedKv padded(prefixes, appended);
  CHECK(padded.lengths().equal(at::tensor(std::vector<int64_t>{4, 3, 7}, at::kLong)));
  const auto k_new = at::randn({6, 2, 4});  // entry 0's row, entry 1's three, entry 2's two
  const auto v_new = at::randn({6, 2, 4});
  padded.Append(1, k_new, v_new);
  REQUIRE(padded.Keys(1).sizes() == at::IntArrayRef({3, 2, 7, 4}));
  int64_t row = 0;
  for (int64_t b = 0; b < 3; ++b) {
    INFO("entry " << b);
    const int64_t past = pasts[b];
    const int64_t n = appended[b];
    const auto new_k = k_new.narrow(0, row, n).transpose(0, 1);
    const auto new_v = v_new.narrow(0, row, n).transpose(0, 1);
    row += n;
    CHECK(padded.Keys(0)[b].narrow(1, 0, past).equal(caches[b].Keys(0, past)));
    CHECK(padded.Values(1)[b].narrow(1, 0, past).equal(caches[b].Values(1, past)));
    CHECK(padded.Keys(1)[b].narrow(1, past, n).equal(new_k));
    CHECK(padded.Values(1)[b].narrow(1, past, n).equal(new_v));
    CHECK(padded.Keys(0)[b].narrow(1, past + n, 7 - past - n).eq(0).all().item<bool>());
    // Appended(b) is what a cache stores at positions past .. past+n-1.
    caches[b].Positions(past, n).copy_(padded.Appended(b));
    CHECK(caches[b].Keys(1, past + n).narrow(1, past, n).equal(new_k));
  }
}

TEST_CASE("segment attention of a mixed batch equals each segment alone, caches committed") {
  at::manual_seed(6);
  // Packed rows: a 3-row chunk after 2 cached, a decode row after 5, a
  // 4-row chunk from the start, a decode row after 0.
  const std::vector<int64_t> lengths{3, 1, 4, 1};
  const std::vector<int64_t> pasts{2, 5, 0, 0};
  constexpr int kLayers = 2;
  std::vector<SequenceKvCache> caches;
  std::vector<CacheSegment> segments;
  for (const int64_t past : pasts) {
    caches.emplace_back(kLayers, 2, 16, 8, at::TensorOptions());
    for (int layer = 0; layer < kLayers; ++layer) {
      caches.back().Write(layer, 0, at::randn({past, 2, 8}), at::randn({past, 2, 8}));
    }
  }
  int64_t offset = 0;
  for (size_t i = 0; i < lengths.size(); ++i) {
    segments.push_back({offset, lengths[i], pasts[i], &caches[i]});
    offset += lengths[i];
  }
  // The caches stay as they were until Commit: each segment alone reads
  // them and its own new rows.
  std::vector<at::Tensor> ks;  // per layer and segment: its keys after the step
  SegmentAttention attention(segments);
  for (int layer = 0; layer < kLayers; ++layer) {
    const auto q = at::randn({offset, 4, 8});
    const auto k = at::randn({offset, 2, 8});
    const auto v = at::randn({offset, 2, 8});
    const auto attended = attention.Attend(layer, q, k, v);
    REQUIRE(attended.sizes() == at::IntArrayRef({offset, 4 * 8}));
    for (const CacheSegment& s : segments) {
      INFO("layer " << layer << ", rows " << s.offset << " + " << s.length);
      const auto keys = at::cat(
          {s.cache->Keys(layer, s.past), k.narrow(0, s.offset, s.length).transpose(0, 1)}, 1);
      const auto values = at::cat(
          {s.cache->Values(layer, s.past), v.narrow(0, s.offset, s.length).transpose(0, 1)}, 1);
      const auto alone = NaiveAttention(q.narrow(0, s.offset, s.length), keys, values, s.past);
      CHECK((attended.narrow(0, s.offset, s.length) - alone).abs().max().item<double>() < 1e-5);
      ks.push_back(keys);
    }
  }
  attention.Commit();
  for (int layer = 0; layer < kLayers; ++layer) {
    for (size_t i = 0; i < segments.size(); ++i) {
      const CacheSegment& s = segments[i];
      INFO("layer " << layer << ", segment " << i);
      CHECK(s.cache->Keys(layer, s.past + s.length).equal(ks[layer * segments.size() + i]));
    }
  }
}

TEST_CASE("cross-attention of a mixed batch equals each segment alone, no keys gives zeros") {
  at::manual_seed(7);
  const std::vector<int64_t> lengths{1, 3, 2, 1};
  const std::vector<int64_t> cross_lengths{5, 0, 3, 2};
  std::vector<CacheSegment> segments;
  std::vector<at::Tensor> crosses;
  int64_t offset = 0;
  for (size_t i = 0; i < lengths.size(); ++i) {
    segments.push_back({offset, lengths[i], 0, nullptr});
    crosses.push_back(at::randn({1, 2, 4, cross_lengths[i], 8}));
    offset += lengths[i];
  }
  const auto q = at::randn({offset, 4, 8});
  const auto attended = SegmentCrossAttention(q, segments, crosses);
  for (size_t i = 0; i < segments.size(); ++i) {
    const CacheSegment& s = segments[i];
    INFO("segment " << i);
    const auto alone = NaiveAttention(q.narrow(0, s.offset, s.length), crosses[i][0][0],
                                      crosses[i][0][1], [&](int64_t) { return cross_lengths[i]; });
    CHECK((attended.narrow(0, s.offset, s.length) - alone).abs().max().item<double>() < 1e-5);
  }
}

}  // namespace
}  // namespace auroraedge::model
