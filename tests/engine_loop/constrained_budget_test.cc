// Constrained answers within a token budget, without a model: seeded random
// walks through the allowed tokens of ConstrainedSequence, on the demo's
// vocabulary and the real Qwen vocabulary, with the tightest budget the
// preparation accepts and looser ones. Every walk must finish, within its
// budget, with output that parses and validates (valijson).

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "constrained_sequence.h"
#include "constraint_compiler.h"
#include "test_support.h"
#include "vocabulary_checks.h"

namespace auroraedge::server {
namespace {

namespace constrained = model::constrained;

constexpr char kLongStringSchema[] =
    R"({"type":"object","properties":{"note":{"type":"string","maxLength":300}},)"
    R"("required":["note"]})";
constexpr char kArraySchema[] =
    R"({"type":"array","items":{"type":"integer","minimum":-50,"maximum":5000},)"
    R"("minItems":2,"maxItems":40})";

// One walk: tokens drawn uniformly from the allowed ones (eos, where
// allowed, one time in eight, so that walks run long); returns the output.
std::string Walk(const CompiledConstraint& compiled, int budget, std::mt19937& random,
                 const constrained::TokenVocabulary& vocabulary) {
  ConstrainedSequence sequence(compiled, budget);
  std::string text;
  int tokens = 0;
  while (!sequence.Finished()) {
    REQUIRE(tokens < budget);
    const std::vector<uint64_t>& words = sequence.AllowedTokens();
    std::vector<int32_t> allowed, eos;
    for (size_t w = 0; w < words.size(); ++w) {
      for (int b = 0; b < 64; ++b) {
        if (!(words[w] >> b & 1)) continue;
        const auto token = static_cast<int32_t>(w * 64 + b);
        (vocabulary.IsEos(token) ? eos : allowed).push_back(token);
      }
    }
    REQUIRE(!(allowed.empty() && eos.empty()));
    int32_t token;
    if (!eos.empty() && (allowed.empty() || random() % 8 == 0)) {
      token = eos[0];
    } else {
      token = allowed[random() % allowed.size()];
    }
    sequence.Advance(token);
    ++tokens;
    if (!vocabulary.IsEos(token)) text += vocabulary.Bytes(token);
  }
  return text;
}

void CheckWalks(const std::shared_ptr<const constrained::TokenVocabulary>& vocabulary,
                const std::string& schema, int walks) {
  ConstraintCompiler compiler(vocabulary, 4);
  constrained::ConstraintSpec spec;
  spec.kind = constrained::ConstraintSpec::Kind::kJsonSchema;
  spec.json_schema = schema;
  const CompiledConstraint compiled = compiler.Compile(spec);
  const int least = compiled.bounds->Bound(compiled.grammar->start_state());
  INFO("schema " << schema << "; shortest answer bound " << least << " tokens ("
                 << (compiled.bounds->exact() ? "exact" : "by bytes") << ")");
  REQUIRE(least >= 1);
  std::mt19937 random(7);
  for (int budget : {least, least + 1, least + 5, 4 * least + 20}) {
    for (int w = 0; w < walks; ++w) {
      INFO("budget " << budget << ", walk " << w);
      const std::string text = Walk(compiled, budget, random, *vocabulary);
      INFO(text);
      CHECK(constrained::testing::ValidationProblem(schema, text) == "");
    }
  }
  // Below the bound the sequence cannot be started: the preparation
  // refuses such a request.
  CHECK_THROWS_AS(ConstrainedSequence(compiled, least - 1), std::logic_error);
}

TEST_CASE("constrained answers finish within their budget (demo vocabulary)") {
  const auto vocabulary = constrained::testing::DemoVocabulary();
  CheckWalks(vocabulary, constrained::testing::DemoRecordSchema(), 20);
  CheckWalks(vocabulary, kLongStringSchema, 20);
  CheckWalks(vocabulary, kArraySchema, 20);
  CheckWalks(vocabulary, constrained::testing::kRichSchema, 10);
}

TEST_CASE("constrained answers finish within their budget (Qwen vocabulary)") {
  const auto vocabulary = constrained::testing::QwenVocabulary();
  CheckWalks(vocabulary, constrained::testing::DemoRecordSchema(), 10);
  CheckWalks(vocabulary, kLongStringSchema, 5);
  CheckWalks(vocabulary, kArraySchema, 10);
}

TEST_CASE("completion bounds are exact for small grammars, by bytes for wide ones") {
  const auto qwen = constrained::testing::QwenVocabulary();
  ConstraintCompiler compiler(qwen, 4);
  constrained::ConstraintSpec record;
  record.kind = constrained::ConstraintSpec::Kind::kJsonSchema;
  record.json_schema = constrained::testing::DemoRecordSchema();
  const CompiledConstraint compiled = compiler.Compile(record);
  CHECK(compiled.bounds->exact());
  // {"status":"OK","defect":"none","location":"none","holes":0}: far fewer
  // tokens than its 59 bytes.
  CHECK(compiled.bounds->Bound(compiled.grammar->start_state()) < 30);
  // The same spec again: the grammar and its bounds are shared.
  const CompiledConstraint again = compiler.Compile(record);
  CHECK(again.grammar == compiled.grammar);
  CHECK(again.bounds == compiled.bounds);
  CHECK(compiler.cache_hits() == 1);

  constrained::ConstraintSpec wide;
  wide.kind = constrained::ConstraintSpec::Kind::kJsonSchema;
  wide.json_schema = kLongStringSchema;
  const CompiledConstraint by_bytes = compiler.Compile(wide);
  CHECK_FALSE(by_bytes.bounds->exact());
  CHECK(by_bytes.bounds->Bound(by_bytes.grammar->start_state()) == 11);  // {"note":""}
}

}  // namespace
}  // namespace auroraedge::server
