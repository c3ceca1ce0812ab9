#pragma once

// Compiled grammars by (constraint text, vocabulary), least recently used
// dropped first, so that a schema every request sends is compiled once and
// its masks, filled as requests walk it, are kept. Thread-safe.

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "auroraedge/model/constrained_grammar.h"

namespace auroraedge::model::constrained {

class GrammarCache {
 public:
  explicit GrammarCache(size_t capacity, GrammarLimits limits = {});

  // The cached grammar for this spec and vocabulary, compiled on a miss
  // (outside the lock; two threads missing together may both compile).
  // Throws ConstraintError; failures are not cached.
  std::shared_ptr<const Grammar> Get(const ConstraintSpec& spec,
                                     const std::shared_ptr<const TokenVocabulary>& vocabulary);

  int64_t hits() const;
  int64_t misses() const;
  size_t size() const;

 private:
  using Entry = std::pair<std::string, std::shared_ptr<const Grammar>>;

  const size_t capacity_;
  const GrammarLimits limits_;
  mutable std::mutex mutex_;
  std::list<Entry> entries_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  int64_t hits_ = 0;
  int64_t misses_ = 0;
};

}  // namespace auroraedge::model::constrained
