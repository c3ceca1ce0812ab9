#pragma once

// One constrained answer as the engine thread follows it: where it stands
// in its grammar and how many tokens its budget (max_new_tokens) has left.
// The next token's mask keeps a completion within the budget
// (CompletionBounds), so the answer always ends complete: with an
// end-of-sequence token, where the grammar allows nothing else, or with
// its last budgeted token on a complete structure.
//
// Threading: one per request, used by one thread at a time.

#include <cstdint>
#include <vector>

#include "auroraedge/model/constrained_grammar.h"
#include "constraint_compiler.h"

namespace auroraedge::server {

class ConstrainedSequence {
 public:
  // Requires max_new_tokens >= the bound of the grammar's start state.
  ConstrainedSequence(CompiledConstraint constraint, int max_new_tokens);

  // The tokens the next one may be (StepRow::allowed_tokens); valid while
  // this object lives.
  const std::vector<uint64_t>& AllowedTokens() const;
  // Takes the sampled token. Throws std::invalid_argument naming the token
  // when the mask did not allow it (nothing changes then).
  void Advance(int32_t token);
  // The answer is over: end-of-sequence taken, nothing but it allowed, or
  // the budget spent (on a complete structure, by the masks' guarantee).
  bool Finished() const;

 private:
  CompiledConstraint constraint_;
  model::constrained::GrammarMatcher matcher_;
  int remaining_;
};

}  // namespace auroraedge::server
