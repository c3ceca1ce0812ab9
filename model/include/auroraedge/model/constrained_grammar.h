#pragma once

// Constrained decoding: a `choice` (one of several strings) or a JSON schema
// (the subset in model/src/constrained/README.md) compiled into a token-level
// automaton over the model's byte-level BPE vocabulary. At each step the
// grammar says which token ids may come next (a bitset of mask_size bits,
// the end-of-sequence ids set exactly where the output is complete), so
// every output that ends with an end-of-sequence token parses and
// validates. JSON is written compact: no whitespace anywhere outside
// strings, properties in the order the schema's `properties` lists them.
//
// Plain C++ (no LibTorch). A Grammar is immutable apart from its mask
// cache, which is filled lazily and safely from any thread; share one per
// (constraint, vocabulary) through a GrammarCache. A GrammarMatcher follows
// one sequence and belongs to one thread at a time.

#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "auroraedge/model/token_vocabulary.h"

namespace auroraedge::model::constrained {

// A constraint that is malformed, uses an unsupported feature, cannot be
// satisfied, or is too large. The message starts with where: a JSON path in
// the schema ("$.properties.holes.maximum: ...") or "choices[2]: ...", and
// names the keyword or the limit; a server answers INVALID_ARGUMENT.
class ConstraintError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct ConstraintSpec {
  enum class Kind { kChoice, kJsonSchema };
  Kind kind = Kind::kChoice;
  std::vector<std::string> choices;  // kChoice: the output is exactly one of them
  std::string json_schema;           // kJsonSchema: the schema's JSON text
};

// Bounds on what one constraint may cost; each refusal names its limit.
struct GrammarLimits {
  int max_nfa_states = 2'000'000;
  int max_dfa_states = 100'000;
  int max_repeat = 1024;       // largest minLength / maxLength / minItems / maxItems
  int max_depth = 32;          // nesting of schemas inside schemas
  int max_json_nesting = 128;  // nesting of arrays and objects in the schema's text
  int max_choices = 4096;
};

// A bitset of mask_size bits, 64 to a word, bit t of word t / 64 for token
// t; bits past mask_size are zero. Laid out for copying to a device as is.
class TokenMask {
 public:
  explicit TokenMask(int32_t size = 0) : size_(size), words_((size + 63) / 64, 0) {}
  void Set(int32_t token) { words_[token >> 6] |= uint64_t{1} << (token & 63); }
  bool Allows(int32_t token) const {
    return token >= 0 && token < size_ && (words_[token >> 6] >> (token & 63) & 1);
  }
  int32_t size() const { return size_; }
  int32_t Count() const;
  bool operator==(const TokenMask& other) const {
    return size_ == other.size_ && words_ == other.words_;
  }
  const std::vector<uint64_t>& words() const { return words_; }

 private:
  int32_t size_;
  std::vector<uint64_t> words_;
};

class Grammar {
 public:
  static constexpr int32_t kRejected = -1;

  // Compiles `spec` over `vocabulary`. Throws ConstraintError.
  static std::shared_ptr<const Grammar> Compile(const ConstraintSpec& spec,
                                                std::shared_ptr<const TokenVocabulary> vocabulary,
                                                const GrammarLimits& limits = {});
  ~Grammar();

  const TokenVocabulary& vocabulary() const { return *vocabulary_; }
  int32_t start_state() const;
  int32_t num_states() const;
  // True where the output so far is complete: end-of-sequence is allowed.
  bool Accepts(int32_t state) const;
  // The tokens allowed after `state`: those whose bytes keep the output on
  // a path to completion, and the end-of-sequence ids where Accepts().
  // Computed on first use per state by walking the vocabulary's trie along
  // the automaton, then cached for the grammar's life; states with equal
  // masks share one (inside a long string most positions allow the same
  // tokens), so the cache holds num_distinct_masks() masks of mask_size bits.
  const TokenMask& AllowedTokens(int32_t state) const;
  int32_t num_distinct_masks() const;
  // The state after `token`, or kRejected when AllowedTokens(state) does not
  // allow it. For an end-of-sequence id, the state itself (see Accepts).
  // Walks the token's bytes; does not need the mask.
  int32_t Next(int32_t state, int32_t token) const;
  // A mask that allows no token (after the end of the sequence).
  const TokenMask& NothingAllowed() const { return nothing_; }

 private:
  struct Automaton;
  Grammar(std::shared_ptr<const TokenVocabulary> vocabulary, std::unique_ptr<Automaton> automaton);
  TokenMask ComputeMask(int32_t state) const;

  std::shared_ptr<const TokenVocabulary> vocabulary_;
  std::unique_ptr<Automaton> automaton_;
  TokenMask nothing_;
  mutable std::vector<const TokenMask*> masks_;  // by state, set once
  mutable std::unique_ptr<std::once_flag[]> mask_once_;
  mutable std::mutex distinct_mutex_;
  mutable std::unordered_multimap<uint64_t, std::unique_ptr<const TokenMask>> distinct_;  // by hash
};

// One sequence's position in a grammar.
class GrammarMatcher {
 public:
  explicit GrammarMatcher(std::shared_ptr<const Grammar> grammar);

  // The tokens allowed next; after an end-of-sequence token, none.
  const TokenMask& AllowedTokens() const;
  // Takes the sampled token. Throws std::invalid_argument naming the token
  // when AllowedTokens() does not allow it; the matcher is then unchanged.
  void Advance(int32_t token);
  // The output so far is complete (end-of-sequence allowed, or taken).
  bool IsComplete() const;
  // An end-of-sequence token was taken.
  bool IsFinished() const { return finished_; }
  int32_t state() const { return state_; }
  const Grammar& grammar() const { return *grammar_; }

 private:
  std::shared_ptr<const Grammar> grammar_;
  int32_t state_;
  bool finished_ = false;
};

}  // namespace auroraedge::model::constrained
