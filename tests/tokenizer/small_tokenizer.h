#pragma once

// The small tokenizer the build trains with model/python/train_bpe_tokenizer.py
// (1024 ids, Qwen2.5 layout and added tokens), shared by the unit tests.

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "auroraedge/model/tokenizer.h"

namespace auroraedge::model::testing {

inline const Tokenizer& SmallTokenizer() {
  static const Tokenizer tokenizer = Tokenizer::Load(AURORAEDGE_SMALL_TOKENIZER_JSON);
  return tokenizer;
}

// The file's JSON, for tests that load altered copies.
inline nlohmann::json SmallTokenizerJson() {
  std::ifstream file(AURORAEDGE_SMALL_TOKENIZER_JSON);
  return nlohmann::json::parse(file);
}

}  // namespace auroraedge::model::testing
