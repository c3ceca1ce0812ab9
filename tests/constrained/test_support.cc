#include "test_support.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <queue>
#include <sstream>
#include <stdexcept>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

namespace auroraedge::model::constrained::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot read " + path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string QwenPath() {
  const char* path = std::getenv("AURORAEDGE_QWEN_TOKENIZER_JSON");
  if (path == nullptr) throw std::runtime_error("AURORAEDGE_QWEN_TOKENIZER_JSON is not set");
  return path;
}

// Single-byte token ids by byte; every vocabulary here has all 256.
std::vector<int32_t> SingleByteTokens(const TokenVocabulary& vocabulary) {
  std::vector<int32_t> ids(256, -1);
  for (int32_t id = 0; id < vocabulary.mask_size(); ++id) {
    const std::string& bytes = vocabulary.Bytes(id);
    if (bytes.size() == 1 && ids[static_cast<uint8_t>(bytes[0])] < 0) {
      ids[static_cast<uint8_t>(bytes[0])] = id;
    }
  }
  return ids;
}

// The fewest single-byte tokens from `state` to an accepting state.
std::vector<int32_t> ShortestCompletion(const Grammar& grammar, int32_t state) {
  const std::vector<int32_t> bytes = SingleByteTokens(grammar.vocabulary());
  std::map<int32_t, std::pair<int32_t, int32_t>> parent;  // state -> (previous, token)
  std::queue<int32_t> queue;
  queue.push(state);
  parent[state] = {-1, -1};
  while (!queue.empty()) {
    const int32_t at = queue.front();
    queue.pop();
    if (grammar.Accepts(at)) {
      std::vector<int32_t> tokens;
      for (int32_t s = at; parent[s].first >= 0; s = parent[s].first) {
        tokens.insert(tokens.begin(), parent[s].second);
      }
      return tokens;
    }
    for (int32_t token : bytes) {
      const int32_t next = grammar.Next(at, token);
      if (next != Grammar::kRejected && !parent.count(next)) {
        parent[next] = {at, token};
        queue.push(next);
      }
    }
  }
  FAIL("no completion from state " << state);
  return {};
}

void Step(GrammarMatcher& matcher, int32_t token, Walk* walk) {
  const TokenMask& mask = matcher.AllowedTokens();
  REQUIRE(mask.Count() > 0);
  const int32_t eos = matcher.grammar().vocabulary().eos_token_ids().front();
  REQUIRE(mask.Allows(eos) == matcher.IsComplete());
  REQUIRE(mask.Allows(token));
  matcher.Advance(token);
  walk->tokens.push_back(token);
  if (!matcher.IsFinished()) walk->text += matcher.grammar().vocabulary().Bytes(token);
}

}  // namespace

const Tokenizer& DemoTokenizer() {
  static const Tokenizer tokenizer = Tokenizer::Load(AURORAEDGE_DEMO_TOKENIZER_JSON);
  return tokenizer;
}

std::shared_ptr<const TokenVocabulary> DemoVocabulary() {
  static const auto vocabulary =
      TokenVocabulary::FromTokenizer(DemoTokenizer(), {1012, 1010}, 1024);
  return vocabulary;
}

const Tokenizer& QwenTokenizer() {
  static const Tokenizer tokenizer = Tokenizer::Load(QwenPath());
  return tokenizer;
}

std::shared_ptr<const TokenVocabulary> QwenVocabulary() {
  static const auto vocabulary =
      TokenVocabulary::FromTokenizer(QwenTokenizer(),
                                     {QwenTokenizer().SpecialTokenId("<|im_end|>"),
                                      QwenTokenizer().SpecialTokenId("<|endoftext|>")},
                                     151936);
  return vocabulary;
}

std::shared_ptr<const TokenVocabulary> ByteVocabulary(const std::vector<std::string>& extra) {
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.push_back(std::string(1, static_cast<char>(b)));
  tokens.insert(tokens.end(), extra.begin(), extra.end());
  const int32_t eos = static_cast<int32_t>(tokens.size());
  return TokenVocabulary::FromTokenBytes(tokens, {eos}, eos + 1);
}

