// libFuzzer target over the constraint compiler and a walk through what it
// compiled. Byte 0, bit 0: a choice list (else a JSON schema). The text runs
// to the first NUL byte (choices: one a line); each byte after it steers one
// step of a walk: it picks an allowed token by index, and where the output is
// complete an odd byte ends it. Only ConstraintError may leave Compile; an
// output that ends must be one of the choices, or JSON that parses and
// validates against the schema.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>
#include <vector>

#include "auroraedge/model/constrained_grammar.h"

namespace constrained = auroraedge::model::constrained;

namespace {

std::shared_ptr<const constrained::TokenVocabulary> Vocabulary() {
  static const auto vocabulary = [] {
    std::vector<std::string> tokens;
    for (int b = 0; b < 256; ++b) tokens.push_back(std::string(1, static_cast<char>(b)));
    for (const char* token : {"{\"", "\":\"", "\",\"", "\"}", "true", "null", "12", "-", "\\u00",
                              "\xC3\xA9", "\":", "],", "OK", "NG"}) {
      tokens.push_back(token);
    }
    const int32_t eos = static_cast<int32_t>(tokens.size());
    return constrained::TokenVocabulary::FromTokenBytes(tokens, {eos}, eos + 1);
  }();
  return vocabulary;
}

bool Validates(const std::string& schema_text, const std::string& output) {
  const auto document = nlohmann::json::parse(output, nullptr, false);
  if (document.is_discarded()) return false;
  const auto schema_document = nlohmann::json::parse(schema_text);
  valijson::Schema schema;
  try {
    valijson::SchemaParser parser;
    valijson::adapters::NlohmannJsonAdapter adapter(schema_document);
    parser.populateSchema(adapter, schema);
  } catch (const std::exception&) {
    return true;  // a schema valijson cannot read: parsing is all we can check
  }
  valijson::Validator validator;
  valijson::adapters::NlohmannJsonAdapter target(document);
  return validator.validate(schema, target, nullptr);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t end = input.find('\0');
  const std::string text = input.substr(0, end);
  const std::string steps = end == std::string::npos ? "" : input.substr(end + 1);
  constrained::ConstraintSpec spec;
  if (data[0] & 1) {
    spec.kind = constrained::ConstraintSpec::Kind::kChoice;
    for (size_t start = 0; start <= text.size();) {
      const size_t line_end = std::min(text.find('\n', start), text.size());
      spec.choices.push_back(text.substr(start, line_end - start));
      start = line_end + 1;
    }
  } else {
    spec.kind = constrained::ConstraintSpec::Kind::kJsonSchema;
    spec.json_schema = text;
  }
  std::shared_ptr<const constrained::Grammar> grammar;
  try {
    grammar = constrained::Grammar::Compile(spec, Vocabulary());
  } catch (const constrained::ConstraintError&) {
    return 0;
  }
  constrained::GrammarMatcher matcher(grammar);
  const int32_t eos = Vocabulary()->eos_token_ids().front();
  std::string output;
  for (unsigned char step : steps) {
    const constrained::TokenMask& mask = matcher.AllowedTokens();
    if (mask.Count() == 0 || mask.Allows(eos) != matcher.IsComplete()) __builtin_trap();
    if (matcher.IsComplete() && step % 2 == 1) {
      matcher.Advance(eos);
      break;
    }
    std::vector<int32_t> allowed;
    for (int32_t id = 0; id < mask.size(); ++id) {
      if (id != eos && mask.Allows(id)) allowed.push_back(id);
    }
    if (allowed.empty()) break;
    const int32_t token = allowed[step % allowed.size()];
    matcher.Advance(token);
    output += Vocabulary()->Bytes(token);
  }
  if (!matcher.IsFinished()) return 0;
  if (spec.kind == constrained::ConstraintSpec::Kind::kChoice) {
    if (std::find(spec.choices.begin(), spec.choices.end(), output) == spec.choices.end()) {
      __builtin_trap();
    }
  } else if (!Validates(spec.json_schema, output)) {
    __builtin_trap();
  }
  return 0;
}
