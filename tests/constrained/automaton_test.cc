// The automaton's language, on a vocabulary of single bytes (plus a few
// longer tokens): what each part of the schema subset accepts and refuses.
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>

#include "test_support.h"

namespace auroraedge::model::constrained::testing {
namespace {

// Whether the grammar accepts `text` as a whole output, walked one byte
// token at a time (ids 0-255 of ByteVocabulary are the bytes).
bool Accepts(const Grammar& grammar, const std::string& text) {
  int32_t state = grammar.start_state();
  for (char byte : text) {
    state = grammar.Next(state, static_cast<uint8_t>(byte));
    if (state == Grammar::kRejected) return false;
  }
  return grammar.Accepts(state);
}

std::shared_ptr<const Grammar> Schema(const std::string& schema) {
  return JsonSchemaGrammar(schema, ByteVocabulary());
}

}  // namespace

TEST_CASE("a choice allows exactly its strings, token by token") {
  const auto grammar = ChoiceGrammar({"OK", "NG", "NOK"}, ByteVocabulary({"OK", "NO", "K", "NGX"}));
  const PrefixOracle oracle({"OK", "NG", "NOK"});
  for (const std::string output : {"OK", "NG", "NOK"}) {
    GrammarMatcher matcher(grammar);
    std::string text;
    for (char byte : output) {
      RequireMaskMatchesOracle(matcher, text, oracle);
      matcher.Advance(static_cast<uint8_t>(byte));
      text += byte;
    }
    RequireMaskMatchesOracle(matcher, text, oracle);
    CHECK(matcher.IsComplete());
  }
  CHECK_FALSE(Accepts(*grammar, "N"));
  CHECK_FALSE(Accepts(*grammar, "OKK"));
  CHECK_FALSE(Accepts(*grammar, ""));
}

TEST_CASE("integer bounds accept exactly the integers in range, as JSON writes them") {
  const std::pair<int64_t, int64_t> ranges[] = {{0, 5},     {-12, 7},   {7, 1234}, {-1000, -999},
                                                {99, 100},  {0, 0},     {-5, -5},  {10, 19},
                                                {101, 989}, {-90, 1009}};
  for (const auto& [low, high] : ranges) {
    INFO("[" << low << ", " << high << "]");
    const auto grammar = Schema(R"({"type":"integer","minimum":)" + std::to_string(low) +
                                R"(,"maximum":)" + std::to_string(high) + "}");
    for (int64_t n = low - 120; n <= high + 120; ++n) {
      INFO(n);
      REQUIRE(Accepts(*grammar, std::to_string(n)) == (n >= low && n <= high));
    }
  }
  const auto any = Schema(R"({"type":"integer"})");
  CHECK(Accepts(*any, std::to_string(std::numeric_limits<int64_t>::max())));
  CHECK(Accepts(*any, std::to_string(std::numeric_limits<int64_t>::min())));
  CHECK_FALSE(Accepts(*any, "9223372036854775808"));
  CHECK_FALSE(Accepts(*any, "-9223372036854775809"));
  for (const char* not_canonical : {"007", "-0", "+5", "1.0", "1e3", " 1", "1 ", "-", ""}) {
    INFO(not_canonical);
    CHECK_FALSE(Accepts(*any, not_canonical));
  }
  // Bounds beyond int64 on the open side only tighten to it.
  const auto wide = Schema(R"({"type":"integer","minimum":-1e30,"maximum":18446744073709551615})");
  CHECK(Accepts(*wide, std::to_string(std::numeric_limits<int64_t>::min())));
  CHECK(Accepts(*wide, std::to_string(std::numeric_limits<int64_t>::max())));
  const auto exclusive =
      Schema(R"({"type":"integer","exclusiveMinimum":2,"exclusiveMaximum":5.5})");
  CHECK_FALSE(Accepts(*exclusive, "2"));
  CHECK(Accepts(*exclusive, "3"));
  CHECK(Accepts(*exclusive, "5"));
  CHECK_FALSE(Accepts(*exclusive, "6"));
}

TEST_CASE("strings: lengths count characters, escapes count once, bad UTF-8 is refused") {
  const auto grammar = Schema(R"({"type":"string","minLength":2,"maxLength":3})");
  CHECK(Accepts(*grammar, R"("ab")"));
  CHECK(Accepts(*grammar, R"("abc")"));
  CHECK(Accepts(*grammar, "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\""));  // é € 😀: 9 bytes
  CHECK(Accepts(*grammar, R"("\n\u00e9\"")"));
  CHECK(Accepts(*grammar, R"("\\\/")"));
  CHECK(Accepts(*grammar, "\"a\x7F\""));
  CHECK_FALSE(Accepts(*grammar, R"("a")"));
  CHECK_FALSE(Accepts(*grammar, R"("abcd")"));
  CHECK_FALSE(Accepts(*grammar, "\"a\xC3\""));              // truncated sequence
  CHECK_FALSE(Accepts(*grammar, "\"a\xC0\xAF\""));          // overlong
  CHECK_FALSE(Accepts(*grammar, "\"a\xED\xA0\x80\""));      // a surrogate in UTF-8
  CHECK_FALSE(Accepts(*grammar, "\"a\xF4\x90\x80\x80\""));  // above U+10FFFF
  CHECK_FALSE(Accepts(*grammar, R"("a\ud800")"));           // a lone surrogate escape
  CHECK_FALSE(Accepts(*grammar, R"("a\x")"));
  CHECK_FALSE(Accepts(*grammar, "\"a\x01\""));  // controls must be escaped
  CHECK_FALSE(Accepts(*grammar, "\"a\"b\""));
  CHECK(Accepts(*Schema(R"({"type":"string"})"), "\"" + std::string(5000, 'x') + "\""));
}

TEST_CASE("objects: schema order, optional properties may be left out, no whitespace") {
  const auto grammar = Schema(R"({"type":"object","properties":{
      "a":{"type":"integer","minimum":0,"maximum":9},
      "b":{"type":"boolean"},
      "c":{"enum":["x",null,2]}},"required":["a"]})");
  for (const char* accepted : {R"({"a":1})", R"({"a":1,"b":true})", R"({"a":1,"c":"x"})",
                               R"({"a":1,"b":false,"c":null})", R"({"a":0,"c":2})"}) {
    INFO(accepted);
    CHECK(Accepts(*grammar, accepted));
  }
  for (const char* refused : {R"({"b":true,"a":1})", R"({ "a":1})", R"({"a":1,})", R"({})",
                              R"({"a":1,"a":2})", R"({"a":1,"d":1})", R"({"a": 1})"}) {
    INFO(refused);
    CHECK_FALSE(Accepts(*grammar, refused));
  }
  const auto optional = Schema(R"({"type":"object","properties":{"p":{"type":"null"},
      "q":{"type":"null"}}})");
  for (const char* accepted : {"{}", R"({"p":null})", R"({"q":null})", R"({"p":null,"q":null})"}) {
    INFO(accepted);
    CHECK(Accepts(*optional, accepted));
  }
  CHECK_FALSE(Accepts(*optional, R"({,"q":null})"));
  CHECK(Accepts(*Schema(R"({"type":"object"})"), "{}"));
  CHECK(Accepts(*Schema(R"({"type":"object","properties":{"a b\"":{"const":1}},
      "required":["a b\""]})"),
                R"({"a b\"":1})"));
}

