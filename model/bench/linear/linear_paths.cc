#include "linear_paths.h"

#include "packed_linear_tensor.h"

namespace auroraedge::model::bench {
namespace {

// The decoder's call today: at::linear per weight, each output allocated.
class AtenLinear : public BenchLinear {
 public:
  AtenLinear(const RandomWeights& weights, at::ScalarType dtype, int64_t max_rows) {
    for (const auto& w : weights.parts) parts_.push_back(w.to(dtype).contiguous());
    for (const auto& b : weights.biases) biases_.push_back(b.to(dtype));
    x_ = at::randn({max_rows, parts_[0].size(1)}).to(dtype);
  }
  void Run(int64_t rows) override {
    const auto x = x_.narrow(0, 0, rows);
    for (size_t i = 0; i < parts_.size(); ++i)
      at::linear(x, parts_[i], biases_.empty() ? at::Tensor() : biases_[i]);
  }
  int64_t weight_bytes() const override {
    int64_t bytes = 0;
    for (const auto& w : parts_) bytes += w.numel() * w.element_size();
    return bytes;
  }
  std::string implementation() const override { return "at::linear"; }

 private:
  std::vector<at::Tensor> parts_, biases_;
  at::Tensor x_;
};

class PackedBenchLinear : public BenchLinear {
 public:
  PackedBenchLinear(const RandomWeights& weights, LinearWeights kind, int64_t max_rows)
      : linear_(PackLinear(weights.parts, weights.biases, kind)),
        x_(at::randn({max_rows, linear_.in_features()})),
        y_(at::empty({max_rows, linear_.out_features()})) {}
  void Run(int64_t rows) override {
    auto y = y_.narrow(0, 0, rows);
    LinearInto(linear_, x_.narrow(0, 0, rows), y);
  }
  int64_t weight_bytes() const override { return linear_.packed_bytes(); }
  std::string implementation() const override { return linear_.implementation(); }

 private:
  PackedLinear linear_;
  at::Tensor x_, y_;
};

}  // namespace

const char* PathName(Path path) {
  switch (path) {
    case Path::kAtenFloat32:
      return "aten_fp32";
    case Path::kAtenBFloat16:
      return "aten_bf16";
    case Path::kPackedFloat32:
      return "packed_fp32";
    case Path::kPackedInt8:
      return "packed_int8";
    case Path::kPackedBFloat16:
      return "packed_bf16";
  }
  return "unknown";
}

RandomWeights MakeRandomWeights(const LinearShape& shape) {
  RandomWeights weights;
  for (const int64_t out : shape.parts) {
    // Uniform rather than normal: as good for timing, and faster to draw
    // for the 2b's 0.9 GiB LM head.
    weights.parts.push_back((at::rand({out, shape.in_features}) - 0.5) * 0.05);
    if (shape.bias) weights.biases.push_back(at::rand({out}) - 0.5);
  }
  return weights;
}

std::unique_ptr<BenchLinear> MakeBenchLinear(Path path, const RandomWeights& weights,
                                             int64_t max_rows) {
  switch (path) {
    case Path::kAtenFloat32:
      return std::make_unique<AtenLinear>(weights, at::kFloat, max_rows);
    case Path::kAtenBFloat16:
      return std::make_unique<AtenLinear>(weights, at::kBFloat16, max_rows);
    case Path::kPackedFloat32:
      return std::make_unique<PackedBenchLinear>(weights, LinearWeights::kFloat32, max_rows);
    case Path::kPackedInt8:
      return std::make_unique<PackedBenchLinear>(weights, LinearWeights::kInt8, max_rows);
    case Path::kPackedBFloat16:
      return std::make_unique<PackedBenchLinear>(weights, LinearWeights::kBFloat16, max_rows);
  }
  return nullptr;
}

}  // namespace auroraedge::model::bench
