#include "demosaic.h"

#include <ATen/ATen.h>

namespace auroraedge::preprocessing {
namespace {

using at::indexing::Slice;

// Rows (or columns) 1 .. n-2 whose parity equals `parity`, as a mask that
// broadcasts along the other axis.
at::Tensor ParityMask(int64_t n, int parity, int64_t dim, const at::TensorOptions& options) {
  const at::Tensor index = at::arange(1, n - 1, options.dtype(at::kLong));
  const at::Tensor mask = index.remainder(2).eq(parity);
  return dim == 0 ? mask.unsqueeze(1) : mask.unsqueeze(0);
}

// Repeats the outermost rows and columns of `inner` once more on each side.
at::Tensor RepeatEdges(const at::Tensor& inner) {
  const auto options = at::TensorOptions().dtype(at::kLong).device(inner.device());
  const at::Tensor rows = at::arange(-1, inner.size(0) + 1, options).clamp(0, inner.size(0) - 1);
  const at::Tensor cols = at::arange(-1, inner.size(1) + 1, options).clamp(0, inner.size(1) - 1);
  return inner.index_select(0, rows).index_select(1, cols);
}

}  // namespace

at::Tensor DemosaicBilinear(const at::Tensor& mosaic, BayerPhase phase) {
  // 16 bits hold a sum of four samples plus rounding.
  const at::Tensor b = mosaic.to(at::kShort);
  const int64_t h = b.size(0), w = b.size(1);
  const auto at = [&](int dy, int dx) {
    return b.index({Slice(1 + dy, h - 1 + dy), Slice(1 + dx, w - 1 + dx)});
  };
  const at::Tensor centre = at(0, 0);
  const auto average = [](const at::Tensor& sum, int count) {
    return at::div(sum + count / 2, count, "floor");
  };
  const at::Tensor horizontal = average(at(0, -1) + at(0, 1), 2);
  const at::Tensor vertical = average(at(-1, 0) + at(1, 0), 2);
  const at::Tensor cross = average(at(-1, 0) + at(1, 0) + at(0, -1) + at(0, 1), 4);
  const at::Tensor diagonal = average(at(-1, -1) + at(-1, 1) + at(1, -1) + at(1, 1), 4);

  const at::Tensor red_row = ParityMask(h, phase.red_row, 0, b.options());
  const at::Tensor red_column = ParityMask(w, phase.red_column, 1, b.options());
  const at::Tensor red_site = red_row & red_column;
  const at::Tensor blue_site = ~red_row & ~red_column;
  const at::Tensor green_in_red_row = red_row & ~red_column;
  const at::Tensor green_in_blue_row = ~red_row & red_column;

  const at::Tensor red = at::where(
      red_site, centre,
      at::where(green_in_red_row, horizontal, at::where(green_in_blue_row, vertical, diagonal)));
  const at::Tensor green = at::where(red_site | blue_site, cross, centre);
  const at::Tensor blue = at::where(
      blue_site, centre,
      at::where(green_in_blue_row, horizontal, at::where(green_in_red_row, vertical, diagonal)));
  return RepeatEdges(at::stack({red, green, blue}, 2).to(at::kByte));
}

}  // namespace auroraedge::preprocessing
