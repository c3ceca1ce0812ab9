// Continuous batching must not change what a request generates.

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "engine_test_support.h"

using namespace auroraedge::server;
using namespace auroraedge::server::testing;

namespace {

// Eight requests of different lengths, with and without images.
std::vector<GenerationRequest> MixedRequests() {
  std::vector<GenerationRequest> requests;
  const std::string filler = "The part on the conveyor has a scratch near the left hole. ";
  for (int i = 0; i < 8; ++i) {
    std::string prompt = "Request " + std::to_string(i) + ": ";
    for (int r = 0; r < i * 3; ++r) prompt += filler;
    const int max_new = 12 + 3 * i;
    requests.push_back(i % 3 == 1 ? ImageRequest("r" + std::to_string(i), prompt, max_new,
                                                 1 + i % 2, 48 + 16 * i, 64, i)
                                  : TextRequest("r" + std::to_string(i), prompt, max_new));
  }
  return requests;
}

std::vector<Outcome> RunTogether(ServingFrontEnd& engine, std::vector<GenerationRequest> requests) {
  std::vector<std::shared_ptr<RecordingStream>> streams;
  for (GenerationRequest& request : requests) {
    streams.push_back(std::make_shared<RecordingStream>());
    REQUIRE(engine.Submit(std::move(request), streams.back()).ok());
  }
  std::vector<Outcome> outcomes;
  for (const auto& stream : streams) outcomes.push_back(stream->Wait());
  return outcomes;
}

void CheckSameAnswers(const std::vector<Outcome>& alone, const std::vector<Outcome>& batched) {
  REQUIRE(alone.size() == batched.size());
  for (size_t i = 0; i < alone.size(); ++i) {
    INFO("request " << i);
    REQUIRE(alone[i].final);
    REQUIRE(batched[i].final);
    CHECK(batched[i].ends == 1);
    CHECK_FALSE(alone[i].tokens.empty());
    CHECK(batched[i].tokens == alone[i].tokens);
    CHECK(batched[i].text == alone[i].text);
    CHECK(batched[i].final->reason == alone[i].final->reason);
    CHECK(batched[i].final->completion_tokens == alone[i].final->completion_tokens);
  }
}

}  // namespace

TEST_CASE("Engine loop: greedy output alone equals the output inside a batch of 8") {
  auto observer = std::make_shared<StepObserver>();
  ServingOptions options = TestOptions();
  options.scheduling.max_prefill_tokens_per_step = 64;  // long prompts span several steps
  auto engine = ServingFrontEnd::Start(options, observer);

  std::vector<Outcome> alone;
  for (GenerationRequest& request : MixedRequests()) alone.push_back(Run(*engine, request));
  CHECK(observer->max_decode_batch() == 1);

  const std::vector<Outcome> batched = RunTogether(*engine, MixedRequests());
  CHECK(observer->max_decode_batch() >= 4);  // they really shared steps
  CheckSameAnswers(alone, batched);
  CHECK(engine->WaitIdle(std::chrono::seconds(5)));
  CHECK(engine->kv_tokens_reserved() == 0);
}

TEST_CASE("Engine loop: seeded sampling gives the same tokens whatever else is in the batch") {
  auto engine = ServingFrontEnd::Start(TestOptions(), nullptr);
  const auto sampled = [](const std::string& id, uint64_t seed) {
    GenerationRequest request = TextRequest(id, "Describe the defect on the part.", 24);
    request.sampling.temperature = 1.0f;
    request.sampling.top_p = 0.95f;
    request.sampling.seed = seed;
    return request;
  };
  const Outcome alone = Run(*engine, sampled("alone", 1234));

  std::vector<GenerationRequest> mix = MixedRequests();
  for (size_t i = 0; i < mix.size(); ++i) {
    mix[i].sampling.temperature = 0.7f;
    mix[i].sampling.seed = 99 + i;
  }
  mix.insert(mix.begin() + 3, sampled("in-batch", 1234));
  const std::vector<Outcome> batched = RunTogether(*engine, std::move(mix));
  CHECK(batched[3].tokens == alone.tokens);
  CHECK(batched[3].text == alone.text);

  const Outcome other_seed = Run(*engine, sampled("other-seed", 4321));
  CHECK(other_seed.tokens != alone.tokens);
}
