// Constrained decoding and log-probabilities in Generate on the small
// model (random weights: unconstrained, its answers are noise): a choice
// is always one of its strings, a JSON schema's answer always parses and
// validates, also when max_new_tokens cuts in; what the preparation
// refuses; and each token's log-probabilities.

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine_test_support.h"

using namespace auroraedge::server;
using namespace auroraedge::server::testing;

namespace {

const char* const kRecordSchema = R"({
  "type": "object",
  "properties": {
    "status": {"type": "string", "enum": ["OK", "NG"]},
    "defect": {"type": "string", "enum": ["none", "scratch", "dent", "missing hole"]},
    "holes": {"type": "integer", "minimum": 0, "maximum": 5},
    "note": {"type": "string", "maxLength": 24},
    "checked": {"type": "boolean"},
    "tags": {"type": "array", "items": {"enum": ["edge", "face"]}, "maxItems": 3}
  },
  "required": ["status", "defect", "holes"],
  "additionalProperties": false
})";

GenerationRequest Sampled(const std::string& id, int max_new_tokens, uint64_t seed) {
  GenerationRequest request =
      TextRequest(id, "Give the inspection record as JSON.", max_new_tokens);
  request.sampling.temperature = 1.0f;
  request.sampling.seed = seed;
  return request;
}

// Validates the record schema's rules by hand.
void CheckRecord(const std::string& text) {
  INFO(text);
  const nlohmann::json record = nlohmann::json::parse(text);  // throws when it does not parse
  REQUIRE(record.is_object());
  CHECK((record.at("status") == "OK" || record.at("status") == "NG"));
  CHECK(record.at("defect").is_string());
  CHECK(record.at("holes").is_number_integer());
  CHECK(record.at("holes").get<int>() >= 0);
  CHECK(record.at("holes").get<int>() <= 5);
  if (record.contains("note")) CHECK(record["note"].get<std::string>().size() <= 4 * 24);
  if (record.contains("tags")) CHECK(record["tags"].size() <= 3);
  for (const auto& [key, value] : record.items()) {
    CHECK((key == "status" || key == "defect" || key == "holes" || key == "note" ||
           key == "checked" || key == "tags"));
  }
}

void CheckInvalid(ServingFrontEnd& engine, GenerationRequest request, const std::string& start,
                  const std::string& contains = "") {
  const Status status = Refusal(engine, std::move(request));
  INFO(status.message);
  CHECK(status.code == StatusCode::kInvalidArgument);
  CHECK_THAT(status.message, Catch::StartsWith(start));
  CHECK_THAT(status.message, Catch::Contains(contains));
}

}  // namespace

TEST_CASE("Constrained: a choice answer is exactly one of the strings, sampled or greedy") {
  auto engine = ServingFrontEnd::Start(TestOptions(), nullptr);
  const std::vector<std::string> choices{"OK", "NG", "UNKNOWN", "needs a second look"};
  for (uint64_t seed = 0; seed < 12; ++seed) {
    GenerationRequest request = Sampled("c" + std::to_string(seed), 32, seed);
    request.sampling.choice = choices;
    if (seed == 0) request.sampling.temperature = 0.0f;
    const Outcome outcome = Run(*engine, request);
    REQUIRE(outcome.final);
    CHECK(outcome.final->reason == FinishReason::kStop);
    CHECK(std::find(choices.begin(), choices.end(), outcome.text) != choices.end());
  }
}

TEST_CASE("Constrained: a JSON schema's answer always parses and validates") {
  auto engine = ServingFrontEnd::Start(TestOptions(), nullptr);
  for (uint64_t seed = 0; seed < 16; ++seed) {
    GenerationRequest request = Sampled("j" + std::to_string(seed), 200, seed);
    request.sampling.json_schema = kRecordSchema;
    if (seed == 0) request.sampling.temperature = 0.0f;
    const Outcome outcome = Run(*engine, request);
    REQUIRE(outcome.final);
    CHECK(outcome.final->reason == FinishReason::kStop);
    CHECK(outcome.final->completion_tokens <= 200);
    CheckRecord(outcome.text);
  }
}

TEST_CASE("Constrained: an answer that max_new_tokens would cut is closed in time") {
  auto engine = ServingFrontEnd::Start(TestOptions(), nullptr);
  // Without a budget the random model writes long strings; with 20 tokens
  // the masks close the note early enough.
  const std::string schema =
      R"({"type":"object","properties":{"note":{"type":"string","maxLength":200}},)"
      R"("required":["note"]})";
  for (uint64_t seed = 0; seed < 10; ++seed) {
    GenerationRequest request = Sampled("b" + std::to_string(seed), 20, seed);
    request.sampling.json_schema = schema;
    const Outcome outcome = Run(*engine, request);
    REQUIRE(outcome.final);
    INFO(outcome.text);
    CHECK(outcome.final->reason == FinishReason::kStop);
    CHECK(outcome.final->completion_tokens <= 20);
    const nlohmann::json parsed = nlohmann::json::parse(outcome.text);
    CHECK(parsed.at("note").is_string());
  }
  // Fewer tokens than the shortest answer can take: refused.
  GenerationRequest request = Sampled("short", 3, 0);
  request.sampling.json_schema = schema;
  CheckInvalid(*engine, request,
               "sampling.max_new_tokens: 3 is too small for sampling.json_schema");
  // Unset, max_new_tokens is raised to what the shortest answer needs.
  request = Sampled("unset", 1, 0);
  request.sampling.max_new_tokens.reset();
  request.sampling.json_schema = kRecordSchema;
  const Outcome outcome = Run(*engine, request);
  REQUIRE(outcome.final);
  CheckRecord(outcome.text);
}

