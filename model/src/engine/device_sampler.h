#pragma once

// Next-token choice for every sampled row of a step, as batched tensor
// operations on the device the logits are on: constrained rows' masks
// (tokens outside a row's mask get -inf), repetition penalty (from each
// seat's table of seen tokens), then argmax for greedy rows, or a draw at
// the row's temperature among all tokens or its top-k / top-p candidates,
// with the row's own random number (StepInputs). Only token ids (and asked-
// for log-probabilities) come back to the host.
//
// Semantics are those of the host reference (tests/sampling/
// reference_sampler.h): NaN logits never win; ties go to the lower id;
// candidates are ordered by logit, then id; the draw picks the first
// candidate whose running weight passes u times the kept weight. So the
// same seed gives the same tokens whatever else is in the batch.

#include <cstdint>
#include <vector>

#include "auroraedge/model/step_batch.h"
#include "pch.h"
#include "step_inputs.h"

namespace auroraedge::model {

struct SampledTokens {
  at::Tensor tokens;  // int64 [S] on the device
  std::vector<RowResult> rows;  // token (and log-probabilities) per sampled row
};

class DeviceSampler {
 public:
  DeviceSampler(int num_slots, int vocab_size, const at::Device& device);

  // Resets a seat's seen tokens to `prompt` (all tokens count when the
  // repetition penalty is on).
  void StartSequence(int slot, const std::vector<int32_t>& prompt);

  // logits float32 [S, vocab] of the sampled rows, in the order of
  // inputs.sampling. Changes nothing.
  SampledTokens Sample(const at::Tensor& logits, const SamplingInputs& inputs) const;

  // The step went through: the chosen tokens count as seen by their seats.
  void Commit(const SamplingInputs& inputs, const at::Tensor& tokens);

 private:
  at::Tensor Draw(const at::Tensor& logits, const SamplingInputs& inputs, bool filtered) const;

  int vocab_size_;
  at::Tensor seen_;  // bool [slots, vocab]
};

}  // namespace auroraedge::model
