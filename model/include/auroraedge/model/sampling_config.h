#pragma once

// How one sequence picks its next token, validated once when its request is
// prepared. The runner applies it on the device (device_sampler.h): the
// repetition penalty, then greedy (temperature 0) or a draw among the top-k
// / top-p candidates at the temperature, from the sequence's own seeded
// random stream.

#include <cstdint>

namespace auroraedge::model {

inline constexpr int kMaxTopLogprobs = 20;

struct SamplingConfig {
  float temperature = 0.0f;         // 0: greedy; otherwise in (0, 100]
  int top_k = 0;                    // 0: off; otherwise in [1, vocab size]
  float top_p = 1.0f;               // in (0, 1]; 1: off
  float repetition_penalty = 1.0f;  // in (0, 10]; 1: off
  uint64_t seed = 0;
  // -1: no log-probabilities; 0: the chosen token's; k in [1, 20]: also
  // the k most likely alternatives.
  int top_logprobs = -1;
};

// Throws std::invalid_argument naming the parameter, its value and its range,
// e.g. "top_p: 1.5 is out of range (0, 1]".
void ValidateSamplingConfig(const SamplingConfig& config, int vocab_size);

}  // namespace auroraedge::model
