#include <bitset>
#include <set>
#include <string>
#include <utility>

#include "auroraedge/model/constrained_grammar.h"
#include "byte_dfa.h"
#include "byte_nfa.h"
#include "json_schema_nfa.h"

namespace auroraedge::model::constrained {

struct Grammar::Automaton {
  ByteDfa dfa;
};

namespace {

NfaFragment ChoiceNfa(const std::vector<std::string>& choices, ByteNfa& nfa,
                      const GrammarLimits& limits) {
  if (choices.empty()) throw ConstraintError("choices: empty; give at least one string");
  if (static_cast<int>(choices.size()) > limits.max_choices) {
    throw ConstraintError("choices: " + std::to_string(choices.size()) + " strings, more than " +
                          std::to_string(limits.max_choices));
  }
  std::set<std::string> seen;
  std::vector<NfaFragment> options;
  for (size_t i = 0; i < choices.size(); ++i) {
    const std::string where = "choices[" + std::to_string(i) + "]";
    if (choices[i].empty()) throw ConstraintError(where + ": empty");
    if (!seen.insert(choices[i]).second) {
      throw ConstraintError(where + ": \"" + choices[i] + "\" is given twice");
    }
    options.push_back(nfa.Literal(choices[i]));
  }
  return nfa.Choice(options);
}

}  // namespace

int32_t TokenMask::Count() const {
  int32_t count = 0;
  for (uint64_t word : words_) count += static_cast<int32_t>(std::bitset<64>(word).count());
  return count;
}

std::shared_ptr<const Grammar> Grammar::Compile(const ConstraintSpec& spec,
                                                std::shared_ptr<const TokenVocabulary> vocabulary,
                                                const GrammarLimits& limits) {
  ByteNfa nfa(limits.max_nfa_states);
  const NfaFragment language = spec.kind == ConstraintSpec::Kind::kChoice
                                   ? ChoiceNfa(spec.choices, nfa, limits)
                                   : JsonSchemaNfa(spec.json_schema, nfa, limits);
  auto automaton = std::make_unique<Automaton>();
  automaton->dfa = Determinize(nfa, language.start, language.end, limits.max_dfa_states);
  return std::shared_ptr<const Grammar>(new Grammar(std::move(vocabulary), std::move(automaton)));
}

Grammar::Grammar(std::shared_ptr<const TokenVocabulary> vocabulary,
                 std::unique_ptr<Automaton> automaton)
    : vocabulary_(std::move(vocabulary)),
      automaton_(std::move(automaton)),
      nothing_(vocabulary_->mask_size()),
      masks_(automaton_->dfa.num_states(), nullptr),
      mask_once_(new std::once_flag[automaton_->dfa.num_states()]) {}

Grammar::~Grammar() = default;

int32_t Grammar::start_state() const { return automaton_->dfa.start; }

int32_t Grammar::num_states() const { return automaton_->dfa.num_states(); }

bool Grammar::Accepts(int32_t state) const { return automaton_->dfa.accepting[state]; }

const TokenMask& Grammar::AllowedTokens(int32_t state) const {
  std::call_once(mask_once_[state], [&] {
    auto mask = std::make_unique<const TokenMask>(ComputeMask(state));
    uint64_t hash = 0;
    for (uint64_t word : mask->words()) hash = (hash ^ word) * 0x100000001B3u;
    std::lock_guard<std::mutex> lock(distinct_mutex_);
    const auto [first, last] = distinct_.equal_range(hash);
    for (auto it = first; it != last; ++it) {
      if (*it->second == *mask) {
        masks_[state] = it->second.get();
        return;
      }
    }
    masks_[state] = distinct_.emplace(hash, std::move(mask))->second.get();
  });
  return *masks_[state];
}

int32_t Grammar::num_distinct_masks() const {
  std::lock_guard<std::mutex> lock(distinct_mutex_);
  return static_cast<int32_t>(distinct_.size());
}

// Walks the vocabulary's trie in preorder, following each node's byte in
// the automaton from its parent's state; a dead transition skips the whole
// subtree, so the walk touches only the prefixes the grammar allows.
TokenMask Grammar::ComputeMask(int32_t state) const {
  const TokenVocabulary& vocabulary = *vocabulary_;
  const ByteDfa& dfa = automaton_->dfa;
  TokenMask mask(vocabulary.mask_size());
  if (dfa.accepting[state]) {
    for (int32_t eos : vocabulary.eos_token_ids()) mask.Set(eos);
  }
  std::vector<int32_t> state_at_depth(vocabulary.max_token_bytes() + 1);
  state_at_depth[0] = state;
  const std::vector<int32_t>& token_ids = vocabulary.trie_token_ids();
  for (int32_t node = 1; node < vocabulary.num_trie_nodes();) {
    const int depth = vocabulary.depth(node);
    const int32_t next = dfa.Next(state_at_depth[depth - 1], vocabulary.byte(node));
    if (next == ByteDfa::kDead) {
      node = vocabulary.subtree_end(node);
      continue;
    }
    state_at_depth[depth] = next;
    for (int32_t i = vocabulary.token_begin(node); i < vocabulary.token_begin(node + 1); ++i) {
      mask.Set(token_ids[i]);
    }
    ++node;
  }
  return mask;
}

int32_t Grammar::Next(int32_t state, int32_t token) const {
  if (vocabulary_->IsEos(token)) return Accepts(state) ? state : kRejected;
  const std::string& bytes = vocabulary_->Bytes(token);
  if (bytes.empty()) return kRejected;
  for (char byte : bytes) {
    state = automaton_->dfa.Next(state, static_cast<uint8_t>(byte));
    if (state == ByteDfa::kDead) return kRejected;
  }
  return state;
}

GrammarMatcher::GrammarMatcher(std::shared_ptr<const Grammar> grammar)
    : grammar_(std::move(grammar)), state_(grammar_->start_state()) {}

const TokenMask& GrammarMatcher::AllowedTokens() const {
  return finished_ ? grammar_->NothingAllowed() : grammar_->AllowedTokens(state_);
}

void GrammarMatcher::Advance(int32_t token) {
  const int32_t next = finished_ ? Grammar::kRejected : grammar_->Next(state_, token);
  if (next == Grammar::kRejected) {
    throw std::invalid_argument(
        "constrained decoding: token " + std::to_string(token) +
        (finished_ ? " after the end of the sequence" : " is not allowed by the grammar here"));
  }
  finished_ = grammar_->vocabulary().IsEos(token);
  state_ = next;
}

bool GrammarMatcher::IsComplete() const { return finished_ || grammar_->Accepts(state_); }

}  // namespace auroraedge::model::constrained
