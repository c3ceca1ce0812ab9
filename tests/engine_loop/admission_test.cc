// What Submit and the request's preparation refuse, the bounded queue and
// priority order.

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "engine_test_support.h"

using namespace auroraedge::server;
using namespace auroraedge::server::testing;

namespace {

Status SubmitOnly(ServingFrontEnd& engine, GenerationRequest request) {
  return engine.Submit(std::move(request), std::make_shared<RecordingStream>());
}

// Refused by its preparation on a worker: Submit accepts it, its stream
// ends with INVALID_ARGUMENT naming the field.
void CheckInvalid(ServingFrontEnd& engine, GenerationRequest request, const std::string& field) {
  const Status status = Refusal(engine, std::move(request));
  INFO(status.message);
  CHECK(status.code == StatusCode::kInvalidArgument);
  CHECK_THAT(status.message, Catch::Contains(field));
}

}  // namespace

TEST_CASE("Admission: bad requests are refused with INVALID_ARGUMENT naming the field") {
  auto engine = ServingFrontEnd::Start(TestOptions(), nullptr);
  const int max_images = engine->model_config().max_images_per_request;
  CheckInvalid(*engine, ImageRequest("a", "x", 4, max_images + 1), "images");
  CheckInvalid(*engine, TextRequest("b", std::string(64 * 1024 + 1, 'a'), 4), "max_prompt_bytes");
  CheckInvalid(*engine, TextRequest("c", "bad \xC3 utf-8", 4), "prompt");

  GenerationRequest request = TextRequest("d", "x", 4);
  request.sampling.temperature = -1.0f;
  CheckInvalid(*engine, request, "temperature");
  request = TextRequest("e", "x", 4);
  request.sampling.top_p = 1.5f;
  CheckInvalid(*engine, request, "top_p");
  request = TextRequest("f", "x", 4);
  request.sampling.top_k = -2;
  CheckInvalid(*engine, request, "top_k");
  request = TextRequest("g", "x", 4);
  request.sampling.repetition_penalty = 0.0f;
  CheckInvalid(*engine, request, "repetition_penalty");
  CheckInvalid(*engine, TextRequest("h", "x", 0), "max_new_tokens");
  CheckInvalid(*engine, TextRequest("i", "x", engine->model_config().context_length),
               "max_new_tokens");
  request = TextRequest("j", "x", 4);
  request.sampling.stop = {"ok", ""};
  CheckInvalid(*engine, request, "sampling.stop[1]");
  request = TextRequest("k", "x", 4);
  request.sampling.top_logprobs = 21;
  CheckInvalid(*engine, request, "sampling.top_logprobs");
  CHECK(engine->WaitIdle(std::chrono::seconds(1)));
  CHECK(engine->kv_tokens_reserved() == 0);
}

TEST_CASE("Admission: a request whose answer cannot fit the KV storage is refused, naming it") {
  ServingOptions options = TestOptions();
  options.engine.kv_block_size = 16;
  // A few blocks: less than the context the model allows.
  options.engine.kv_cache_bytes = 1LL << 17;
  auto engine = ServingFrontEnd::Start(options, nullptr);
  const Status status = Refusal(*engine, TextRequest("big", "x", 900));
  INFO(status.message);
  CHECK(status.code == StatusCode::kInvalidArgument);
  CHECK_THAT(status.message, Catch::Contains("sampling.max_new_tokens") &&
                                 Catch::Contains("KV storage"));
  CHECK(Run(*engine, TextRequest("small", "x", 4)).final);
}

TEST_CASE("Admission: an image that cannot be decoded ends its stream with INVALID_ARGUMENT") {
  auto engine = ServingFrontEnd::Start(TestOptions(), nullptr);
  GenerationRequest request = TextRequest("broken", "what is it?", 4);
  request.images.push_back({"not an image at all", std::nullopt, std::nullopt});
  const Outcome outcome = Run(*engine, request);
  REQUIRE(outcome.error);
  CHECK(outcome.error->code == StatusCode::kInvalidArgument);
  CHECK_THAT(outcome.error->message, Catch::Contains("images[0]"));
  CHECK(engine->WaitIdle(std::chrono::seconds(5)));
  CHECK(engine->kv_tokens_reserved() == 0);
}

TEST_CASE("Admission: a request id already in flight is refused at Submit") {
  ServingOptions options = TestOptions();
  options.engine.max_sequences = 1;
  auto engine = ServingFrontEnd::Start(options, nullptr);
  auto first = std::make_shared<RecordingStream>();
  REQUIRE(engine->Submit(TextRequest("same", "one", 16), first).ok());
  const Status second = SubmitOnly(*engine, TextRequest("same", "two", 16));
  CHECK(second.code == StatusCode::kInvalidArgument);
  CHECK_THAT(second.message, Catch::Contains("request_id"));
  first->Wait();
  CHECK(engine->WaitIdle(std::chrono::seconds(5)));
  CHECK(SubmitOnly(*engine, TextRequest("same", "three", 2)).ok());  // free again
}

