#pragma once

// What a tokenizer.json says, checked against what this implementation
// supports. Parsing refuses every component it would not reproduce exactly.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "added_token_matcher.h"

namespace auroraedge::model {

struct TokenizerSpec {
  std::vector<std::pair<std::string, int32_t>> vocab;       // model.vocab
  std::vector<std::pair<std::string, std::string>> merges;  // in rank order
  std::vector<AddedToken> added_tokens;
  bool nfc = false;           // normalizer NFC (else none)
  std::string split_pattern;  // the Split pre-tokenizer's regex
  bool ignore_merges = false;
};

// Throws TokenizerLoadError naming `source` and the component.
TokenizerSpec ParseTokenizerSpec(std::string_view json_text, const std::string& source);

}  // namespace auroraedge::model
