#include "padded_rows.h"

#include <algorithm>

namespace auroraedge::model {

PaddedRows::PaddedRows(const std::vector<CacheSegment>& segments, const at::Device& device) {
  for (const CacheSegment& s : segments) width_ = std::max(width_, s.length);
  std::vector<int64_t> gather;
  std::vector<int64_t> real_rows;
  std::vector<int64_t> real_slots;
  std::vector<int64_t> causal_lengths;
  for (size_t b = 0; b < segments.size(); ++b) {
    const CacheSegment& s = segments[b];
    in_order_ = in_order_ && s.length == 1 && s.offset == static_cast<int64_t>(b);
    for (int64_t i = 0; i < width_; ++i) {
      const int64_t row = std::min(i, s.length - 1);
      gather.push_back(s.offset + row);
      causal_lengths.push_back(s.past + row + 1);
      if (i < s.length) {
        real_rows.push_back(s.offset + i);
        real_slots.push_back(static_cast<int64_t>(b) * width_ + i);
      }
    }
  }
  const auto to_device = [&](const std::vector<int64_t>& values) {
    return at::tensor(values, at::kLong).to(device);
  };
  gather_ = to_device(gather);
  real_rows_ = to_device(real_rows);
  real_slots_ = to_device(real_slots);
  causal_lengths_ = to_device(causal_lengths).view({static_cast<int64_t>(segments.size()), width_});
}

at::Tensor PaddedRows::Gather(const at::Tensor& packed) const {
  if (in_order_) return packed.narrow(0, 0, gather_.size(0)).unsqueeze(1);
  std::vector<int64_t> shape = packed.sizes().vec();
  shape[0] = width_;
  shape.insert(shape.begin(), gather_.size(0) / width_);
  return packed.index_select(0, gather_).view(shape);
}

at::Tensor PaddedRows::Real(const at::Tensor& packed) const {
  if (in_order_) return packed.narrow(0, 0, real_rows_.size(0));
  return packed.index_select(0, real_rows_);
}

void PaddedRows::Scatter(const at::Tensor& padded, at::Tensor& packed) const {
  const auto flat = padded.reshape({-1, padded.size(2)});
  packed.index_copy_(0, real_rows_, in_order_ ? flat : flat.index_select(0, real_slots_));
}

}  // namespace auroraedge::model
