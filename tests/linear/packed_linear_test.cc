// PackedLinear against at::linear: fp32 to rounding, int8 against an
// emulation of its own quantization (tight) and against fp32 within the
// stated quality tolerance, bf16 where the CPU has it, fused parts, bias,
// row counts past one row block, thread counts and bad input.

#include "auroraedge/model/packed_linear.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "packed_linear_tensor.h"

namespace auroraedge::model {
namespace {

// The int8 path's stated quality against fp32 on decoder-like data
// (weights N(0, 0.02), inputs N(0, 1)): cosine similarity of each output
// row and the largest error relative to the row's largest output.
constexpr double kInt8MinCosine = 0.9995;
constexpr double kInt8MaxRelativeError = 0.02;

at::Tensor Weight(int64_t out, int64_t in, int seed) {
  at::manual_seed(seed);
  return at::randn({out, in}) * 0.02;
}

at::Tensor Input(int64_t rows, int64_t in, int seed) {
  at::manual_seed(seed + 1000);
  return at::randn({rows, in});
}

// Largest |a - b| relative to the largest |b|, row by row.
double MaxRelativeError(const at::Tensor& a, const at::Tensor& b) {
  const auto error = (a.to(at::kDouble) - b.to(at::kDouble)).abs().amax(-1);
  const auto scale = b.to(at::kDouble).abs().amax(-1);
  return (error / scale).max().item<double>();
}

double MinCosine(const at::Tensor& a, const at::Tensor& b) {
  return at::cosine_similarity(a.to(at::kDouble), b.to(at::kDouble), -1).min().item<double>();
}

// What the int8 path computes, in double: weights rounded per output
// channel and inputs per row to [-127, 127] times their scale.
at::Tensor Int8Emulation(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  const auto quantize = [](const at::Tensor& t) {
    const auto scale = t.abs().amax(-1, /*keepdim=*/true) / 127.0;
    const auto inverse = at::where(scale > 0, 1.0 / scale, at::zeros_like(scale));
    return std::make_pair((t * inverse).round().to(at::kDouble), scale.to(at::kDouble));
  };
  const auto [qx, sx] = quantize(x);
  const auto [qw, sw] = quantize(w);
  auto y = at::mm(qx, qw.t()) * sx * sw.t();
  if (b.defined()) y = y + b.to(at::kDouble);
  return y;
}

std::set<std::string> CpuFlags() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    return {std::istream_iterator<std::string>(words), std::istream_iterator<std::string>()};
  }
  return {};
}

TEST_CASE("fp32 packed layers match at::linear for every row count, with and without bias") {
  const int64_t in = 96, out = 80;
  const auto w = Weight(out, in, 1);
  const auto b = at::randn({out});
  for (const bool with_bias : {false, true}) {
    const auto linear = PackLinear({w}, {with_bias ? b : at::Tensor()}, LinearWeights::kFloat32);
    CHECK(linear.implementation().rfind("ref", 0) != 0);
    CHECK(linear.packed_bytes() >= in * out * 4);
    for (const int64_t rows : {1, 2, 3, 8, 17, 128, 300, 513}) {
      INFO("rows " << rows << " bias " << with_bias);
      const auto x = Input(rows, in, int(rows));
      const auto expected = at::linear(x, w, with_bias ? b : at::Tensor());
      CHECK(at::allclose(Linear(linear, x), expected, 1e-5, 1e-5));
    }
  }
}

TEST_CASE("every row count from 1 to 300 is right, with at most 31 kernels built") {
  const auto w = Weight(24, 40, 8);
  const auto linear = PackLinear({w}, {}, LinearWeights::kFloat32);
  for (int64_t rows = 1; rows <= 300; ++rows) {
    INFO("rows " << rows);
    const auto x = Input(rows, 40, int(rows));
    REQUIRE(at::allclose(Linear(linear, x), at::linear(x, w), 1e-5, 1e-5));
  }
  // 1..16 rows exactly, then 32, 48, ... 256: one thread count here.
  CHECK(linear.kernel_count() == 31);
}