TEST_CASE("Admission: beyond the waiting queue RESOURCE_EXHAUSTED, while admitted streams end") {
  ServingOptions options = TestOptions();
  options.engine.max_sequences = 1;
  options.scheduling.max_waiting_requests = 3;
  auto engine = ServingFrontEnd::Start(options, nullptr);

  std::vector<std::shared_ptr<RecordingStream>> streams;
  std::vector<Status> statuses;
  // Runs on the engine thread, so nothing is admitted meanwhile: requests
  // count as waiting from Submit on.
  const auto submit_all = [&](int chunk) {
    if (chunk != 0) return true;
    for (int i = 0; i < 5; ++i) {
      streams.push_back(std::make_shared<RecordingStream>());
      statuses.push_back(
          engine->Submit(TextRequest("q" + std::to_string(i), "queued", 6), streams.back()));
    }
    return true;
  };
  auto running = std::make_shared<RecordingStream>(submit_all);
  REQUIRE(engine->Submit(TextRequest("running", "first", 6), running).ok());
  CHECK(running->Wait().ends == 1);
  REQUIRE(statuses.size() == 5);
  for (int i = 0; i < 3; ++i) {
    INFO(statuses[i].message);
    CHECK(statuses[i].ok());
  }
  for (int i = 3; i < 5; ++i) {
    CHECK(statuses[i].code == StatusCode::kResourceExhausted);
    CHECK_THAT(statuses[i].message, Catch::Contains("max_waiting_requests"));
  }
  for (int i = 0; i < 3; ++i) {
    const Outcome outcome = streams[i]->Wait();
    CHECK(outcome.ends == 1);
    CHECK(outcome.final);
  }
  CHECK(streams[3]->Snapshot().ends == 0);
  CHECK(engine->WaitIdle(std::chrono::seconds(5)));
  CHECK(engine->kv_tokens_reserved() == 0);
}

TEST_CASE("Admission: line-critical first, then normal, then background, FIFO within each") {
  ServingOptions options = TestOptions();
  options.engine.max_sequences = 1;
  auto observer = std::make_shared<StepObserver>();
  auto engine = ServingFrontEnd::Start(options, observer);

  const std::vector<std::pair<std::string, Priority>> arrivals{
      {"background-1", Priority::kBackground}, {"normal-1", Priority::kNormal},
      {"critical-1", Priority::kLineCritical}, {"background-2", Priority::kBackground},
      {"critical-2", Priority::kLineCritical}, {"normal-2", Priority::kNormal}};
  std::vector<std::shared_ptr<RecordingStream>> streams;
  // The running request holds the only seat until all six have reached the
  // engine thread; then it is cancelled and they are admitted one by one.
  int arrived = 0;
  observer->SetStageHook([&](const std::string& id, RequestStage stage) {
    if (stage == RequestStage::kQueued && id != "running" && ++arrived == 6) {
      engine->Cancel("running");
    }
  });
  auto running = std::make_shared<RecordingStream>([&](int chunk) {
    if (chunk != 0) return true;
    for (const auto& [id, priority] : arrivals) {
      GenerationRequest request = TextRequest(id, "which first?", 3);
      request.priority = priority;
      streams.push_back(std::make_shared<RecordingStream>());
      REQUIRE(engine->Submit(request, streams.back()).ok());
    }
    return true;
  });
  REQUIRE(engine->Submit(TextRequest("running", "first", 500), running).ok());
  const Outcome first = running->Wait();
  REQUIRE(first.final);
  CHECK(first.final->reason == FinishReason::kCancelled);
  REQUIRE(streams.size() == arrivals.size());
  for (const auto& stream : streams) CHECK(stream->Wait().final);
  REQUIRE(engine->WaitIdle(std::chrono::seconds(5)));  // every record is in

  std::vector<std::string> order;
  for (const RequestRecord& record : observer->finished()) {
    if (record.request_id != "running") order.push_back(record.request_id);
  }
  CHECK(order == std::vector<std::string>{"critical-1", "critical-2", "normal-1", "normal-2",
                                          "background-1", "background-2"});
}

TEST_CASE("Admission: after StopAccepting, Submit answers UNAVAILABLE and admitted requests end") {
  auto engine = ServingFrontEnd::Start(TestOptions(), nullptr);
  auto stream = std::make_shared<RecordingStream>();
  REQUIRE(engine->Submit(TextRequest("admitted", "go", 8), stream).ok());
  engine->StopAccepting();
  CHECK(SubmitOnly(*engine, TextRequest("late", "go", 8)).code == StatusCode::kUnavailable);
  CHECK(stream->Wait().final);
  CHECK(engine->WaitIdle(std::chrono::seconds(5)));
}
