#include "padded_kv.h"

#include <algorithm>

namespace auroraedge::model {

PaddedKv::PaddedKv(const std::vector<at::Tensor>& prefixes, const std::vector<int64_t>& appended)
    : appended_(appended) {
  const at::Tensor& first = prefixes.at(0);
  const auto batch = static_cast<int64_t>(prefixes.size());
  appended_.resize(prefixes.size(), 0);
  std::vector<int64_t> lengths;
  std::vector<int64_t> row_entry;
  std::vector<int64_t> row_position;
  for (int64_t b = 0; b < batch; ++b) {
    past_.push_back(prefixes[b].size(3));
    lengths.push_back(past_[b] + appended_[b]);
    for (int64_t j = 0; j < appended_[b]; ++j) {
      row_entry.push_back(b);
      row_position.push_back(past_[b] + j);
    }
  }
  const int64_t longest = *std::max_element(lengths.begin(), lengths.end());
  storage_ =
      at::zeros({first.size(0), 2, batch, first.size(2), longest, first.size(4)}, first.options());
  for (int64_t b = 0; b < batch; ++b) {
    storage_.select(2, b).narrow(3, 0, past_[b]).copy_(prefixes[b]);
  }
  const auto to_device = [&](const std::vector<int64_t>& values) {
    return at::tensor(values, at::kLong).to(first.device());
  };
  row_entry_ = to_device(row_entry);
  row_position_ = to_device(row_position);
  lengths_ = to_device(lengths);
}

void PaddedKv::Append(int layer, const at::Tensor& k, const at::Tensor& v) {
  // Advanced indices on dims 0 and 2 around a full slice: the indexed
  // shape is [R, heads, head_dim], the new rows as they come.
  const c10::List<c10::optional<at::Tensor>> at_end{row_entry_, c10::nullopt, row_position_};
  storage_[layer][0].index_put_(at_end, k);
  storage_[layer][1].index_put_(at_end, v);
}

at::Tensor PaddedKv::Appended(int64_t b) const {
  return storage_.select(2, b).narrow(3, past_[b], appended_[b]);
}

}  // namespace auroraedge::model
