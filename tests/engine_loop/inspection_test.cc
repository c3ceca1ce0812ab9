// Inspect through the serving core on the small model: every label scored
// in one pass (as many model steps as a one-token Generate), probabilities
// and the decision rule, the same scores beside other requests, the
// refusals of its preparation, cancel and deadline, and its record.

#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "engine_test_support.h"
#include "inspection_outcome.h"

using namespace auroraedge::server;
using namespace auroraedge::server::testing;

namespace {

const std::vector<std::string> kLabels{"OK", "NG", "scratch on the left"};

double Probability(const InspectionResult& result, const std::string& label) {
  for (const LabelScore& score : result.scores) {
    if (score.label == label) return score.probability;
  }
  FAIL("no label " << label);
  return 0;
}

InspectionResult Inspect(ServingFrontEnd& engine, InspectionRequest request) {
  const InspectionOutcome outcome = Run(engine, std::move(request));
  INFO((outcome.error ? outcome.error->message : ""));
  REQUIRE(outcome.result);
  CHECK(outcome.ends == 1);
  return *outcome.result;
}

void CheckInvalid(ServingFrontEnd& engine, InspectionRequest request, const std::string& field) {
  const Status status = Refusal(engine, std::move(request));
  INFO(status.message);
  CHECK(status.code == StatusCode::kInvalidArgument);
  CHECK_THAT(status.message, Catch::StartsWith(field));
}

}  // namespace

TEST_CASE("Inspect: every label gets a probability; the most probable is chosen") {
  auto engine = ServingFrontEnd::Start(TestOptions(), nullptr);
  const InspectionResult result = Inspect(*engine, Inspection("a", "Is it OK?", kLabels, 1));
  REQUIRE(result.scores.size() == kLabels.size());
  double sum = 0;
  for (size_t k = 0; k < kLabels.size(); ++k) {
    const LabelScore& score = result.scores[k];
    CHECK(score.label == kLabels[k]);
    CHECK(score.logprob < 0);
    CHECK(score.tokens >= 2);  // the label's tokens and the end of the answer
    CHECK(score.probability == Approx(std::exp(score.logprob - result.scores[0].logprob) *
                                      result.scores[0].probability));
    CHECK(score.probability <= result.scores[result.chosen].probability);
    sum += score.probability;
  }
  CHECK(sum == Approx(1.0));
  CHECK(result.decision == Decision::kNone);
  CHECK(result.model_version == engine->model_config().version);
  CHECK(result.images == 1);
  CHECK(result.prompt_tokens > engine->model_config().visual_tokens_per_image);
  CHECK(result.timings.total > 0);
  CHECK(result.timings.decode < result.timings.total);

  // The same request again scores the same.
  const InspectionResult again = Inspect(*engine, Inspection("b", "Is it OK?", kLabels, 1));
  for (size_t k = 0; k < kLabels.size(); ++k) {
    CHECK(again.scores[k].logprob == result.scores[k].logprob);
  }
}

TEST_CASE("Inspect: the decision rule thresholds one label's probability with an uncertain band") {
  auto engine = ServingFrontEnd::Start(TestOptions(), nullptr);
  const double p = Probability(Inspect(*engine, Inspection("p", "Is it OK?", kLabels)), "NG");
  const auto decide = [&](double ok_below, double ng_from) {
    InspectionRequest request = Inspection("d", "Is it OK?", kLabels);
    request.decision_rule = DecisionRule{"NG", ok_below, ng_from};
    return Inspect(*engine, request).decision;
  };
  CHECK(decide(std::min(1.0, p + 0.01), std::min(1.0, p + 0.02)) == Decision::kOk);
  CHECK(decide(std::max(0.0, p - 0.02), std::max(0.0, p - 0.01)) == Decision::kNg);
  CHECK(decide(std::max(0.0, p - 0.01), std::min(1.0, p + 0.01)) == Decision::kUnknown);
  // The boundaries: OK strictly below the first threshold, NG from the
  // second one on.
  const DecisionRule rule{"NG", 0.3, 0.7};
  CHECK(Decide(rule, 0.2999) == Decision::kOk);
  CHECK(Decide(rule, 0.3) == Decision::kUnknown);
  CHECK(Decide(rule, 0.6999) == Decision::kUnknown);
  CHECK(Decide(rule, 0.7) == Decision::kNg);
  CHECK(Decide({"NG", 0.5, 0.5}, 0.5) == Decision::kNg);  // no band
}

TEST_CASE("Inspect: its labels ride in the prompt's last step, as many steps as one token") {
  auto observer = std::make_shared<StepObserver>();
  auto engine = ServingFrontEnd::Start(TestOptions(), observer);
  const auto steps_of = [&](auto request) {
    std::atomic<int> steps{0};
    observer->SetHook([&steps](int) { ++steps; });
    Run(*engine, std::move(request));
    observer->SetHook(nullptr);
    return steps.load();
  };
  GenerationRequest one_token = ImageRequest("g", "Is it OK?", 1, 1);
  const int generate_steps = steps_of(one_token);
  CHECK(generate_steps == 1);
  std::vector<std::string> eight;
  for (int k = 0; k < 8; ++k) eight.push_back("answer number " + std::to_string(k));
  CHECK(steps_of(Inspection("i", "Is it OK?", eight, 1)) == generate_steps);
  CHECK(steps_of(Inspection("j", "Is it OK?", {"OK", "NG"}, 1)) == generate_steps);
}

