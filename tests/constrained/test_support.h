#pragma once

// Shared by the constrained-decoding tests: vocabularies, an independent
// check of outputs (nlohmann-json parses, valijson validates), and seeded
// random walks through the allowed tokens.

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "auroraedge/model/constrained_grammar.h"
#include "auroraedge/model/token_vocabulary.h"
#include "auroraedge/model/tokenizer.h"

namespace auroraedge::model::constrained::testing {

// The demo model's tokenizer and eos ids (models/auroraedge-demo).
const Tokenizer& DemoTokenizer();
std::shared_ptr<const TokenVocabulary> DemoVocabulary();
// The real Qwen tokenizer the tokenizer tests fetch from npm
// ($AURORAEDGE_QWEN_TOKENIZER_JSON), eos <|im_end|> and <|endoftext|>, and
// a mask as wide as Qwen2.5's logits (151936).
const Tokenizer& QwenTokenizer();
std::shared_ptr<const TokenVocabulary> QwenVocabulary();
// All 256 single bytes (ids 0-255), then `extra` (ids 256...), then one eos.
std::shared_ptr<const TokenVocabulary> ByteVocabulary(const std::vector<std::string>& extra = {});

std::string DemoRecordSchema();  // model/python/demo/record.schema.json

std::shared_ptr<const Grammar> JsonSchemaGrammar(const std::string& schema,
                                                 std::shared_ptr<const TokenVocabulary> vocabulary);
std::shared_ptr<const Grammar> ChoiceGrammar(std::vector<std::string> choices,
                                             std::shared_ptr<const TokenVocabulary> vocabulary);

// Empty when `text` parses as JSON and validates against `schema`, else why not.
std::string ValidationProblem(const std::string& schema, const std::string& text);

// Every token id the mask allows.
std::vector<int32_t> AllowedIds(const TokenMask& mask);

// The bytes the tokens write, in order.
std::string Text(const TokenVocabulary& vocabulary, const std::vector<int32_t>& tokens);

struct Walk {
  std::vector<int32_t> tokens;  // ends with an eos id
  std::string text;             // the output, eos excluded
};

// From the start state: `random_steps` tokens drawn uniformly from the
// allowed ones (an eos, where allowed, with probability 1/4), then the
// shortest way to completion in single-byte tokens, then an eos. At every
// step checks (Catch REQUIREs) that some token is allowed, that eos is
// allowed exactly when the matcher is complete, and that Advance accepts
// the drawn token.
Walk RandomWalk(const std::shared_ptr<const Grammar>& grammar, std::mt19937& random,
                int random_steps);

// For a finite language: whether `text` is a prefix of one of `outputs`.
class PrefixOracle {
 public:
  explicit PrefixOracle(const std::vector<std::string>& outputs);
  bool IsPrefix(const std::string& text) const { return prefixes_.count(text) > 0; }
  bool IsOutput(const std::string& text) const { return outputs_.count(text) > 0; }

 private:
  std::unordered_set<std::string> prefixes_;
  std::unordered_set<std::string> outputs_;
};

// Checks every token of the mask at the matcher's position against the
// oracle: allowed exactly when the output so far plus its bytes is a prefix
// of an output, eos exactly when the output so far is one.
void RequireMaskMatchesOracle(const GrammarMatcher& matcher, const std::string& text,
                              const PrefixOracle& oracle);

}  // namespace auroraedge::model::constrained::testing
