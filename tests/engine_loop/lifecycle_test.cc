// Cancel, deadline, a full stream buffer and shutdown, in every stage: the
// stream gets exactly one end and the KV is back to zero.
//
// The observer's hooks run on the engine thread as the victim enters a
// stage or after a model step, so a hook that cancels, or sleeps until a
// deadline has passed, acts at a known point: the next plan ends the
// victim in exactly the stage the test names. A blocker request keeps the
// steps coming.

#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "engine_test_support.h"

using namespace auroraedge::server;
using namespace auroraedge::server::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// A request that keeps the engine stepping while the victim moves along.
GenerationRequest Blocker() {
  return TextRequest("blocker", "Keep inspecting every part on the line and report.", 48);
}

std::string LongPrompt() {
  std::string prompt;
  for (int i = 0; i < 40; ++i) prompt += "Check hole " + std::to_string(i) + " for burrs. ";
  return prompt;
}

struct Harness {
  explicit Harness(ServingOptions options) {
    observer = std::make_shared<StepObserver>();
    engine = ServingFrontEnd::Start(options, observer);
  }
  // Runs `hook` on the engine thread when the victim enters a stage.
  void OnVictimStage(std::function<void(RequestStage)> hook) {
    observer->SetStageHook([hook](const std::string& id, RequestStage stage) {
      if (id == "victim") hook(stage);
    });
  }
  // Submits the blocker, and the victim as soon as the blocker streams its
  // first chunk.
  void Run(GenerationRequest victim) {
    blocker_stream = std::make_shared<RecordingStream>([this, victim](int chunk) {
      if (chunk == 0) submit_status = engine->Submit(victim, victim_stream);
      return true;
    });
    REQUIRE(engine->Submit(Blocker(), blocker_stream).ok());
  }
  // Waits for both streams and checks the books are clean.
  Outcome VictimOutcome() {
    blocker_stream->Wait();
    INFO(submit_status.message);
    REQUIRE(submit_status.ok());
    const Outcome outcome = victim_stream->Wait();
    CHECK(engine->WaitIdle(10s));
    observer->SetStageHook(nullptr);
    observer->SetHook(nullptr);
    CHECK(engine->kv_tokens_reserved() == 0);
    CHECK(victim_stream->Snapshot().ends == 1);
    CHECK(blocker_stream->Snapshot().ends == 1);
    return outcome;
  }
  void Cancel() { engine->Cancel("victim"); }

  std::shared_ptr<StepObserver> observer;
  std::unique_ptr<ServingFrontEnd> engine;
  std::shared_ptr<RecordingStream> blocker_stream;
  std::shared_ptr<RecordingStream> victim_stream = std::make_shared<RecordingStream>();
  Status submit_status{StatusCode::kInternal, "not submitted"};
};

ServingOptions OneAtATime() {
  ServingOptions options = TestOptions();
  options.engine.max_sequences = 1;
  return options;
}

ServingOptions SmallPrefillChunks() {
  ServingOptions options = TestOptions();
  options.scheduling.max_prefill_tokens_per_step = 8;
  return options;
}

GenerationRequest Victim(const std::string& prompt, int max_new_tokens, int images = 0) {
  return images > 0 ? ImageRequest("victim", prompt, max_new_tokens, images)
                    : TextRequest("victim", prompt, max_new_tokens);
}

GenerationRequest WithDeadline(GenerationRequest request, Clock::time_point deadline) {
  request.deadline = deadline;
  return request;
}

void RequireEnded(const Outcome& outcome, FinishReason reason) {
  REQUIRE(outcome.final);
  CHECK(outcome.final->reason == reason);
}

}  // namespace

TEST_CASE("Lifecycle: cancel while waiting") {
  Harness harness(OneAtATime());
  harness.OnVictimStage([&harness](RequestStage stage) {
    if (stage == RequestStage::kQueued) harness.Cancel();
  });
  harness.Run(Victim("short", 8));
  const Outcome outcome = harness.VictimOutcome();
  RequireEnded(outcome, FinishReason::kCancelled);
  CHECK(outcome.final->completion_tokens == 0);
  CHECK(outcome.final->timings.prefill == 0);
  CHECK(outcome.final->timings.preprocessing == 0);
}

