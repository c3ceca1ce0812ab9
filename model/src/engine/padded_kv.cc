#include "padded_kv.h"

#include <algorithm>

namespace auroraedge::model {

PaddedKv::PaddedKv(const std::vector<at::Tensor>& prefixes, bool append) {
  const at::Tensor& first = prefixes.at(0);
  const auto batch = static_cast<int64_t>(prefixes.size());
  int64_t longest = 0;
  for (const auto& prefix : prefixes) {
    past_.push_back(prefix.size(3));
    longest = std::max(longest, prefix.size(3));
  }
  const int64_t extra = append ? 1 : 0;
  storage_ = at::zeros({first.size(0), 2, batch, first.size(2), longest + extra, first.size(4)},
                       first.options());
  for (int64_t b = 0; b < batch; ++b) {
    storage_.select(2, b).narrow(3, 0, past_[b]).copy_(prefixes[b]);
  }
  const auto index_options = at::TensorOptions().dtype(at::kLong).device(first.device());
  batch_index_ = at::arange(batch, index_options);
  past_index_ = at::tensor(past_, at::kLong).to(first.device());
  lengths_ = past_index_ + extra;
}

void PaddedKv::Append(int layer, const at::Tensor& k, const at::Tensor& v) {
  // Advanced indices on dims 0 and 2 around a full slice: the indexed
  // shape is [B, heads, head_dim], the new rows as they come.
  const c10::List<c10::optional<at::Tensor>> at_end{batch_index_, c10::nullopt, past_index_};
  storage_[layer][0].index_put_(at_end, k);
  storage_[layer][1].index_put_(at_end, v);
}

at::Tensor PaddedKv::Appended(int64_t b) const { return storage_.select(2, b).select(3, past_[b]); }

}  // namespace auroraedge::model
