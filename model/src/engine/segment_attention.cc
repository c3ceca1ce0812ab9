#include "segment_attention.h"

#include "attention.h"

namespace auroraedge::model {
namespace {

// Indices of the one-row segments, then of the longer ones; each list
// attends as one batch (a decode row padded to a prefill chunk's length
// would multiply its work).
std::vector<std::vector<size_t>> SplitByLength(const std::vector<CacheSegment>& segments) {
  std::vector<size_t> singles;
  std::vector<size_t> chunks;
  for (size_t i = 0; i < segments.size(); ++i) {
    (segments[i].length == 1 ? singles : chunks).push_back(i);
  }
  std::vector<std::vector<size_t>> split;
  for (auto* part : {&singles, &chunks}) {
    if (!part->empty()) split.push_back(std::move(*part));
  }
  return split;
}

}  // namespace

SegmentAttention::SegmentAttention(const std::vector<CacheSegment>& segments) {
  for (const std::vector<size_t>& part : SplitByLength(segments)) {
    std::vector<CacheSegment> members;
    std::vector<at::Tensor> prefixes;
    std::vector<int64_t> appended;
    for (size_t i : part) {
      const CacheSegment& s = segments[i];
      members.push_back(s);
      prefixes.push_back(s.cache->Prefix(s.past));
      appended.push_back(s.length);
    }
    const at::Device device = prefixes[0].device();
    batches_.push_back({members, PaddedRows(members, device), PaddedKv(prefixes, appended)});
  }
}

at::Tensor SegmentAttention::Attend(int layer, const at::Tensor& q, const at::Tensor& k,
                                    const at::Tensor& v) {
  const auto attend = [&](Batch& batch) {
    batch.padded.Append(layer, batch.rows.Real(k), batch.rows.Real(v));
    return LengthMaskedAttention(batch.rows.Gather(q), batch.padded.Keys(layer),
                                 batch.padded.Values(layer), batch.rows.causal_lengths());
  };
  // Decode rows only: they are the packed rows in order, nothing to scatter.
  if (batches_.size() == 1 && batches_[0].rows.IsWhole(q.size(0))) {
    return attend(batches_[0]).squeeze(1);
  }
  auto attended = at::empty({q.size(0), q.size(1) * q.size(2)}, q.options());
  for (Batch& batch : batches_) batch.rows.Scatter(attend(batch), attended);
  return attended;
}

void SegmentAttention::Commit() const {
  for (const Batch& batch : batches_) {
    for (size_t b = 0; b < batch.segments.size(); ++b) {
      const CacheSegment& s = batch.segments[b];
      s.cache->Positions(s.past, s.length).copy_(batch.padded.Appended(static_cast<int64_t>(b)));
    }
  }
}

at::Tensor SegmentCrossAttention(const at::Tensor& q, const std::vector<CacheSegment>& segments,
                                 const std::vector<at::Tensor>& crosses) {
  auto attended = at::empty({q.size(0), q.size(1) * q.size(2)}, q.options());
  for (const std::vector<size_t>& part : SplitByLength(segments)) {
    std::vector<CacheSegment> members;
    std::vector<at::Tensor> batch_crosses;
    for (size_t i : part) {
      members.push_back(segments[i]);
      batch_crosses.push_back(crosses[i]);
    }
    const PaddedRows rows(members, q.device());
    const PaddedKv padded(batch_crosses, {});
    rows.Scatter(
        LengthMaskedAttention(rows.Gather(q), padded.Keys(0), padded.Values(0), padded.lengths()),
        attended);
  }
  return attended;
}

}  // namespace auroraedge::model
