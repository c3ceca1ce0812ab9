// Cancel, deadline, a full stream buffer and shutdown, in every stage: the
// stream gets exactly one end and the KV cache is back to zero.
//
// The engine thread runs the observer's step hook, so a hook that submits,
// cancels or sleeps acts at a known point between two plans: the request is
// exactly where the test says when the next plan applies the abort or the
// deadline. A blocker request keeps the steps coming.

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
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
    engine = InferenceEngine::Start(options, observer);
  }
  // Submits the blocker; from the step that streams its first chunk on,
  // `hook` runs after each of the engine's steps (that step is step 0).
  void RunBlocker(StepObserver::StepHook hook) {
    blocker_stream = std::make_shared<RecordingStream>([this, hook](int chunk) {
      if (chunk == 0) observer->SetHook(hook);
      return true;
    });
    REQUIRE(engine->Submit(Blocker(), blocker_stream).ok());
  }
  void Submit(GenerationRequest request) {
    submit_status = engine->Submit(std::move(request), victim_stream);
  }
  // Waits for both streams; the hook has run by the time the blocker ends.
  Outcome VictimOutcome() {
    blocker_stream->Wait();
    INFO(submit_status.message);
    REQUIRE(submit_status.ok());
    const Outcome outcome = victim_stream->Wait();
    observer->SetHook(nullptr);
    CHECK(engine->WaitIdle(10s));
    CHECK(engine->kv_tokens_reserved() == 0);
    CHECK(victim_stream->Snapshot().ends == 1);
    CHECK(blocker_stream->Snapshot().ends == 1);
    return outcome;
  }

  std::shared_ptr<StepObserver> observer;
  std::unique_ptr<InferenceEngine> engine;
  std::shared_ptr<RecordingStream> blocker_stream;
  std::shared_ptr<RecordingStream> victim_stream = std::make_shared<RecordingStream>();
  Status submit_status{StatusCode::kInternal, "not submitted"};
};

ServingOptions OneAtATime() {
  ServingOptions options = TestOptions();
  options.scheduling.max_running_sequences = 1;
  return options;
}

ServingOptions SmallPrefillChunks() {
  ServingOptions options = TestOptions();
  options.scheduling.max_prefill_tokens_per_step = 8;
  return options;
}

void RequireEnded(const Outcome& outcome, FinishReason reason) {
  REQUIRE(outcome.final);
  CHECK(outcome.final->reason == reason);
}

}  // namespace

TEST_CASE("Lifecycle: cancel while waiting") {
  Harness harness(OneAtATime());
  harness.RunBlocker([&harness](int step) {
    if (step != 0) return;
    harness.Submit(TextRequest("victim", "short", 8));
    harness.engine->Cancel("victim");
  });
  const Outcome outcome = harness.VictimOutcome();
  RequireEnded(outcome, FinishReason::kCancelled);
  CHECK(outcome.final->completion_tokens == 0);
  CHECK(outcome.final->timings.prefill == 0);
  CHECK(outcome.final->timings.preprocessing == 0);
}

TEST_CASE("Lifecycle: deadline while waiting") {
  Harness harness(OneAtATime());
  harness.RunBlocker([&harness](int step) {
    if (step != 0) return;
    GenerationRequest request = TextRequest("victim", "short", 8);
    request.deadline = Clock::now() + 20ms;
    harness.Submit(std::move(request));
    std::this_thread::sleep_for(40ms);
  });
  const Outcome outcome = harness.VictimOutcome();
  RequireEnded(outcome, FinishReason::kDeadline);
  CHECK(outcome.final->timings.prefill == 0);
  CHECK(outcome.final->timings.queued >= 0.02);
}

TEST_CASE("Lifecycle: cancel while preprocessing") {
  Harness harness(TestOptions());
  harness.RunBlocker([&harness](int step) {
    if (step == 0) harness.Submit(ImageRequest("victim", "what is wrong?", 8, 2));
    if (step == 1) harness.engine->Cancel("victim");  // admitted in the step just done
  });
  const Outcome outcome = harness.VictimOutcome();
  RequireEnded(outcome, FinishReason::kCancelled);
  CHECK(outcome.final->timings.preprocessing > 0);
  CHECK(outcome.final->timings.vision == 0);
  CHECK(outcome.final->timings.prefill == 0);
}

TEST_CASE("Lifecycle: deadline while preprocessing") {
  Harness harness(TestOptions());
  harness.RunBlocker([&harness](int step) {
    if (step == 0) {
      GenerationRequest request = ImageRequest("victim", "what is wrong?", 8, 2);
      request.deadline = Clock::now() + 200ms;
      harness.Submit(std::move(request));
    }
    if (step == 1) std::this_thread::sleep_for(250ms);
  });
  const Outcome outcome = harness.VictimOutcome();
  RequireEnded(outcome, FinishReason::kDeadline);
  CHECK(outcome.final->timings.preprocessing > 0);
  CHECK(outcome.final->timings.vision == 0);
}

