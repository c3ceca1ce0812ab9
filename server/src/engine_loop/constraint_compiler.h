#pragma once

// Compiles the constraint of a Generate request (choice or json_schema) on
// a preparation worker: the grammar through a GrammarCache (a schema every
// request sends is compiled once, its masks kept), and its completion
// bounds, computed once per grammar and kept while the grammar is cached
// or in use.
//
// Threading: Compile is thread-safe.

#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "auroraedge/model/constrained_grammar.h"
#include "auroraedge/model/grammar_cache.h"
#include "completion_bounds.h"

namespace auroraedge::server {

// A compiled constraint; shared by the requests that send the same one.
struct CompiledConstraint {
  std::shared_ptr<const model::constrained::Grammar> grammar;
  std::shared_ptr<const CompletionBounds> bounds;  // over `grammar`
};

class ConstraintCompiler {
 public:
  // `capacity`: compiled grammars kept (least recently used dropped first).
  ConstraintCompiler(std::shared_ptr<const model::constrained::TokenVocabulary> vocabulary,
                     size_t capacity);

  // Throws model::constrained::ConstraintError naming the schema path or
  // choice and the keyword or limit.
  CompiledConstraint Compile(const model::constrained::ConstraintSpec& spec);

  const model::constrained::TokenVocabulary& vocabulary() const { return *vocabulary_; }
  int64_t cache_hits() const { return grammars_.hits(); }
  int64_t cache_misses() const { return grammars_.misses(); }

 private:
  using Grammar = model::constrained::Grammar;

  std::shared_ptr<const model::constrained::TokenVocabulary> vocabulary_;
  model::constrained::GrammarCache grammars_;
  std::mutex mutex_;
  // By grammar; an entry whose grammar is gone (dropped from the cache and
  // no request holds it) is pruned at the next insert.
  std::unordered_map<const Grammar*, std::pair<std::weak_ptr<const Grammar>,
                                               std::shared_ptr<const CompletionBounds>>>
      bounds_;  // guarded by mutex_
};

}  // namespace auroraedge::server