std::string DemoRecordSchema() { return ReadFile(AURORAEDGE_DEMO_RECORD_SCHEMA); }

std::shared_ptr<const Grammar> JsonSchemaGrammar(
    const std::string& schema, std::shared_ptr<const TokenVocabulary> vocabulary) {
  ConstraintSpec spec;
  spec.kind = ConstraintSpec::Kind::kJsonSchema;
  spec.json_schema = schema;
  return Grammar::Compile(spec, std::move(vocabulary));
}

std::shared_ptr<const Grammar> ChoiceGrammar(std::vector<std::string> choices,
                                             std::shared_ptr<const TokenVocabulary> vocabulary) {
  ConstraintSpec spec;
  spec.kind = ConstraintSpec::Kind::kChoice;
  spec.choices = std::move(choices);
  return Grammar::Compile(spec, std::move(vocabulary));
}

std::string ValidationProblem(const std::string& schema, const std::string& text) {
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return std::string("does not parse: ") + e.what();
  }
  const nlohmann::json schema_document = nlohmann::json::parse(schema);
  valijson::Schema parsed_schema;
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter schema_adapter(schema_document);
  parser.populateSchema(schema_adapter, parsed_schema);
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(document);
  if (validator.validate(parsed_schema, target, &results)) return "";
  std::string problem = "does not validate:";
  valijson::ValidationResults::Error error;
  while (results.popError(error)) problem += " " + error.description;
  return problem;
}

std::vector<int32_t> AllowedIds(const TokenMask& mask) {
  std::vector<int32_t> ids;
  for (int32_t id = 0; id < mask.size(); ++id) {
    if (mask.Allows(id)) ids.push_back(id);
  }
  return ids;
}

std::string Text(const TokenVocabulary& vocabulary, const std::vector<int32_t>& tokens) {
  std::string text;
  for (int32_t token : tokens) text += vocabulary.Bytes(token);
  return text;
}

Walk RandomWalk(const std::shared_ptr<const Grammar>& grammar, std::mt19937& random,
                int random_steps) {
  GrammarMatcher matcher(grammar);
  const int32_t eos = grammar->vocabulary().eos_token_ids().front();
  Walk walk;
  for (int step = 0; step < random_steps && !matcher.IsFinished(); ++step) {
    std::vector<int32_t> allowed = AllowedIds(matcher.AllowedTokens());
    REQUIRE(!allowed.empty());
    const bool end = matcher.IsComplete() && (allowed.size() == 1 || random() % 4 == 0);
    allowed.erase(std::remove(allowed.begin(), allowed.end(), eos), allowed.end());
    Step(matcher, end ? eos : allowed[random() % allowed.size()], &walk);
  }
  if (!matcher.IsFinished()) {
    for (int32_t token : ShortestCompletion(*grammar, matcher.state())) {
      Step(matcher, token, &walk);
    }
    Step(matcher, eos, &walk);
  }
  REQUIRE(matcher.AllowedTokens().Count() == 0);
  return walk;
}

PrefixOracle::PrefixOracle(const std::vector<std::string>& outputs)
    : outputs_(outputs.begin(), outputs.end()) {
  for (const std::string& output : outputs) {
    for (size_t length = 0; length <= output.size(); ++length) {
      prefixes_.insert(output.substr(0, length));
    }
  }
}

void RequireMaskMatchesOracle(const GrammarMatcher& matcher, const std::string& text,
                              const PrefixOracle& oracle) {
  const TokenVocabulary& vocabulary = matcher.grammar().vocabulary();
  const TokenMask& mask = matcher.AllowedTokens();
  for (int32_t id = 0; id < vocabulary.mask_size(); ++id) {
    const std::string& bytes = vocabulary.Bytes(id);
    const bool expected = vocabulary.IsEos(id) ? oracle.IsOutput(text)
                                               : !bytes.empty() && oracle.IsPrefix(text + bytes);
    if (mask.Allows(id) != expected) {
      FAIL("after \"" << text << "\" token " << id << " \"" << bytes << "\": mask "
                      << mask.Allows(id) << ", oracle " << expected);
    }
  }
}

}  // namespace auroraedge::model::constrained::testing
