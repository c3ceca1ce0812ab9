#include "segment_attention.h"

#include "attention.h"

namespace auroraedge::model {
namespace {

at::Tensor RowIndex(const std::vector<CacheSegment>& segments, const at::Device& device) {
  std::vector<int64_t> rows;
  for (const CacheSegment& s : segments) rows.push_back(s.offset);
  return at::tensor(rows, at::kLong).to(device);
}

}  // namespace

SegmentAttention::SegmentAttention(const std::vector<CacheSegment>& segments) {
  std::vector<at::Tensor> prefixes;
  for (const CacheSegment& s : segments) {
    if (s.length == 1) {
      singles_.push_back(s);
      prefixes.push_back(s.cache->Prefix(s.past));
    } else {
      chunks_.push_back(s);
    }
  }
  if (singles_.empty()) return;
  padded_.emplace(prefixes, /*append=*/true);
  single_rows_ = RowIndex(singles_, prefixes[0].device());
}

at::Tensor SegmentAttention::AttendSingles(int layer, const at::Tensor& q, const at::Tensor& k,
                                           const at::Tensor& v) {
  padded_->Append(layer, k, v);
  return LengthMaskedAttention(q.unsqueeze(1), padded_->Keys(layer), padded_->Values(layer),
                               padded_->lengths())
      .squeeze(1);
}

at::Tensor SegmentAttention::Attend(int layer, const at::Tensor& q, const at::Tensor& k,
                                    const at::Tensor& v) {
  const int64_t rows = q.size(0);
  // Only one-row segments: they are the rows in order, nothing to gather.
  if (static_cast<int64_t>(singles_.size()) == rows) return AttendSingles(layer, q, k, v);
  auto attended = at::empty({rows, q.size(1) * q.size(2)}, q.options());
  for (const CacheSegment& s : chunks_) {
    s.cache->Write(layer, s.past, k.narrow(0, s.offset, s.length), v.narrow(0, s.offset, s.length));
    const int64_t length = s.past + s.length;
    attended.narrow(0, s.offset, s.length)
        .copy_(CausalAttention(q.narrow(0, s.offset, s.length), s.cache->Keys(layer, length),
                               s.cache->Values(layer, length), s.past));
  }
  if (padded_) {
    const auto pick = [&](const at::Tensor& t) { return t.index_select(0, single_rows_); };
    attended.index_copy_(0, single_rows_, AttendSingles(layer, pick(q), pick(k), pick(v)));
  }
  return attended;
}

void SegmentAttention::Commit() const {
  for (size_t b = 0; b < singles_.size(); ++b) {
    singles_[b].cache->Position(singles_[b].past).copy_(padded_->Appended(static_cast<int64_t>(b)));
  }
}

at::Tensor SegmentCrossAttention(const at::Tensor& q, const std::vector<CacheSegment>& segments,
                                 const std::vector<at::Tensor>& crosses) {
  auto attended = at::empty({q.size(0), q.size(1) * q.size(2)}, q.options());
  const auto lengths_of = [&](std::vector<int64_t> lengths) {
    return at::tensor(lengths, at::kLong).to(q.device());
  };
  std::vector<CacheSegment> singles;
  std::vector<at::Tensor> single_crosses;
  for (size_t i = 0; i < segments.size(); ++i) {
    const CacheSegment& s = segments[i];
    const at::Tensor& cross = crosses[i];
    if (s.length == 1) {
      singles.push_back(s);
      single_crosses.push_back(cross);
      continue;
    }
    attended.narrow(0, s.offset, s.length)
        .copy_(LengthMaskedAttention(q.narrow(0, s.offset, s.length).unsqueeze(0),
                                     cross[0][0].unsqueeze(0), cross[0][1].unsqueeze(0),
                                     lengths_of({cross.size(3)}))
                   .squeeze(0));
  }
  if (!singles.empty()) {
    const PaddedKv padded(single_crosses, /*append=*/false);
    const auto rows = RowIndex(singles, q.device());
    attended.index_copy_(0, rows,
                         LengthMaskedAttention(q.index_select(0, rows).unsqueeze(1), padded.Keys(0),
                                               padded.Values(0), padded.lengths())
                             .squeeze(1));
  }
  return attended;
}

}  // namespace auroraedge::model
