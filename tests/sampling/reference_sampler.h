#pragma once

// The reference of the runner's device sampler (model/src/engine/
// device_sampler.h): one sequence's next token from its logits on the host,
// in plain C++ and double precision: repetition penalty, temperature, top-k,
// top-p, then a draw from the sequence's own seeded RNG, or argmax when the
// temperature is 0. The tests hold the device sampler to its tokens.
//
// Reproducibility: a Sampler draws exactly one number per token from an RNG
// seeded only by its own seed (SequenceRandom), so the same seed and the
// same logits give the same tokens whatever else runs in the batch.

#include <cstdint>
#include <unordered_set>
#include <vector>

#include "auroraedge/model/sampling_config.h"
#include "auroraedge/model/sequence_random.h"

namespace auroraedge::model::testing {

class Sampler {
 public:
  // `context`: the prompt's token ids, which the repetition penalty counts as
  // seen. Throws std::invalid_argument as ValidateSamplingConfig.
  Sampler(const SamplingConfig& config, int vocab_size, const std::vector<int32_t>& context);

  // Returns the next token and records it as seen. `logits` must hold
  // vocab_size floats (throws std::invalid_argument otherwise); they are
  // modified in place.
  int32_t Sample(std::vector<float>& logits);

 private:
  void ApplyRepetitionPenalty(std::vector<float>& logits) const;
  int32_t Draw(const std::vector<float>& logits, double u);

  SamplingConfig config_;
  int vocab_size_;
  SequenceRandom random_;
  std::unordered_set<int32_t> seen_;
};

}  // namespace auroraedge::model::testing