TEST_CASE("Inspect: the scores do not depend on the requests in the same steps") {
  auto engine = ServingFrontEnd::Start(TestOptions(), nullptr);
  const InspectionResult alone = Inspect(*engine, Inspection("alone", "Is it OK?", kLabels, 1));
  std::vector<std::shared_ptr<RecordingStream>> streams;
  for (int i = 0; i < 3; ++i) {
    streams.push_back(std::make_shared<RecordingStream>());
    REQUIRE(engine
                ->Submit(ImageRequest("long" + std::to_string(i), "Describe it.", 40, 1, 64, 48, i),
                         streams.back())
                .ok());
  }
  const InspectionResult beside = Inspect(*engine, Inspection("beside", "Is it OK?", kLabels, 1));
  for (auto& stream : streams) CHECK(stream->Wait().final);
  for (size_t k = 0; k < kLabels.size(); ++k) {
    CHECK(beside.scores[k].logprob == Approx(alone.scores[k].logprob).margin(1e-4));
  }
}

TEST_CASE("Inspect: bad requests are refused with INVALID_ARGUMENT naming the field") {
  auto engine = ServingFrontEnd::Start(TestOptions(), nullptr);
  CheckInvalid(*engine, Inspection("a", "Is it OK?", {}), "labels: empty");
  std::vector<std::string> thousand;
  for (int k = 0; k < 1000; ++k) thousand.push_back("label " + std::to_string(k));
  CheckInvalid(*engine, Inspection("b", "Is it OK?", thousand), "labels: 1000 labels; at most 32");
  CheckInvalid(*engine, Inspection("c", "Is it OK?", {"OK", "NG", "OK"}),
               "labels[2]: \"OK\" is labels[0] again");
  CheckInvalid(*engine, Inspection("d", "Is it OK?", {"OK", ""}), "labels[1]: empty");
  // A label of more tokens than the context holds: every number is a token
  // or more.
  std::string longer_than_context;
  for (int i = 0; i < engine->model_config().context_length; ++i) {
    longer_than_context += std::to_string(i) + " ";
  }
  CheckInvalid(*engine, Inspection("e", "Is it OK?", {"OK", longer_than_context}), "labels[1]:");
  const Status status = Refusal(*engine, Inspection("f", "Is it OK?", {longer_than_context}));
  CHECK_THAT(status.message, Catch::Contains("exceed the model's context_length"));
  CheckInvalid(*engine, Inspection("g", "Is it OK?", {"OK", "bad \xC3 utf-8"}), "labels[1]");
  InspectionRequest rule = Inspection("h", "Is it OK?", {"OK", "NG"});
  rule.decision_rule = DecisionRule{"scratch", 0.5, 0.8};
  CheckInvalid(*engine, rule, "decision_rule.label");
  rule.decision_rule = DecisionRule{"NG", 0.9, 0.8};
  CheckInvalid(*engine, rule, "decision_rule.ok_below");
  rule.decision_rule = DecisionRule{"NG", 0.1, 1.5};
  CheckInvalid(*engine, rule, "decision_rule.ng_from");
  rule.decision_rule = DecisionRule{"NG", std::nan(""), 0.5};
  CheckInvalid(*engine, rule, "decision_rule.ok_below");
  const int max_images = engine->model_config().max_images_per_request;
  CheckInvalid(*engine, Inspection("i", "Is it OK?", {"OK"}, max_images + 1), "images");
  CHECK(engine->WaitIdle(std::chrono::seconds(1)));
  CHECK(engine->kv_tokens_reserved() == 0);
}

TEST_CASE("Inspect: a deadline or a cancel ends it with DEADLINE_EXCEEDED or CANCELLED") {
  auto observer = std::make_shared<StepObserver>();
  auto engine = ServingFrontEnd::Start(TestOptions(), observer);
  InspectionRequest late = Inspection("late", "Is it OK?", kLabels, 1);
  late.deadline = std::chrono::steady_clock::now();
  InspectionOutcome outcome = Run(*engine, late);
  REQUIRE(outcome.error);
  CHECK(outcome.error->code == StatusCode::kDeadlineExceeded);

  observer->SetStageHook([&](const std::string& id, RequestStage stage) {
    if (id == "cancelled" && stage == RequestStage::kVision) engine->Cancel(id);
  });
  outcome = Run(*engine, Inspection("cancelled", "Is it OK?", kLabels, 1));
  REQUIRE(outcome.error);
  CHECK(outcome.error->code == StatusCode::kCancelled);
  CHECK(outcome.ends == 1);
  observer->SetStageHook(nullptr);
  CHECK(engine->WaitIdle(std::chrono::seconds(5)));
  CHECK(engine->kv_tokens_reserved() == 0);
}

TEST_CASE("Inspect: its record carries the scores, the chosen label and the decision") {
  auto observer = std::make_shared<StepObserver>();
  auto engine = ServingFrontEnd::Start(TestOptions(), observer);
  InspectionRequest request = Inspection("rec", "Is it OK?", {"OK", "NG"}, 1);
  request.decision_rule = DecisionRule{"NG", 0.0, 0.0};  // always NG
  const InspectionResult result = Inspect(*engine, request);
  CHECK(engine->WaitIdle(std::chrono::seconds(5)));
  const std::vector<RequestRecord> records = observer->finished();
  REQUIRE(records.size() == 1);
  const RequestRecord& record = records[0];
  CHECK(record.request_id == "rec");
  REQUIRE(record.inspection);
  CHECK(record.inspection->scores.size() == 2);
  CHECK(record.inspection->decision == Decision::kNg);
  CHECK(record.inspection->chosen == result.scores[result.chosen].label);
  CHECK(record.output_text == record.inspection->chosen);
  CHECK(record.finish_reason == FinishReason::kStop);
  CHECK(record.completion_tokens == 0);
  CHECK(record.images.size() == 1);
}
