#pragma once

// One sequence's random stream for sampling: one uniform number per sampled
// token, from an RNG seeded only by the sequence's own seed, so the same seed
// gives the same draws whatever else runs in the batch.

#include <cstdint>
#include <random>

namespace auroraedge::model {

class SequenceRandom {
 public:
  explicit SequenceRandom(uint64_t seed) : rng_(seed) {}

  // A uniform double in [0, 1) from 53 random bits: the same on every
  // standard library, unlike std::uniform_real_distribution.
  double Next() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

 private:
  std::mt19937_64 rng_;
};

}  // namespace auroraedge::model