TEST_CASE("Lifecycle: cancel while waiting for a vision batch") {
  Harness harness(TestOptions());
  harness.RunBlocker([&harness](int step) {
    if (step == 0) harness.Submit(ImageRequest("victim", "what is wrong?", 8, 1));
    // Admitted in step 1; its small image is ready long before the pause
    // ends, and the loop takes it right after the next plan.
    if (step == 1) std::this_thread::sleep_for(200ms);
    if (step == 2) harness.engine->Cancel("victim");
  });
  const Outcome outcome = harness.VictimOutcome();
  RequireEnded(outcome, FinishReason::kCancelled);
  CHECK(outcome.final->timings.vision > 0);
  CHECK(outcome.final->timings.prefill == 0);
}

TEST_CASE("Lifecycle: cancel during prefill") {
  Harness harness(SmallPrefillChunks());
  harness.RunBlocker([&harness](int step) {
    if (step == 0) harness.Submit(TextRequest("victim", LongPrompt(), 8));
    if (step == 1) harness.engine->Cancel("victim");  // its first chunk ran in this step
  });
  const Outcome outcome = harness.VictimOutcome();
  RequireEnded(outcome, FinishReason::kCancelled);
  CHECK(outcome.final->timings.prefill > 0);
  CHECK(outcome.final->completion_tokens == 0);
}

TEST_CASE("Lifecycle: deadline during prefill") {
  Harness harness(SmallPrefillChunks());
  harness.RunBlocker([&harness](int step) {
    if (step == 0) {
      GenerationRequest request = TextRequest("victim", LongPrompt(), 8);
      request.deadline = Clock::now() + 200ms;
      harness.Submit(std::move(request));
    }
    if (step == 1) std::this_thread::sleep_for(250ms);
  });
  const Outcome outcome = harness.VictimOutcome();
  RequireEnded(outcome, FinishReason::kDeadline);
  CHECK(outcome.final->timings.prefill > 0);
  CHECK(outcome.final->completion_tokens == 0);
}

TEST_CASE("Lifecycle: cancel while decoding") {
  Harness harness(TestOptions());
  harness.victim_stream = std::make_shared<RecordingStream>([&harness](int chunk) {
    if (chunk == 0) harness.engine->Cancel("victim");
    return true;
  });
  harness.RunBlocker([&harness](int step) {
    if (step == 0) harness.Submit(TextRequest("victim", "go on", 40));
  });
  const Outcome outcome = harness.VictimOutcome();
  RequireEnded(outcome, FinishReason::kCancelled);
  CHECK(outcome.final->completion_tokens >= 1);
  CHECK(outcome.final->completion_tokens < 40);
  CHECK(outcome.final->timings.decode > 0);
}

TEST_CASE("Lifecycle: deadline while decoding") {
  Harness harness(TestOptions());
  const Clock::time_point deadline = Clock::now() + 2s;
  harness.victim_stream = std::make_shared<RecordingStream>([deadline](int chunk) {
    if (chunk == 0) std::this_thread::sleep_until(deadline + 20ms);
    return true;
  });
  harness.RunBlocker([&harness, deadline](int step) {
    if (step != 0) return;
    GenerationRequest request = TextRequest("victim", "go on", 40);
    request.deadline = deadline;
    harness.Submit(std::move(request));
  });
  const Outcome outcome = harness.VictimOutcome();
  RequireEnded(outcome, FinishReason::kDeadline);
  CHECK(outcome.final->completion_tokens >= 1);
  CHECK(outcome.final->timings.decode > 0);
}

TEST_CASE("Lifecycle: a client that stops reading is cut off with RESOURCE_EXHAUSTED") {
  Harness harness(TestOptions());
  harness.victim_stream = std::make_shared<RecordingStream>([](int chunk) { return chunk < 2; });
  harness.RunBlocker([&harness](int step) {
    if (step == 0) harness.Submit(TextRequest("victim", "go on", 40));
  });
  const Outcome outcome = harness.VictimOutcome();
  REQUIRE(outcome.error);
  CHECK(outcome.error->code == StatusCode::kResourceExhausted);
  CHECK_THAT(outcome.error->message, Catch::Contains("stream_buffer_chunks"));
  CHECK(outcome.chunks == 3);
}

TEST_CASE("Lifecycle: stopping the engine ends in-flight streams with UNAVAILABLE") {
  auto engine = InferenceEngine::Start(TestOptions(), nullptr);
  auto stream = std::make_shared<RecordingStream>([](int chunk) {
    std::this_thread::sleep_for(5ms);
    return true;
  });
  REQUIRE(engine->Submit(TextRequest("long", "go on", 200), stream).ok());
  std::this_thread::sleep_for(30ms);
  engine.reset();
  const Outcome outcome = stream->Snapshot();
  CHECK(outcome.ends == 1);
  if (outcome.error) CHECK(outcome.error->code == StatusCode::kUnavailable);
}