TEST_CASE("anyOf: the output of any one alternative, never a mix of them") {
  const auto grammar = Schema(R"({"anyOf":[
      {"type":"object","properties":{"status":{"const":"OK"},"defect":{"const":"none"}},
       "required":["status","defect"]},
      {"type":"object","properties":{"status":{"const":"NG"},"defect":{"enum":["dent","burr"]}},
       "required":["status","defect"]},
      {"type":"integer","minimum":0,"maximum":3}]})");
  for (const char* accepted :
       {R"({"status":"OK","defect":"none"})", R"({"status":"NG","defect":"dent"})",
        R"({"status":"NG","defect":"burr"})", "0", "3"}) {
    INFO(accepted);
    CHECK(Accepts(*grammar, accepted));
  }
  for (const char* refused :
       {R"({"status":"OK","defect":"burr"})", R"({"status":"NG","defect":"none"})",
        R"({"status":"OK"})", "4", "null"}) {
    INFO(refused);
    CHECK_FALSE(Accepts(*grammar, refused));
  }
  // Alternatives that overlap allow their common outputs once.
  const auto overlapping = Schema(R"({"anyOf":[{"enum":["a","b"]},{"enum":["b","c"]}]})");
  for (const char* accepted : {R"("a")", R"("b")", R"("c")"})
    CHECK(Accepts(*overlapping, accepted));
  CHECK_FALSE(Accepts(*overlapping, R"("d")"));
  // Nested: an anyOf inside a property.
  const auto nested = Schema(R"({"type":"object","properties":{"v":{"anyOf":[{"type":"null"},
      {"type":"boolean"}]}},"required":["v"]})");
  for (const char* accepted : {R"({"v":null})", R"({"v":true})"}) CHECK(Accepts(*nested, accepted));
  CHECK_FALSE(Accepts(*nested, R"({"v":1})"));
}

