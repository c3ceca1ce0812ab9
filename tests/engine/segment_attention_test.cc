// The attention kernel over KV storage read in place, against attention
// computed row by row from gathered keys in float64.

#include <catch2/catch.hpp>
#include <vector>

#include "pch.h"
#include "segment_attention.h"

namespace auroraedge::model {
namespace {

// Row r's attention over its segments' keys, each query head against its
// group's key head, in float64.
at::Tensor Reference(const at::Tensor& q, const at::Tensor& keys, const at::Tensor& values,
                     const std::vector<int64_t>& segments) {
  const int64_t rows = q.size(0), q_heads = q.size(1), d = q.size(2);
  const int64_t group = q_heads / keys.size(1);
  auto out = at::zeros({rows, q_heads * d}, at::kDouble);
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<int64_t> index;
    for (int part = 0; part < 2; ++part) {
      for (int64_t j = 0; j < segments[4 * r + 2 * part + 1]; ++j)
        index.push_back(segments[4 * r + 2 * part] + j);
    }
    if (index.empty()) continue;
    const auto at_index = at::tensor(index, at::kLong);
    const auto k = keys.index_select(0, at_index).to(at::kDouble);  // [n, kv_heads, d]
    const auto v = values.index_select(0, at_index).to(at::kDouble);
    for (int64_t h = 0; h < q_heads; ++h) {
      const auto kh = k.select(1, h / group);
      const auto scores = at::mv(kh, q[r][h].to(at::kDouble)) / std::sqrt(double(d));
      out[r].narrow(0, h * d, d).copy_(at::mv(v.select(1, h / group).t(), at::softmax(scores, 0)));
    }
  }
  return out;
}

void CheckAgainstReference(at::ScalarType dtype, double tolerance) {
  at::manual_seed(3);
  const int64_t tokens = 64, kv_heads = 2, q_heads = 6, d = 16;
  const auto keys = at::randn({tokens, kv_heads, d}).to(dtype);
  const auto values = at::randn({tokens, kv_heads, d}).to(dtype);
  // A decode row over a long run, causal prefill rows of one chunk, a row
  // whose keys lie in two runs (a label after its prompt), one without keys.
  const std::vector<int64_t> segments{
      10, 40, 0, 0,  //
      50, 1, 0, 0,   //
      50, 2, 0, 0,   //
      50, 3, 0, 0,   //
      0, 7, 30, 3,   //
      5, 0, 0, 0};
  const int64_t rows = static_cast<int64_t>(segments.size()) / 4;
  const auto q = at::randn({rows, q_heads, d}).to(dtype);
  const auto out =
      AttendSegments(q, keys, values, at::tensor(segments, at::kLong).view({rows, 4}));
  REQUIRE(out.sizes() == at::IntArrayRef({rows, q_heads * d}));
  REQUIRE(out.scalar_type() == dtype);
  const auto expected = Reference(q, keys, values, segments);
  CHECK((out.to(at::kDouble) - expected).abs().max().item<double>() <= tolerance);
  CHECK(out[rows - 1].abs().max().item<double>() == 0.0);
}

TEST_CASE("segment attention equals row-by-row attention over gathered keys (float32)") {
  CheckAgainstReference(at::kFloat, 1e-5);
}

TEST_CASE("segment attention in bfloat16 stays within bfloat16 rounding") {
  CheckAgainstReference(at::kBFloat16, 3e-2);
}

TEST_CASE("segment attention reads the storage in place: a changed key changes only its rows") {
  at::manual_seed(5);
  auto keys = at::randn({20, 1, 8});
  const auto values = at::randn({20, 1, 8});
  const auto q = at::randn({2, 2, 8});
  const auto segments = at::tensor(std::vector<int64_t>{0, 5, 0, 0, 10, 5, 0, 0}).view({2, 4});
  const auto before = AttendSegments(q, keys, values, segments);
  keys[12].mul_(3);
  const auto after = AttendSegments(q, keys, values, segments);
  CHECK(at::equal(before[0], after[0]));
  CHECK_FALSE(at::allclose(before[1], after[1]));
}

TEST_CASE("segment attention refuses shapes it cannot serve, naming them") {
  const auto q = at::randn({1, 3, 8});
  const auto keys = at::randn({4, 2, 8});
  const auto segments = at::zeros({1, 4}, at::kLong);
  CHECK_THROWS_WITH(AttendSegments(q, keys, keys, segments),
                    Catch::Contains("multiple of kv_heads"));
  CHECK_THROWS_WITH(AttendSegments(at::randn({1, 2, 8}), keys, keys, at::zeros({1, 3}, at::kLong)),
                    Catch::Contains("segments int64 [R, 4]"));
}

}  // namespace
}  // namespace auroraedge::model
