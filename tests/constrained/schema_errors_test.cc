// Constraints refused at compile time: each message names where (a JSON
// path in the schema, or the choice's index) and what (the keyword, or why
// nothing can satisfy it).
#include <catch2/catch.hpp>
#include <string>

#include "test_support.h"

namespace auroraedge::model::constrained::testing {
namespace {

void RequireRefused(const std::string& schema, const std::string& message,
                    const GrammarLimits& limits = {}) {
  ConstraintSpec spec;
  spec.kind = ConstraintSpec::Kind::kJsonSchema;
  spec.json_schema = schema;
  REQUIRE_THROWS_AS(Grammar::Compile(spec, ByteVocabulary(), limits), ConstraintError);
  REQUIRE_THROWS_WITH(Grammar::Compile(spec, ByteVocabulary(), limits), message);
}

void RequireRefusedStartingWith(const std::string& schema, const std::string& start,
                                const std::string& part) {
  ConstraintSpec spec;
  spec.kind = ConstraintSpec::Kind::kJsonSchema;
  spec.json_schema = schema;
  REQUIRE_THROWS_WITH(Grammar::Compile(spec, ByteVocabulary()),
                      Catch::StartsWith(start) && Catch::Contains(part));
}

std::string Nested(int depth) {
  std::string schema = R"({"type":"null"})";
  for (int i = 0; i < depth; ++i) schema = R"({"type":"array","items":)" + schema + "}";
  return schema;
}

}  // namespace

TEST_CASE("unsupported keywords are refused naming the keyword and its path") {
  RequireRefused(R"({"type":"string","pattern":"^[A-Z]+$"})",
                 R"($.pattern: keyword "pattern" is not supported for type "string" )"
                 R"((supported: maxLength, minLength))");
  RequireRefused(
      R"({"type":"object","properties":{"serial":{"type":"string","format":"uuid"}}})",
      R"($.properties.serial.format: keyword "format" is not supported for type "string" )"
      R"((supported: maxLength, minLength))");
  RequireRefused(
      R"({"type":"object","properties":{"tags":{"type":"array","items":{"type":"number"}}}})",
      R"($.properties.tags.items.type: "number" is not supported (supported: )"
      R"("object", "array", "string", "integer", "boolean", "null"))");
  RequireRefused(R"({"type":"object","properties":{"a b":{"type":"boolean","minimum":1}}})",
                 R"($.properties["a b"].minimum: keyword "minimum" is not supported for type )"
                 R"("boolean" (it takes none))");
  RequireRefused(R"({"type":["string","null"]})",
                 R"($.type: ["string","null"] is not supported (supported: "object", "array", )"
                 R"("string", "integer", "boolean", "null"))");
  RequireRefused(
      R"({"oneOf":[{"type":"string"}]})",
      R"($: no "type", "enum", "const" or "anyOf": a schema for any JSON value is not supported)");
  RequireRefused(R"({"type":"object","properties":{"x":{}}})",
                 R"($.properties.x: no "type", "enum", "const" or "anyOf": a schema for any JSON )"
                 R"(value is not supported)");
  RequireRefused(R"({"type":"object","additionalProperties":{"type":"string"}})",
                 "$.additionalProperties: only true or false is supported (the output never has "
                 "other properties)");
  RequireRefused(R"({"type":"array","items":{"type":"null"},"uniqueItems":true})",
                 "$.uniqueItems: true is not supported");
  RequireRefused(R"({"type":"array"})", R"($: an array needs "items" (a schema for every item))");
  RequireRefused(
      R"({"enum":["a"],"maxLength":3})",
      R"($.maxLength: keyword "maxLength" is not supported together with enum or const)");
  RequireRefused(R"({"type":"integer","exclusiveMinimum":true})",
                 "$.exclusiveMinimum: must be a finite number, got true");
  RequireRefused(R"({"type":"string","maxLength":-1})",
                 "$.maxLength: must be a non-negative integer, got -1");
}

TEST_CASE("schemas that nothing can satisfy are refused") {
  RequireRefused(
      R"({"type":"object","properties":{"holes":{"type":"integer","minimum":6,"maximum":5}}})",
      "$.properties.holes: no integer lies between the lower bound 6 and the upper "
      "bound 5");
  RequireRefused(R"({"type":"integer","exclusiveMinimum":5,"exclusiveMaximum":6})",
                 "$: no integer lies between the lower bound 6 and the upper bound 5");
  const std::string range =
      " leaves no integer in the range this compiler writes "
      "(-9223372036854775808 to 9223372036854775807)";
  RequireRefused(R"({"type":"integer","minimum":1e19})", "$.minimum: 1e+19" + range);
  RequireRefused(R"({"type":"integer","minimum":9223372036854775808})",
                 "$.minimum: 9223372036854775808" + range);
  RequireRefused(R"({"type":"integer","exclusiveMinimum":9223372036854775807})",
                 "$.exclusiveMinimum: 9223372036854775807" + range);
  RequireRefused(R"({"type":"integer","maximum":-1e30})", "$.maximum: -1e+30" + range);
  RequireRefused(R"({"enum":[]})",
                 "$.enum: must be a non-empty array: an empty enum allows nothing");
  RequireRefused(R"({"anyOf":[]})", "$.anyOf: must be a non-empty array of schemas");
  RequireRefused(R"({"anyOf":{"type":"null"}})", "$.anyOf: must be a non-empty array of schemas");
  RequireRefused(R"({"type":"string","anyOf":[{"type":"null"}]})",
                 R"($.type: keyword "type" is not supported beside anyOf (put it in each )"
                 R"(alternative))");
  RequireRefused(R"({"anyOf":[{"type":"null"},{"type":"string","pattern":"x"}]})",
                 R"($.anyOf[1].pattern: keyword "pattern" is not supported for type "string" )"
                 R"((supported: maxLength, minLength))");
  RequireRefused(R"({"anyOf":[{"type":"null"},{"type":"integer","minimum":2,"maximum":1}]})",
                 "$.anyOf[1]: no integer lies between the lower bound 2 and the upper bound 1");
  RequireRefused(R"({"type":"object","properties":{"s":{"type":"string","enum":[1,true]}}})",
                 R"($.properties.s.enum: no value is of type "string": nothing can satisfy it)");
  RequireRefused(R"({"type":"integer","const":"1"})",
                 R"($.const: no value is of type "integer": nothing can satisfy it)");
  RequireRefused(R"({"type":"object","properties":{"a":{"type":"null"}},"required":["a","b"]})",
                 R"($.required[1]: "b" is not in properties: the output has only the listed )"
                 R"(properties, so nothing can satisfy it)");
  RequireRefused(R"({"type":"string","minLength":5,"maxLength":4})",
                 "$: minLength 5 is above maxLength 4: nothing can satisfy it");
  RequireRefused(R"({"type":"array","items":{"type":"null"},"minItems":3,"maxItems":2})",
                 "$: minItems 3 is above maxItems 2: nothing can satisfy it");
  RequireRefused(
      R"({"type":"array","items":{"type":"integer","minimum":1,"maximum":0},"minItems":1})",
      "$.items: no integer lies between the lower bound 1 and the upper bound 0");
}

TEST_CASE("schemas beyond the limits are refused naming the limit") {
  RequireRefused(R"({"type":"string","maxLength":100000})",
                 "$.maxLength: 100000 is over the limit of 1024");
  RequireRefused(R"({"type":"array","items":{"type":"null"},"minItems":5000})",
                 "$.minItems: 5000 is over the limit of 1024");
  RequireRefusedStartingWith(Nested(40), "$.items.items.items",
                             ": nested more than 32 schemas deep");
  const std::string deep_enum =
      R"({"enum":[)" + std::string(100000, '[') + std::string(100000, ']') + "]}";
  RequireRefused(deep_enum, "$: the schema nests JSON more than 128 levels deep");
  GrammarLimits small;
  small.max_dfa_states = 50;
  RequireRefused(R"({"type":"string","maxLength":100})",
                 "the constraint is too large: its automaton needs more than 50 deterministic "
                 "states",
                 small);
  small.max_nfa_states = 100;
  RequireRefused(R"({"type":"string","maxLength":100})",
                 "the constraint is too large: its automaton needs more than 100 states", small);
}

TEST_CASE("schema text that is not a JSON object is refused") {
  RequireRefusedStartingWith(R"({"type":)", "$: the schema is not valid JSON (", "parse error");
  RequireRefused("[1]", "$: a schema must be a JSON object, got [1]");
  RequireRefused("true", "$: a schema must be a JSON object, got true");
  RequireRefused(R"({"type":"object","properties":{"a":3}})",
                 "$.properties.a: a schema must be a JSON object, got 3");
}

TEST_CASE("choices that are empty, blank or repeated are refused") {
  const auto refused = [](std::vector<std::string> choices, const std::string& message) {
    REQUIRE_THROWS_WITH(ChoiceGrammar(std::move(choices), ByteVocabulary()), message);
  };
  refused({}, "choices: empty; give at least one string");
  refused({"OK", ""}, "choices[1]: empty");
  refused({"OK", "NG", "OK"}, "choices[2]: \"OK\" is given twice");
  ConstraintSpec spec;
  spec.choices.assign(5000, "x");
  REQUIRE_THROWS_WITH(Grammar::Compile(spec, ByteVocabulary()),
                      "choices: 5000 strings, more than 4096");
}

}  // namespace auroraedge::model::constrained::testing