TEST_CASE("Lifecycle: cancel before the request reaches the engine thread") {
  Harness harness(OneAtATime());
  harness.blocker_stream = std::make_shared<RecordingStream>([&harness](int chunk) {
    if (chunk != 0) return true;
    harness.submit_status = harness.engine->Submit(Victim("short", 8), harness.victim_stream);
    harness.Cancel();  // still on a preparation worker, or in the inbox
    return true;
  });
  REQUIRE(harness.engine->Submit(Blocker(), harness.blocker_stream).ok());
  const Outcome outcome = harness.VictimOutcome();
  RequireEnded(outcome, FinishReason::kCancelled);
  CHECK(outcome.final->completion_tokens == 0);
}

TEST_CASE("Lifecycle: deadline while waiting") {
  Harness harness(OneAtATime());
  harness.Run(WithDeadline(Victim("short", 8), Clock::now()));  // expired on arrival
  const Outcome outcome = harness.VictimOutcome();
  RequireEnded(outcome, FinishReason::kDeadline);
  CHECK(outcome.final->timings.prefill == 0);
  CHECK(outcome.final->completion_tokens == 0);
}

TEST_CASE("Lifecycle: cancel while preprocessing") {
  Harness harness(TestOptions());
  harness.OnVictimStage([&harness](RequestStage stage) {
    if (stage == RequestStage::kPreprocessing) harness.Cancel();
  });
  harness.Run(Victim("what is wrong?", 8, 2));
  const Outcome outcome = harness.VictimOutcome();
  RequireEnded(outcome, FinishReason::kCancelled);
  CHECK(outcome.final->timings.preprocessing > 0);
  CHECK(outcome.final->timings.vision == 0);
  CHECK(outcome.final->timings.prefill == 0);
}

TEST_CASE("Lifecycle: deadline while preprocessing") {
  Harness harness(TestOptions());
  const Clock::time_point deadline = Clock::now() + 1s;
  harness.OnVictimStage([deadline](RequestStage stage) {
    if (stage == RequestStage::kPreprocessing) std::this_thread::sleep_until(deadline);
  });
  harness.Run(WithDeadline(Victim("what is wrong?", 8, 2), deadline));
  const Outcome outcome = harness.VictimOutcome();
  RequireEnded(outcome, FinishReason::kDeadline);
  CHECK(outcome.final->timings.preprocessing > 0);
  CHECK(outcome.final->timings.vision == 0);
}

TEST_CASE("Lifecycle: cancel while waiting for a vision batch") {
  Harness harness(TestOptions());
  harness.OnVictimStage([&harness](RequestStage stage) {
    if (stage == RequestStage::kVision) harness.Cancel();
  });
  harness.Run(Victim("what is wrong?", 8, 1));
  const Outcome outcome = harness.VictimOutcome();
  RequireEnded(outcome, FinishReason::kCancelled);
  CHECK(outcome.final->timings.vision > 0);
  CHECK(outcome.final->timings.prefill == 0);
}

TEST_CASE("Lifecycle: cancel during prefill") {
  Harness harness(SmallPrefillChunks());
  bool admitted = false;
  harness.OnVictimStage([&admitted](RequestStage stage) {
    if (stage == RequestStage::kPrefill) admitted = true;
  });
  // The step after admission ran the victim's first 8-token chunk.
  harness.observer->SetHook([&](int step) {
    if (admitted) harness.Cancel();
  });
  harness.Run(Victim(LongPrompt(), 8));
  const Outcome outcome = harness.VictimOutcome();
  RequireEnded(outcome, FinishReason::kCancelled);
  CHECK(outcome.final->timings.prefill > 0);
  CHECK(outcome.final->completion_tokens == 0);
}

