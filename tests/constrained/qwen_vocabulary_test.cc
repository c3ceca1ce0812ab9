// Constrained decoding over the real Qwen vocabulary (151,643 tokens and
// the added ones, fetched from npm by the tokenizer tests' fixture).
#include <catch2/catch.hpp>

#include "vocabulary_checks.h"

namespace auroraedge::model::constrained::testing {

TEST_CASE("qwen vocabulary: every byte has a token and the trie holds every grammar token") {
  const auto vocabulary = QwenVocabulary();
  CHECK(vocabulary->mask_size() == 151936);
  CHECK(vocabulary->trie_token_ids().size() > 151000);
  CHECK(vocabulary->Bytes(QwenTokenizer().SpecialTokenId("<|im_start|>")).empty());
}

TEST_CASE("qwen vocabulary: record masks are exactly the prefixes of records") {
  CheckRecordMasksAgainstEveryRecord(QwenVocabulary(), 10);
}

TEST_CASE("qwen vocabulary: every record as the tokenizer spells it is allowed") {
  CheckTokenizedRecordsAreAllowed(QwenTokenizer(), QwenVocabulary());
}

TEST_CASE("qwen vocabulary: random walks through a rich schema parse and validate") {
  CheckRichSchemaWalks(QwenVocabulary(), 100, 60);
}

}  // namespace auroraedge::model::constrained::testing