TEST_CASE("arrays: items, minItems and maxItems") {
  const auto grammar = Schema(R"({"type":"array","items":{"enum":["x","y"]},
      "minItems":1,"maxItems":3})");
  CHECK(Accepts(*grammar, R"(["x"])"));
  CHECK(Accepts(*grammar, R"(["x","y","x"])"));
  CHECK_FALSE(Accepts(*grammar, "[]"));
  CHECK_FALSE(Accepts(*grammar, R"(["x","y","x","y"])"));
  CHECK_FALSE(Accepts(*grammar, R"(["z"])"));
  CHECK_FALSE(Accepts(*grammar, R"(["x",])"));
  const auto open = Schema(R"({"type":"array","items":{"type":"array","items":{"type":"boolean"},
      "maxItems":1}})");
  CHECK(Accepts(*open, "[]"));
  CHECK(Accepts(*open, "[[],[true],[false],[],[true]]"));
  CHECK_FALSE(Accepts(*open, "[[true,true]]"));
  CHECK(Accepts(*Schema(R"({"type":"array","items":{"type":"null"},"maxItems":0})"), "[]"));
}

TEST_CASE("the trie walk's mask equals walking each token's bytes, in every state") {
  const auto vocabulary = ByteVocabulary(
      {"{\"", "\":", "\",\"", "true", "12", "\"}", "abc", "\\u00", "}", "\"a\":{\"b\":[", "]}}"});
  const auto grammar = JsonSchemaGrammar(R"({"type":"object","properties":{
      "a":{"type":"object","properties":{"b":{"type":"array","items":{"type":"integer",
      "minimum":-3,"maximum":120}}}},"s":{"type":"string","maxLength":4}}})",
                                         vocabulary);
  REQUIRE(grammar->num_states() > 20);
  for (int32_t state = 0; state < grammar->num_states(); ++state) {
    const TokenMask& mask = grammar->AllowedTokens(state);
    for (int32_t token = 0; token < vocabulary->mask_size(); ++token) {
      INFO("state " << state << " token " << token);
      REQUIRE(mask.Allows(token) == (grammar->Next(state, token) != Grammar::kRejected));
    }
  }
}

TEST_CASE("states with equal masks share one") {
  const auto grammar = Schema(R"({"type":"string","maxLength":300})");
  for (int32_t state = 0; state < grammar->num_states(); ++state) grammar->AllowedTokens(state);
  REQUIRE(grammar->num_states() > 300);
  // Single-byte tokens: inside the string every position allows the same
  // bytes, except the last (no more characters) and the UTF-8 and escape
  // continuations.
  CHECK(grammar->num_distinct_masks() < 30);
  CHECK(&grammar->AllowedTokens(2) == &grammar->AllowedTokens(2));
  GrammarMatcher matcher(grammar);
  matcher.Advance('"');
  const TokenMask& first = matcher.AllowedTokens();
  matcher.Advance('a');
  CHECK(&matcher.AllowedTokens() == &first);
  CHECK(matcher.AllowedTokens().Allows('"'));
}

TEST_CASE("end-of-sequence is allowed exactly where the output is complete") {
  const auto vocabulary = ByteVocabulary();
  const int32_t eos = vocabulary->eos_token_ids().front();
  const auto grammar =
      JsonSchemaGrammar(R"({"type":"integer","minimum":1,"maximum":12})", vocabulary);
  GrammarMatcher matcher(grammar);
  CHECK_FALSE(matcher.AllowedTokens().Allows(eos));
  matcher.Advance('1');
  CHECK(matcher.IsComplete());
  CHECK(matcher.AllowedTokens().Allows(eos));
  CHECK(matcher.AllowedTokens().Allows('2'));
  CHECK_FALSE(matcher.AllowedTokens().Allows('3'));
  matcher.Advance('2');
  CHECK(AllowedIds(matcher.AllowedTokens()) == std::vector<int32_t>{eos});
  matcher.Advance(eos);
  CHECK(matcher.IsFinished());
  CHECK(matcher.AllowedTokens().Count() == 0);
  CHECK(matcher.AllowedTokens().size() == vocabulary->mask_size());
  CHECK_THROWS_WITH(matcher.Advance(eos), Catch::Contains("after the end of the sequence"));
}

TEST_CASE("Advance refuses a token the mask does not allow and keeps its place") {
  const auto grammar = ChoiceGrammar({"OK", "NG"}, ByteVocabulary({"OK"}));
  GrammarMatcher matcher(grammar);
  CHECK_THROWS_WITH(matcher.Advance('X'),
                    "constrained decoding: token 88 is not allowed by the grammar here");
  CHECK_THROWS(matcher.Advance(-1));
  CHECK_THROWS(matcher.Advance(1 << 20));
  CHECK(matcher.state() == grammar->start_state());
  matcher.Advance(256);  // "OK"
  CHECK(matcher.IsComplete());
}

}  // namespace auroraedge::model::constrained::testing