TEST_CASE("Lifecycle: deadline during prefill") {
  Harness harness(SmallPrefillChunks());
  const Clock::time_point deadline = Clock::now() + 1s;
  bool admitted = false;
  harness.OnVictimStage([&admitted](RequestStage stage) {
    if (stage == RequestStage::kPrefill) admitted = true;
  });
  harness.observer->SetHook([&](int step) {
    if (admitted) std::this_thread::sleep_until(deadline);
  });
  harness.Run(WithDeadline(Victim(LongPrompt(), 8), deadline));
  const Outcome outcome = harness.VictimOutcome();
  RequireEnded(outcome, FinishReason::kDeadline);
  CHECK(outcome.final->timings.prefill > 0);
  CHECK(outcome.final->completion_tokens == 0);
}

TEST_CASE("Lifecycle: cancel while decoding") {
  Harness harness(TestOptions());
  harness.victim_stream = std::make_shared<RecordingStream>([&harness](int chunk) {
    if (chunk == 0) harness.Cancel();
    return true;
  });
  harness.Run(Victim("go on", 40));
  const Outcome outcome = harness.VictimOutcome();
  RequireEnded(outcome, FinishReason::kCancelled);
  CHECK(outcome.final->completion_tokens >= 1);
  CHECK(outcome.final->completion_tokens < 40);
  CHECK(outcome.final->timings.decode > 0);
}

TEST_CASE("Lifecycle: deadline while decoding") {
  Harness harness(TestOptions());
  const Clock::time_point deadline = Clock::now() + 1s;
  harness.victim_stream = std::make_shared<RecordingStream>([deadline](int chunk) {
    if (chunk == 0) std::this_thread::sleep_until(deadline);
    return true;
  });
  harness.Run(WithDeadline(Victim("go on", 40), deadline));
  const Outcome outcome = harness.VictimOutcome();
  RequireEnded(outcome, FinishReason::kDeadline);
  CHECK(outcome.final->completion_tokens >= 1);
  CHECK(outcome.final->completion_tokens < 40);
  CHECK(outcome.final->timings.decode > 0);
}

TEST_CASE("Lifecycle: a client that stops reading is cut off with RESOURCE_EXHAUSTED") {
  Harness harness(TestOptions());
  harness.victim_stream = std::make_shared<RecordingStream>([](int chunk) { return chunk < 2; });
  harness.Run(Victim("go on", 40));
  const Outcome outcome = harness.VictimOutcome();
  REQUIRE(outcome.error);
  CHECK(outcome.error->code == StatusCode::kResourceExhausted);
  CHECK_THAT(outcome.error->message, Catch::Contains("stream_buffer_chunks"));
  CHECK(outcome.chunks == 3);
}

TEST_CASE("Lifecycle: a request whose stream throws ends alone with INTERNAL") {
  Harness harness(TestOptions());
  harness.victim_stream = std::make_shared<RecordingStream>([](int chunk) -> bool {
    if (chunk == 1) throw std::runtime_error("the stream broke");
    return true;
  });
  harness.Run(Victim("go on", 40));
  const Outcome outcome = harness.VictimOutcome();
  REQUIRE(outcome.error);
  CHECK(outcome.error->code == StatusCode::kInternal);
  CHECK_THAT(outcome.error->message, Catch::Contains("the stream broke"));
  const Outcome blocker = harness.blocker_stream->Snapshot();
  REQUIRE(blocker.final);  // the neighbour ran to its end
  CHECK(blocker.final->completion_tokens == 48);
}

TEST_CASE("Lifecycle: stopping the engine ends in-flight streams with UNAVAILABLE") {
  auto engine = ServingFrontEnd::Start(TestOptions(), nullptr);
  std::promise<void> streaming;
  // 200 tokens at 5 ms each: far from done when the engine stops.
  auto stream = std::make_shared<RecordingStream>([&streaming](int chunk) {
    if (chunk == 0) streaming.set_value();
    std::this_thread::sleep_for(5ms);
    return true;
  });
  REQUIRE(engine->Submit(TextRequest("long", "go on", 200), stream).ok());
  streaming.get_future().wait();
  engine.reset();
  const Outcome outcome = stream->Snapshot();
  CHECK(outcome.ends == 1);
  REQUIRE(outcome.error);
  CHECK(outcome.error->code == StatusCode::kUnavailable);
  CHECK(outcome.tokens.size() < 200);
}
