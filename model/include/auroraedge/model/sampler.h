#pragma once

// Picks the next token from one sequence's logits: repetition penalty,
// temperature, top-k, top-p, then a draw from the sequence's own seeded RNG,
// or argmax when the temperature is 0. Plain C++ on float logits.
//
// Reproducibility: a Sampler draws exactly one number per token from an RNG
// seeded only by its own seed, so the same seed and the same logits give the
// same tokens whatever else runs in the batch.
//
// Threading: one Sampler per sequence, used by one thread at a time.

#include <cstdint>
#include <random>
#include <unordered_set>
#include <vector>

namespace auroraedge::model {

struct SamplingConfig {
  float temperature = 0.0f;         // 0: greedy; otherwise in (0, 100]
  int top_k = 0;                    // 0: off; otherwise in [1, vocab size]
  float top_p = 1.0f;               // in (0, 1]; 1: off
  float repetition_penalty = 1.0f;  // in (0, 10]; 1: off
  uint64_t seed = 0;
};

// Throws std::invalid_argument naming the parameter, its value and its range,
// e.g. "top_p: 1.5 is out of range (0, 1]".
void ValidateSamplingConfig(const SamplingConfig& config, int vocab_size);

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
  int32_t Draw(const std::vector<float>& logits);

  SamplingConfig config_;
  int vocab_size_;
  std::mt19937_64 rng_;
  std::unordered_set<int32_t> seen_;
};

}  // namespace auroraedge::model