TEST_CASE("Constrained: bad constraints are refused with INVALID_ARGUMENT naming the field") {
  auto engine = ServingFrontEnd::Start(TestOptions(), nullptr);
  GenerationRequest request = Sampled("a", 40, 0);
  request.sampling.json_schema =
      R"({"type":"object","properties":{"serial":{"type":"string","format":"uuid"}}})";
  CheckInvalid(*engine, request, "sampling.json_schema: $.properties.serial", "\"format\"");
  request.sampling.json_schema =
      R"({"type":"object","properties":{"holes":{"type":"integer","minimum":5,"maximum":2}}})";
  CheckInvalid(*engine, request, "sampling.json_schema: $.properties.holes");
  request.sampling.json_schema = R"({"enum": []})";
  CheckInvalid(*engine, request, "sampling.json_schema");
  request.sampling.json_schema = R"({"anyOf":[{"type":"null"},{"type":"string","pattern":"x"}]})";
  CheckInvalid(*engine, request, "sampling.json_schema: $.anyOf[1].pattern", "\"pattern\"");
  request.sampling.json_schema = R"({"anyOf":[]})";
  CheckInvalid(*engine, request, "sampling.json_schema: $.anyOf", "non-empty");
  request.sampling.json_schema = "{not json";
  CheckInvalid(*engine, request, "sampling.json_schema");
  request.sampling.json_schema = R"({"type":"number"})";
  CheckInvalid(*engine, request, "sampling.json_schema", "number");
  request = Sampled("b", 40, 0);
  request.sampling.choice = {"OK", "NG", "OK"};
  CheckInvalid(*engine, request, "sampling.choice[2]");
  request.sampling.choice = {"OK", ""};
  CheckInvalid(*engine, request, "sampling.choice[1]: empty");
  request.sampling.choice = {"OK", "NG"};
  request.sampling.json_schema = R"({"type":"boolean"})";
  CheckInvalid(*engine, request, "sampling.choice: give either");
  request = Sampled("c", 40, 0);
  request.sampling.json_schema = R"({"type":"boolean"})";
  request.sampling.stop = {"}"};
  CheckInvalid(*engine, request, "sampling.stop");
  CHECK(engine->WaitIdle(std::chrono::seconds(1)));
  CHECK(engine->kv_tokens_reserved() == 0);
}

TEST_CASE("Log-probabilities: each token's, and the best alternatives, in order") {
  auto engine = ServingFrontEnd::Start(TestOptions(), nullptr);
  std::vector<TokenLogprobs> logprobs;
  std::vector<int32_t> ids;
  class Collect : public RecordingStream {
   public:
    Collect(std::vector<TokenLogprobs>& logprobs, std::vector<int32_t>& ids)
        : logprobs_(logprobs), ids_(ids) {}
    bool OnChunk(GenerationChunk chunk) override {
      logprobs_.insert(logprobs_.end(), chunk.logprobs.begin(), chunk.logprobs.end());
      ids_.insert(ids_.end(), chunk.token_ids.begin(), chunk.token_ids.end());
      return RecordingStream::OnChunk(std::move(chunk));
    }

   private:
    std::vector<TokenLogprobs>& logprobs_;
    std::vector<int32_t>& ids_;
  };
  auto collect = std::make_shared<Collect>(logprobs, ids);
  GenerationRequest request = TextRequest("lp", "Describe it.", 10);
  request.sampling.top_logprobs = 3;
  REQUIRE(engine->Submit(request, collect).ok());
  REQUIRE(collect->Wait().final);
  REQUIRE(logprobs.size() == ids.size());
  REQUIRE(ids.size() == 10);
  for (size_t i = 0; i < ids.size(); ++i) {
    INFO("token " << i);
    CHECK(logprobs[i].token == ids[i]);
    CHECK(logprobs[i].logprob <= 0);
    REQUIRE(logprobs[i].top.size() == 3);
    // Greedy: the chosen token is the most likely.
    CHECK(logprobs[i].top[0].token == ids[i]);
    CHECK(logprobs[i].top[0].logprob == Approx(logprobs[i].logprob));
    CHECK(logprobs[i].top[0].logprob >= logprobs[i].top[1].logprob);
    CHECK(logprobs[i].top[1].logprob >= logprobs[i].top[2].logprob);
  }
}
