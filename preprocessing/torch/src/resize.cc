#include "resize.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace auroraedge::preprocessing {
namespace {

at::Tensor OnDevice(const std::vector<int64_t>& values, const at::Tensor& like) {
  return at::tensor(values, at::TensorOptions().dtype(at::kLong)).to(like.device());
}

at::Tensor OnDevice(const std::vector<double>& values, const at::Tensor& like) {
  return at::tensor(values, at::TensorOptions().dtype(at::kDouble)).to(like.device());
}

// A [n] vector shaped to broadcast along `dim` of a 3-d tensor.
at::Tensor Along(const at::Tensor& vector, int64_t dim) {
  std::vector<int64_t> shape{1, 1, 1};
  shape[dim] = vector.size(0);
  return vector.view(shape);
}

// Area averaging along `dim` (source > target): each output is the mean of the
// source over [i * scale, (i + 1) * scale), partial pixels weighted by their
// share. Through the running sum, so the cost is one pass whatever the
// scale: the integral up to t is C[floor(t)] + frac(t) * x[floor(t)].
// 8-bit input is summed in integers (exact); the result is float64.
at::Tensor AreaAlong(const at::Tensor& x, int64_t dim, int64_t target) {
  const int64_t source = x.size(dim);
  const double scale = static_cast<double>(source) / target;
  std::vector<int64_t> whole(target + 1);
  std::vector<double> fraction(target + 1);
  for (int64_t k = 0; k <= target; ++k) {
    const double t = k == target ? source : k * scale;
    whole[k] = static_cast<int64_t>(std::floor(t));
    fraction[k] = t - whole[k];
  }
  const bool integral = !at::isFloatingType(x.scalar_type());
  const at::Tensor values = integral ? x.to(at::kInt) : x.to(at::kDouble);
  std::vector<int64_t> one = values.sizes().vec();
  one[dim] = 1;
  const at::Tensor zero = at::zeros(one, values.options());
  // running[k] = sum of x[0 .. k-1]; padded[k] = x[k], with x[source] = 0.
  const at::Tensor running = at::cat({zero, values.cumsum(dim, values.scalar_type())}, dim);
  const at::Tensor padded = at::cat({values, zero}, dim);

  const at::Tensor index = OnDevice(whole, x);
  const at::Tensor sums = running.index_select(dim, index);
  const at::Tensor partial =
      padded.index_select(dim, index).to(at::kDouble) * Along(OnDevice(fraction, x), dim);
  const at::Tensor whole_pixels =
      (sums.narrow(dim, 1, target) - sums.narrow(dim, 0, target)).to(at::kDouble);
  return (whole_pixels + partial.narrow(dim, 1, target) - partial.narrow(dim, 0, target)) / scale;
}

// Bilinear interpolation along `dim` (source < target), float64.
at::Tensor BilinearAlong(const at::Tensor& x, int64_t dim, int64_t target) {
  const int64_t source = x.size(dim);
  std::vector<int64_t> left(target), right(target);
  std::vector<double> fraction(target);
  for (int64_t i = 0; i < target; ++i) {
    const double position = (i + 0.5) * source / target - 0.5;
    int64_t l = static_cast<int64_t>(std::floor(position));
    double f = position - l;
    if (l < 0 || l >= source - 1) {  // clamped at the edges
      l = std::clamp<int64_t>(l, 0, source - 1);
      f = 0;
    }
    left[i] = l;
    right[i] = f > 0 ? l + 1 : l;
    fraction[i] = f;
  }
  const at::Tensor values = x.to(at::kDouble);
  const at::Tensor f = Along(OnDevice(fraction, x), dim);
  return values.index_select(dim, OnDevice(left, x)) * (1 - f) +
         values.index_select(dim, OnDevice(right, x)) * f;
}

at::Tensor Resample(const at::Tensor& x, int64_t dim, int64_t target) {
  const int64_t source = x.size(dim);
  if (target < source) return AreaAlong(x, dim, target);
  if (target > source) return BilinearAlong(x, dim, target);
  return x.to(at::kDouble);
}

// Rounds half to even, as OpenCV's saturate_cast does.
at::Tensor ToBytes(const at::Tensor& x) { return x.round().clamp(0, 255).to(at::kByte); }

}  // namespace

at::Tensor ResizeForNaflex(const at::Tensor& pixels, int64_t height, int64_t width) {
  const int64_t h = pixels.size(0), w = pixels.size(1);
  const bool grows = height > h || width > w;
  const bool shrinks = height < h || width < w;
  if (!grows && !shrinks) return pixels;
  if (!(grows && shrinks)) return ToBytes(Resample(Resample(pixels, 0, height), 1, width));
  if (height < h) return ToBytes(BilinearAlong(ToBytes(AreaAlong(pixels, 0, height)), 1, width));
  return ToBytes(BilinearAlong(ToBytes(AreaAlong(pixels, 1, width)), 0, height));
}

}  // namespace auroraedge::preprocessing
