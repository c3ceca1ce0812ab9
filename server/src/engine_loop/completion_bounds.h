#pragma once

// What a constrained answer needs to finish within its token budget: for
// every state of a compiled grammar, a bound on the tokens that still
// complete the output, and the allowed tokens that keep a completion
// within a budget. With them a constrained sequence never takes a token
// after which its max_new_tokens could not finish the structure, so every
// answer parses and validates, even one cut by its budget.
//
// Bound per state, computed once per grammar on a preparation worker:
// - exact: the fewest tokens to an accepting state, over the token graph
//   (every allowed token's successor state), when the grammar is small:
//   at most kExactStates states and kExactWork allowed tokens in all (the
//   demo's record schema over the Qwen vocabulary is 129 states of few
//   tokens each);
// - otherwise the fewest bytes to an accepting state, which single-byte
//   tokens (byte-level BPE has all 256) can always spell: an upper bound.
// Either way, from every state s that does not accept, some allowed token
// leads to a state whose bound is bound(s) - 1, so a sequence that starts
// with budget >= bound(start) can always finish.
//
// Threading: immutable apart from the cache of budget-filtered masks,
// which is guarded; share one per grammar. Holds a non-owning pointer to
// the grammar, which must outlive it (CompiledConstraint holds both).

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "auroraedge/model/constrained_grammar.h"

namespace auroraedge::server {

class CompletionBounds {
 public:
  static constexpr int32_t kExactStates = 4096;
  static constexpr int64_t kExactWork = int64_t{1} << 22;

  // Computes the bounds of every state, and the allowed-token masks of the
  // states a sequence is likely to reach (all of them when exact; otherwise
  // in order of distance from the start while it stays cheap), so that the
  // engine thread rarely computes one.
  explicit CompletionBounds(const model::constrained::Grammar& grammar);

  const model::constrained::Grammar& grammar() const { return *grammar_; }
  bool exact() const { return exact_; }
  // Tokens that complete the output from `state`, at most.
  int32_t Bound(int32_t state) const { return bound_[state]; }
  // True where the output is complete and nothing but end-of-sequence may
  // follow: the answer is over.
  bool Finished(int32_t state) const { return finished_[state]; }
  // The tokens allowed at `state` when `budget` tokens (this one included)
  // are left: those after which the rest can still complete, and the
  // end-of-sequence ids where the output is complete. Requires budget >=
  // Bound(state) and budget >= 1. The mask lives as long as this object.
  const model::constrained::TokenMask& Allowed(int32_t state, int32_t budget) const;

 private:
  // Fills bound_ and worst_next_ from every state's successors; false when
  // the grammar is too large for it (nothing changed then).
  bool ComputeExact();
  void ComputeByBytes();

  const model::constrained::Grammar* grammar_;
  bool exact_ = false;
  std::vector<int32_t> bound_;
  // The largest bound among a state's successors (exact), or among all
  // states (by bytes): budgets above it need no filtering.
  std::vector<int32_t> worst_next_;
  std::vector<bool> finished_;

  mutable std::mutex mutex_;
  mutable std::map<std::pair<int32_t, int32_t>, std::unique_ptr<model::constrained::TokenMask>>
      filtered_;  // by (state, bound limit); guarded by mutex_
};

}  // namespace auroraedge::server
