#include "auroraedge/model/grammar_cache.h"

namespace auroraedge::model::constrained {
namespace {

// The kind, each text with its length (so no two specs share a key), and
// the vocabulary's address: the cached grammar holds the vocabulary, so the
// address cannot be reused by another while the entry lives.
std::string KeyOf(const ConstraintSpec& spec, const TokenVocabulary* vocabulary) {
  std::string key = std::to_string(reinterpret_cast<uintptr_t>(vocabulary));
  const auto add = [&key](const std::string& text) {
    key += ':' + std::to_string(text.size()) + ':' + text;
  };
  if (spec.kind == ConstraintSpec::Kind::kChoice) {
    key += "/choice";
    for (const std::string& choice : spec.choices) add(choice);
  } else {
    key += "/json_schema";
    add(spec.json_schema);
  }
  return key;
}

}  // namespace

GrammarCache::GrammarCache(size_t capacity, GrammarLimits limits)
    : capacity_(capacity), limits_(limits) {}

std::shared_ptr<const Grammar> GrammarCache::Get(
    const ConstraintSpec& spec, const std::shared_ptr<const TokenVocabulary>& vocabulary) {
  const std::string key = KeyOf(spec, vocabulary.get());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto found = index_.find(key);
    if (found != index_.end()) {
      ++hits_;
      entries_.splice(entries_.begin(), entries_, found->second);
      return found->second->second;
    }
    ++misses_;
  }
  std::shared_ptr<const Grammar> grammar = Grammar::Compile(spec, vocabulary, limits_);
  std::lock_guard<std::mutex> lock(mutex_);
  if (index_.count(key) || capacity_ == 0) return grammar;
  entries_.emplace_front(key, grammar);
  index_[key] = entries_.begin();
  if (entries_.size() > capacity_) {
    index_.erase(entries_.back().first);
    entries_.pop_back();
  }
  return grammar;
}

int64_t GrammarCache::hits() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return hits_;
}

int64_t GrammarCache::misses() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return misses_;
}

size_t GrammarCache::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

}  // namespace auroraedge::model::constrained
