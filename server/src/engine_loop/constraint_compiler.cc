#include "constraint_compiler.h"

namespace auroraedge::server {

ConstraintCompiler::ConstraintCompiler(
    std::shared_ptr<const model::constrained::TokenVocabulary> vocabulary, size_t capacity)
    : vocabulary_(std::move(vocabulary)), grammars_(capacity) {}

CompiledConstraint ConstraintCompiler::Compile(const model::constrained::ConstraintSpec& spec) {
  CompiledConstraint compiled;
  compiled.grammar = grammars_.Get(spec, vocabulary_);
  const Grammar* key = compiled.grammar.get();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto found = bounds_.find(key);
    if (found != bounds_.end() && !found->second.first.expired()) {
      compiled.bounds = found->second.second;
      return compiled;
    }
  }
  // Outside the lock: two workers missing together both compute.
  compiled.bounds = std::make_shared<const CompletionBounds>(*compiled.grammar);
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = bounds_.begin(); it != bounds_.end();) {
    it = it->second.first.expired() ? bounds_.erase(it) : std::next(it);
  }
  bounds_[key] = {compiled.grammar, compiled.bounds};
  return compiled;
}

}  // namespace auroraedge::server
