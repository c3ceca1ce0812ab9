// An inspection's labels scored in the step of the prompt's last chunk
// (SequenceStart::labels): each label's log-probability against the Python
// reference's full-sequence logits and against decoding the label alone,
// both paths, one chunk or several, beside other sequences; and the
// constrained rows' allowed-token masks.

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "engine_fixtures.h"
#include "runner_test_support.h"

namespace auroraedge::model {
namespace {

using Catch::Matchers::Contains;
using testing::FixturePrompt;
using testing::Fixtures;
using testing::LoadRunner;
using testing::Placements;

struct PathUnderTest {
  std::string model_dir;
  std::string fixtures_dir;
};

const PathUnderTest kCompressed{AURORAEDGE_TEST_MODEL_DIR, AURORAEDGE_TEST_FIXTURES};
const PathUnderTest kBaseline{AURORAEDGE_TEST_BASELINE_MODEL_DIR,
                              AURORAEDGE_TEST_BASELINE_FIXTURES};

std::vector<VisualFeatures> Encode(ModelRunner& runner, const Fixtures& f,
                                   const FixturePrompt& prompt) {
  std::vector<const preprocessing::PatchImage*> images;
  for (int64_t i : prompt.images) images.push_back(&f.images[i]);
  return runner.EncodeImages(images);
}

int64_t LabelRows(const std::vector<std::vector<int32_t>>& labels) {
  int64_t rows = 0;
  for (const auto& label : labels) rows += static_cast<int64_t>(label.size()) - 1;
  return rows;
}

// The log-probability of `label` after the prompt by the reference's
// full-sequence logits: the label must be a prefix of its greedy
// continuation, whose logits the fixture holds.
double ReferenceLogprob(const FixturePrompt& prompt, const std::vector<int32_t>& label) {
  const auto length = static_cast<int64_t>(prompt.tokens.size());
  const auto log_probs = at::log_softmax(prompt.logits.to(at::kDouble), 1);
  double sum = 0;
  for (size_t j = 0; j < label.size(); ++j) {
    REQUIRE(label[j] == prompt.generated[j]);
    sum += log_probs[length - 1 + static_cast<int64_t>(j)][label[j]].item<double>();
  }
  return sum;
}

// The same by decoding the label alone, one token a step, in a sequence of
// its own: the logits each step's sampled row is computed from.
double DecodedLogprob(TorchModelRunner& runner, Placements& placements, SequenceId id,
                      const Fixtures& f, const FixturePrompt& prompt,
                      const std::vector<int32_t>& label) {
  const auto length = static_cast<int>(prompt.tokens.size());
  const int room = static_cast<int>(label.size());
  runner.StartSequence(testing::Start(id, prompt.tokens, room, placements.Next(length + room)),
                       Encode(runner, f, prompt));
  at::Tensor logits;
  REQUIRE(runner.StepWithLogits({StepRow::Prefill(id, length)}, &logits)[0].ok());
  double sum = 0;
  for (size_t j = 0; j < label.size(); ++j) {
    sum += at::log_softmax(logits.to(at::kDouble), 1)[0][label[j]].item<double>();
    if (j + 1 == label.size()) break;
    REQUIRE(runner.StepWithLogits({StepRow::Decode(id, label[j])}, &logits)[0].ok());
  }
  runner.EndSequence(id);
  return sum;
}

// Scores four labels of every fixture prompt in the step of its last
// chunk, with a generating sequence in the same steps, and holds each
// label to the reference (prefixes of the greedy continuation) or to
// decoding it alone (the others).
void CheckLabelScores(const PathUnderTest& path, int chunk) {
  const auto runner = LoadRunner(path.model_dir);
  const Fixtures f = testing::LoadFixtures(path.fixtures_dir);
  const int32_t vocab = runner->config().decoder.vocab_size;
  SequenceId next_id = 100;
  for (size_t p = 0; p < f.prompts.size(); ++p) {
    INFO("prompt " << p << ", chunks of " << chunk);
    Placements placements(runner->kv_geometry());  // the previous prompt's sequences ended
    const FixturePrompt& prompt = f.prompts[p];
    const auto& g = prompt.generated;
    const std::vector<std::vector<int32_t>> labels{
        {g[0]}, {g[0], g[1], g[2], g[3]}, {g[0], (g[1] + 5) % vocab}, {(g[0] + 1) % vocab, 3, 9}};
    const auto length = static_cast<int>(prompt.tokens.size());
    const SequenceId inspection = next_id++;
    SequenceStart start =
        testing::Start(inspection, prompt.tokens, 0, placements.Next(length + LabelRows(labels)));
    start.labels = labels;
    runner->StartSequence(start, Encode(*runner, f, prompt));
    // A neighbour that generates in the same steps.
    const SequenceId neighbour = next_id++;
    runner->StartSequence(testing::Start(neighbour, {5, 6, 7}, 40, placements.Next(43)), {});
    REQUIRE(runner->Step({StepRow::Prefill(neighbour, 3)})[0].ok());
    int32_t neighbour_token = 0;
    std::vector<double> scores;
    for (int done = 0; done < length; done += chunk) {
      const int n = std::min(chunk, length - done);
      const bool last = done + n == length;
      const auto results = runner->Step({StepRow::Decode(neighbour, neighbour_token),
                                         StepRow::Prefill(inspection, n, /*sample=*/last)});
      REQUIRE(results[0].ok());
      REQUIRE(results[1].ok());
      neighbour_token = results[0].token;
      CHECK(results[1].token == -1);  // an inspection samples nothing
      if (!last) {
        CHECK(results[1].label_logprobs.empty());
      } else {
        scores = results[1].label_logprobs;
      }
    }
    REQUIRE(scores.size() == labels.size());
    const double tolerance = 4 * f.tolerance;  // logits within tolerance: log-softmax within 2x
    CHECK(scores[0] == Approx(ReferenceLogprob(prompt, labels[0])).margin(tolerance));
    CHECK(scores[1] == Approx(ReferenceLogprob(prompt, labels[1])).margin(4 * tolerance));
    for (size_t k = 2; k < labels.size(); ++k) {
      INFO("label " << k);
      CHECK(scores[k] ==
            Approx(DecodedLogprob(*runner, placements, next_id++, f, prompt, labels[k]))
                .margin(3 * tolerance));
    }
    // Every label is a probability: below 0, and the first label's
    // probability bounds the longer ones that start with it.
    for (double score : scores) CHECK(score < 0);
    CHECK(scores[1] <= scores[0]);
    // The inspection is done; it decodes nothing.
    CHECK_THAT(runner->Step({StepRow::Decode(inspection, g[0])})[0].error,
               Contains("max_new_tokens"));
    runner->EndSequence(inspection);
    runner->EndSequence(neighbour);
  }
}

TEST_CASE("labels scored in the prompt's last step equal the reference (compressed)") {
  CheckLabelScores(kCompressed, 1000);
}

TEST_CASE("labels scored in the prompt's last step equal the reference (baseline)") {
  CheckLabelScores(kBaseline, 1000);
}

TEST_CASE("labels scored after a prompt prefilled in chunks of 7 (compressed)") {
  CheckLabelScores(kCompressed, 7);
}

TEST_CASE("inspections that do not fit are refused with the field named") {
  const auto runner = LoadRunner(testing::SmallModelOptions());
  const ModelConfig& c = runner->config();
  const auto inspection = [&](std::vector<std::vector<int32_t>> labels, int max_new_tokens,
                              int64_t blocks, std::vector<int32_t> prompt = {4, 5, 6}) {
    SequenceStart start = testing::Start(1, std::move(prompt), max_new_tokens, {0, 0, blocks});
    start.labels = std::move(labels);
    return start;
  };
  CHECK_THROWS_WITH(runner->StartSequence(inspection({{3}}, 2, 4), {}),
                    Contains("max_new_tokens: an inspection"));
  CHECK_THROWS_WITH(runner->StartSequence(inspection({{3}, {}}, 0, 4), {}),
                    Contains("labels[1]: empty"));
  CHECK_THROWS_WITH(runner->StartSequence(inspection({{3, c.decoder.vocab_size}}, 0, 4), {}),
                    Contains("labels[0]: token"));
  CHECK_THROWS_WITH(
      runner->StartSequence(
          inspection({{3}, std::vector<int32_t>(static_cast<size_t>(c.context_length) - 2, 7)}, 0,
                     runner->kv_geometry().num_blocks),
          {}),
      Contains("prompt + labels[1]"));
  // 3 prompt tokens and 2 + 15 label rows need 20 tokens: two blocks of 16.
  const std::vector<int32_t> long_label(16, 9);
  CHECK_THROWS_WITH(runner->StartSequence(inspection({{3, 4, 5}, long_label}, 0, 1), {}),
                    Contains("placement.num_blocks"));
  runner->StartSequence(inspection({{3, 4, 5}, long_label}, 0, 2), {});
  const auto results = runner->Step({StepRow::Prefill(1, 3)});
  REQUIRE(results[0].ok());
  CHECK(results[0].label_logprobs.size() == 2);
}

TEST_CASE("constrained rows sample only allowed tokens; bad masks fail the row alone") {
  const auto runner = LoadRunner(testing::SmallModelOptions());
  const int32_t vocab = runner->config().decoder.vocab_size;
  const size_t words = (static_cast<size_t>(vocab) + 63) / 64;
  const auto only = [&](std::vector<int32_t> tokens) {
    std::vector<uint64_t> mask(words, 0);
    for (int32_t t : tokens) mask[t / 64] |= uint64_t{1} << (t % 64);
    return mask;
  };
  SequenceStart hot = testing::Start(1, {4, 5, 6}, 8, {0, 0, 1});
  hot.sampling.temperature = 1.5f;
  hot.sampling.seed = 3;
  runner->StartSequence(hot, {});
  runner->StartSequence(testing::Start(2, {4, 5, 6}, 8, {1, 1, 1}), {});
  const std::vector<uint64_t> first = only({vocab - 1});
  const std::vector<uint64_t> several = only({3, 70, 200 % vocab});
  StepRow row1 = StepRow::Prefill(1, 3);
  row1.allowed_tokens = &several;
  StepRow row2 = StepRow::Prefill(2, 3);
  row2.allowed_tokens = &first;
  auto results = runner->Step({row1, row2});
  REQUIRE(results[0].ok());
  REQUIRE(results[1].ok());
  CHECK(results[1].token == vocab - 1);
  for (int step = 0; step < 6; ++step) {
    INFO("step " << step);
    const int32_t token = results[0].token;
    CHECK((token == 3 || token == 70 || token == 200 % vocab));
    StepRow decode = StepRow::Decode(1, token);
    decode.allowed_tokens = &several;
    results = runner->Step({decode});
    REQUIRE(results[0].ok());
  }

  const std::vector<uint64_t> nothing(words, 0);
  const std::vector<uint64_t> short_mask(words - 1, ~uint64_t{0});
  StepRow empty = StepRow::Decode(2, 5);
  empty.allowed_tokens = &nothing;
  CHECK_THAT(runner->Step({empty, StepRow::Decode(1, 3)})[0].error,
             Contains("allowed_tokens: allows no token"));
  StepRow wrong = StepRow::Decode(2, 5);
  wrong.allowed_tokens = &short_mask;
  CHECK_THAT(runner->Step({wrong})[0].error,
             Contains("allowed_tokens: " + std::to_string(words - 1) + " words"));
}

}  // namespace
}  // namespace auroraedge::model
