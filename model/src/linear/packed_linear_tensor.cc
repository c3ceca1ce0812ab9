#include "packed_linear_tensor.h"

#include <sstream>
#include <stdexcept>
#include <string>

namespace auroraedge::model {
namespace {

void Check(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

std::string Shape(const at::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

// Runs on every call: the messages are built only on failure, so that a
// call allocates nothing.
void CheckRows(const at::Tensor& t, const char* name, int64_t features) {
  if (!t.defined())
    throw std::invalid_argument(std::string("linear ") + name + ": undefined tensor");
  if (t.scalar_type() != at::kFloat || !t.device().is_cpu() || !t.is_contiguous() || t.dim() < 1)
    throw std::invalid_argument(std::string("linear ") + name +
                                ": expected a contiguous float32 CPU tensor, found " +
                                std::string(c10::toString(t.scalar_type())) + " on " +
                                t.device().str() + (t.is_contiguous() ? "" : " (not contiguous)"));
  if (t.size(-1) != features)
    throw std::invalid_argument(std::string("linear ") + name + ": last dimension must be " +
                                std::to_string(features) + ", found shape " + Shape(t));
}

}  // namespace

PackedLinear PackLinear(const std::vector<at::Tensor>& weights,
                        const std::vector<at::Tensor>& biases, LinearWeights kind) {
  Check(!weights.empty(), "PackLinear: no weights");
  Check(biases.empty() || biases.size() == weights.size(),
        "PackLinear: " + std::to_string(biases.size()) + " biases for " +
            std::to_string(weights.size()) + " weights");
  const int64_t in = weights[0].dim() == 2 ? weights[0].size(1) : -1;
  std::vector<at::Tensor> held;  // fp32 contiguous copies, alive while packing
  std::vector<LinearPart> parts;
  for (size_t i = 0; i < weights.size(); ++i) {
    const std::string part = "PackLinear part " + std::to_string(i);
    const at::Tensor& w = weights[i];
    Check(w.defined() && w.dim() == 2 && w.size(1) == in && w.device().is_cpu() &&
              at::isFloatingType(w.scalar_type()),
          part + ": weight must be a floating CPU tensor [out, " + std::to_string(in) +
              "], found " + (w.defined() ? Shape(w) : "undefined"));
    LinearPart p;
    p.out_features = w.size(0);
    held.push_back(w.to(at::kFloat).contiguous());
    p.weight = held.back().data_ptr<float>();
    if (!biases.empty() && biases[i].defined()) {
      const at::Tensor& b = biases[i];
      Check(b.dim() == 1 && b.size(0) == p.out_features && b.device().is_cpu() &&
                at::isFloatingType(b.scalar_type()),
            part + ": bias must be a floating CPU tensor [" + std::to_string(p.out_features) +
                "], found " + Shape(b));
      held.push_back(b.to(at::kFloat).contiguous());
      p.bias = held.back().data_ptr<float>();
    }
    parts.push_back(p);
  }
  return PackedLinear(parts, in, kind);
}

void LinearInto(const PackedLinear& linear, const at::Tensor& x, at::Tensor& y) {
  CheckRows(x, "input", linear.in_features());
  CheckRows(y, "output", linear.out_features());
  if (x.sizes().slice(0, x.dim() - 1) != y.sizes().slice(0, y.dim() - 1))
    throw std::invalid_argument("linear output: leading shape must match the input's " + Shape(x) +
                                ", found " + Shape(y));
  const int64_t rows = x.numel() / linear.in_features();
  if (rows == 0) return;
  linear.Run(x.data_ptr<float>(), rows, y.data_ptr<float>());
}

at::Tensor Linear(const PackedLinear& linear, const at::Tensor& x) {
  CheckRows(x, "input", linear.in_features());
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
  shape.back() = linear.out_features();
  at::Tensor y = at::empty(shape, x.options());
  LinearInto(linear, x, y);
  return y;
}

std::vector<at::Tensor> SplitParts(const PackedLinear& linear, const at::Tensor& y) {
  return y.split_with_sizes(linear.part_features(), -1);
}

}  // namespace auroraedge::model
