// Constrained decoding over the demo model's own 1,024-token vocabulary.
#include <catch2/catch.hpp>

#include "vocabulary_checks.h"

namespace auroraedge::model::constrained::testing {

TEST_CASE("demo vocabulary: record masks are exactly the prefixes of records") {
  CheckRecordMasksAgainstEveryRecord(DemoVocabulary(), 40);
}

TEST_CASE("demo vocabulary: every record as the tokenizer spells it is allowed") {
  CheckTokenizedRecordsAreAllowed(DemoTokenizer(), DemoVocabulary());
}

TEST_CASE("demo vocabulary: random walks through a rich schema parse and validate") {
  CheckRichSchemaWalks(DemoVocabulary(), 200, 60);
}

TEST_CASE("demo vocabulary: a choice of the task's labels") {
  const std::vector<std::string> labels = {"OK", "NG", "none", "scratch", "missing hole"};
  const auto grammar = ChoiceGrammar(labels, DemoVocabulary());
  const PrefixOracle oracle(labels);
  std::mt19937 random(3);
  for (int w = 0; w < 30; ++w) {
    const Walk walk = RandomWalk(grammar, random, 100);
    REQUIRE(oracle.IsOutput(walk.text));
    GrammarMatcher matcher(grammar);
    RequireMaskMatchesOracle(matcher, "", oracle);
  }
}

}  // namespace auroraedge::model::constrained::testing