TEST_CASE("BuildKernels builds every kernel that Run will use, once") {
  const auto w = Weight(24, 40, 9);
  const auto linear = PackLinear({w}, {}, LinearWeights::kInt8);
  CHECK(linear.kernel_count() == 0);
  linear.BuildKernels();
  CHECK(linear.kernel_count() == 31);
  for (int64_t rows = 1; rows <= 300; ++rows) Linear(linear, Input(rows, 40, 1));
  CHECK(linear.kernel_count() == 31);
}

TEST_CASE("fused parts come out side by side, each with its own bias or none") {
  const int64_t in = 64;
  const auto q = Weight(64, in, 2), k = Weight(16, in, 3), v = Weight(16, in, 4);
  const auto qb = at::randn({64}), vb = at::randn({16});
  const auto linear = PackLinear({q, k, v}, {qb, at::Tensor(), vb}, LinearWeights::kFloat32);
  CHECK(linear.out_features() == 96);
  CHECK(linear.part_features() == std::vector<int64_t>{64, 16, 16});
  const auto x = Input(5, in, 5);
  const auto parts = SplitParts(linear, Linear(linear, x));
  REQUIRE(parts.size() == 3);
  CHECK(at::allclose(parts[0], at::linear(x, q, qb), 1e-5, 1e-5));
  CHECK(at::allclose(parts[1], at::linear(x, k), 1e-5, 1e-5));
  CHECK(at::allclose(parts[2], at::linear(x, v, vb), 1e-5, 1e-5));
}

TEST_CASE("the output is written in place into the caller's tensor, any leading shape") {
  const auto w = Weight(32, 48, 6);
  const auto linear = PackLinear({w}, {}, LinearWeights::kFloat32);
  const auto x = Input(6, 48, 7).view({2, 3, 48});
  auto y = at::full({2, 3, 32}, 7.0);
  const void* storage = y.data_ptr();
  LinearInto(linear, x, y);
  CHECK(y.data_ptr() == storage);
  CHECK(at::allclose(y, at::linear(x, w), 1e-5, 1e-5));
}

TEST_CASE("int8 computes exactly its per-channel and per-row quantization") {
  const int64_t in = 896, out = 160;
  const auto w = Weight(out, in, 8);
  const auto b = at::randn({out});
  const auto linear = PackLinear({w}, {b}, LinearWeights::kInt8);
  CHECK(linear.implementation().rfind("ref", 0) != 0);
  CHECK(linear.packed_bytes() < in * out * 2);  // a byte per weight (and compensation)
  for (const int64_t rows : {1, 4, 300}) {
    INFO("rows " << rows);
    const auto x = Input(rows, in, 9);
    const auto y = Linear(linear, x).to(at::kDouble);
    CHECK(MaxRelativeError(y, Int8Emulation(x, w, b)) < 1e-5);
  }
}

TEST_CASE("int8 stays within the stated tolerance of fp32 on decoder-shaped layers") {
  for (const auto& [out, in] : std::vector<std::pair<int64_t, int64_t>>{{1152, 896}, {896, 4864}}) {
    const auto w = Weight(out, in, 10);
    const auto linear = PackLinear({w}, {}, LinearWeights::kInt8);
    const auto x = Input(8, in, 11);
    const auto y = Linear(linear, x);
    const auto expected = at::linear(x, w);
    INFO("[" << out << ", " << in << "]");
    CHECK(MinCosine(y, expected) > kInt8MinCosine);
    CHECK(MaxRelativeError(y, expected) < kInt8MaxRelativeError);
  }
}

TEST_CASE("int8: a zero row gives the bias, a row with NaN or infinity gives NaN, others spared") {
  const auto w = Weight(24, 32, 12);
  const auto b = at::randn({24});
  const auto linear = PackLinear({w}, {b}, LinearWeights::kInt8);
  auto x = Input(5, 32, 13);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  x[0].zero_();
  x[1][5] = nan;
  x[2].fill_(nan);
  x[3][7] = std::numeric_limits<float>::infinity();
  const auto y = Linear(linear, x);
  CHECK(at::equal(y[0], b));
  for (const int row : {1, 2, 3}) {
    INFO("row " << row);
    CHECK(y[row].isnan().all().item<bool>());
  }
  CHECK(MaxRelativeError(y[4], at::linear(x[4], w, b)) < kInt8MaxRelativeError);
}

