#include "vocabulary_checks.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

namespace auroraedge::model::constrained::testing {

const char kRichSchema[] = R"({
  "type": "object",
  "properties": {
    "id": {"type": "string", "minLength": 1, "maxLength": 12},
    "status": {"enum": ["OK", "NG", "UNKNOWN"]},
    "score": {"type": "integer", "minimum": -40, "maximum": 1200},
    "note": {"type": "string"},
    "flags": {"type": "array", "items": {"enum": ["scratch", "dent", "burr"]}, "maxItems": 3},
    "part": {
      "type": "object",
      "properties": {
        "ok": {"type": "boolean"},
        "serial": {"type": "integer"},
        "spare": {"type": "null"}
      },
      "required": ["ok"]
    }
  },
  "required": ["status", "score", "part"]
})";

// Every record of the demo task: an OK part with defect and location
// "none", an NG part with a defect and a location (record.schema.json).
std::vector<std::string> AllDemoRecords() {
  const auto record = [](const char* status, const char* defect, const char* location, int holes) {
    return std::string(R"({"status":")") + status + R"(","defect":")" + defect +
           R"(","location":")" + location + R"(","holes":)" + std::to_string(holes) + "}";
  };
  std::vector<std::string> records;
  for (int holes = 0; holes <= 5; ++holes) {
    records.push_back(record("OK", "none", "none", holes));
    for (const char* defect : {"scratch", "dent", "crack", "missing hole", "burr"}) {
      for (const char* location :
           {"top-left", "top-right", "bottom-left", "bottom-right", "centre"}) {
        records.push_back(record("NG", defect, location, holes));
      }
    }
  }
  return records;
}

void CheckRecordMasksAgainstEveryRecord(const std::shared_ptr<const TokenVocabulary>& vocabulary,
                                        int walks) {
  const auto grammar = JsonSchemaGrammar(DemoRecordSchema(), vocabulary);
  const PrefixOracle oracle(AllDemoRecords());
  std::mt19937 random(7);
  for (int w = 0; w < walks; ++w) {
    const Walk walk = RandomWalk(grammar, random, 1000);
    INFO("walk " << w << ": " << walk.text);
    CHECK(oracle.IsOutput(walk.text));
    GrammarMatcher matcher(grammar);
    std::string text;
    for (int32_t token : walk.tokens) {
      RequireMaskMatchesOracle(matcher, text, oracle);
      matcher.Advance(token);
      if (!matcher.IsFinished()) text += vocabulary->Bytes(token);
    }
  }
}

void CheckTokenizedRecordsAreAllowed(const Tokenizer& tokenizer,
                                     const std::shared_ptr<const TokenVocabulary>& vocabulary) {
  const auto grammar = JsonSchemaGrammar(DemoRecordSchema(), vocabulary);
  for (const std::string& record : AllDemoRecords()) {
    INFO(record);
    GrammarMatcher matcher(grammar);
    for (int32_t token : tokenizer.Encode(record, false)) {
      REQUIRE(matcher.AllowedTokens().Allows(token));
      matcher.Advance(token);
    }
    REQUIRE(matcher.IsComplete());
    matcher.Advance(vocabulary->eos_token_ids().front());
  }
}

void CheckRichSchemaWalks(const std::shared_ptr<const TokenVocabulary>& vocabulary, int walks,
                          int random_steps) {
  const auto grammar = JsonSchemaGrammar(kRichSchema, vocabulary);
  std::mt19937 random(11);
  for (int w = 0; w < walks; ++w) {
    const Walk walk = RandomWalk(grammar, random, random_steps);
    INFO("walk " << w << ": " << walk.text);
    REQUIRE(ValidationProblem(kRichSchema, walk.text) == "");
    // Replayed: wherever the output so far is already a valid compact
    // document, the grammar must have let it end there.
    GrammarMatcher matcher(grammar);
    std::string text;
    for (int32_t token : walk.tokens) {
      const auto document = nlohmann::ordered_json::parse(text, nullptr, false);
      if (!document.is_discarded() && document.dump() == text &&
          ValidationProblem(kRichSchema, text).empty()) {
        INFO("prefix " << text);
        REQUIRE(matcher.IsComplete());
      }
      matcher.Advance(token);
      if (!matcher.IsFinished()) text += vocabulary->Bytes(token);
    }
  }
}

}  // namespace auroraedge::model::constrained::testing
