#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "byte_nfa.h"

namespace auroraedge::model::constrained {

// A deterministic automaton over bytes, trimmed: every state it keeps can
// still reach an accepting state, and a transition that could not is dead
// (-1). Bytes that every edge treats alike share a class, so a state's row
// has one entry per class instead of 256.
struct ByteDfa {
  static constexpr int32_t kDead = -1;

  int num_classes = 0;
  std::array<uint16_t, 256> byte_class{};
  std::vector<int32_t> next;  // [state * num_classes + class]
  std::vector<bool> accepting;
  int32_t start = 0;

  int32_t num_states() const { return static_cast<int32_t>(accepting.size()); }
  int32_t Next(int32_t state, uint8_t byte) const {
    return next[static_cast<size_t>(state) * num_classes + byte_class[byte]];
  }
};

// Subset construction from `nfa` (entry `start`, accepting state `accept`),
// then trimming. Throws ConstraintError when more than max_states states are
// needed, or when no byte string is accepted at all (nothing can satisfy the
// constraint).
ByteDfa Determinize(const ByteNfa& nfa, int start, int accept, int max_states);

}  // namespace auroraedge::model::constrained