TEST_CASE("bf16 runs only where the CPU has native bf16 instructions") {
  const auto flags = CpuFlags();
  const bool native = flags.count("avx512_bf16") || flags.count("amx_bf16");
  const LinearCpuSupport support = DetectLinearCpuSupport();
  CHECK(!support.isa.empty());
  CHECK(support.native_bf16 == native);
  const auto w = Weight(40, 64, 14);
  if (support.native_bf16) {
    const auto linear = PackLinear({w}, {}, LinearWeights::kBFloat16);
    const auto x = Input(3, 64, 15);
    // fp32 arithmetic on the bf16-rounded operands.
    const auto expected =
        at::linear(x.to(at::kBFloat16).to(at::kFloat), w.to(at::kBFloat16).to(at::kFloat));
    CHECK(at::allclose(Linear(linear, x), expected, 1e-4, 1e-4));
  } else {
    CHECK_THROWS_WITH(PackLinear({w}, {}, LinearWeights::kBFloat16),
                      Catch::Contains("native bf16"));
  }
}

TEST_CASE("one and two intra-op threads give the same outputs") {
  const auto w = Weight(512, 256, 16);
  const auto x = Input(64, 256, 17);
  const int threads = at::get_num_threads();
  for (const LinearWeights kind : {LinearWeights::kFloat32, LinearWeights::kInt8}) {
    const auto linear = PackLinear({w}, {}, kind);
    at::set_num_threads(1);
    const auto one = Linear(linear, x);
    at::set_num_threads(2);
    const auto two = Linear(linear, x);
    CHECK(at::allclose(one, two, 1e-6, 1e-6));
  }
  at::set_num_threads(threads);
}

TEST_CASE("weight kinds are parsed by name, and a wrong name is refused naming the field") {
  CHECK(ParseLinearWeights("float32", "--weights") == LinearWeights::kFloat32);
  CHECK(ParseLinearWeights("int8", "--weights") == LinearWeights::kInt8);
  CHECK(ParseLinearWeights("bfloat16", "--weights") == LinearWeights::kBFloat16);
  CHECK(std::string(LinearWeightsName(LinearWeights::kInt8)) == "int8");
  CHECK_THROWS_WITH(ParseLinearWeights("int4", "--weights"),
                    Catch::Contains("--weights") && Catch::Contains("int4"));
}

TEST_CASE("inconsistent layers and tensors are refused with what was expected") {
  const auto w = Weight(8, 16, 18);
  CHECK_THROWS_AS(PackedLinear({}, 16, LinearWeights::kFloat32), std::invalid_argument);
  CHECK_THROWS_WITH(PackedLinear({{w.data_ptr<float>(), nullptr, 8}}, 0, LinearWeights::kFloat32),
                    Catch::Contains("in_features"));
  CHECK_THROWS_WITH(PackLinear({w, Weight(8, 12, 19)}, {}, LinearWeights::kFloat32),
                    Catch::Contains("part 1") && Catch::Contains("[out, 16]"));
  CHECK_THROWS_WITH(PackLinear({w}, {at::randn({7})}, LinearWeights::kFloat32),
                    Catch::Contains("part 0: bias"));
  const auto linear = PackLinear({w}, {}, LinearWeights::kFloat32);
  CHECK_THROWS_WITH(Linear(linear, at::randn({2, 15})),
                    Catch::Contains("last dimension must be 16"));
  CHECK_THROWS_WITH(Linear(linear, at::randn({16, 2}).t()), Catch::Contains("not contiguous"));
  CHECK_THROWS_WITH(Linear(linear, at::randn({2, 16}, at::kDouble)), Catch::Contains("float32"));
  auto wrong_rows = at::empty({3, 8});
  CHECK_THROWS_WITH(LinearInto(linear, at::randn({2, 16}), wrong_rows),
                    Catch::Contains("leading shape"));
  float x[16] = {}, y[8];
  CHECK_THROWS_WITH(linear.Run(x, 0, y), Catch::Contains("rows must be >= 1"));
}

}  // namespace
}  // namespace auroraedge::model
