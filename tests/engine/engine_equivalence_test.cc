// The model runner against the Python reference's fixtures (fp32, small
// configuration, both paths): vision features, prefill, incremental decoding
// and batching, with every sequence's KV read in place from its own run of
// blocks.

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "engine_fixtures.h"
#include "runner_test_support.h"
#include "visual_features_impl.h"

namespace auroraedge::model {
namespace {

using testing::FixturePrompt;
using testing::Fixtures;
using testing::LoadRunner;
using testing::MaxAbsDiff;
using testing::Placements;

struct PathUnderTest {
  std::string model_dir;
  std::string fixtures_dir;
};

const PathUnderTest kCompressed{AURORAEDGE_TEST_MODEL_DIR, AURORAEDGE_TEST_FIXTURES};
const PathUnderTest kBaseline{AURORAEDGE_TEST_BASELINE_MODEL_DIR,
                              AURORAEDGE_TEST_BASELINE_FIXTURES};
constexpr int kNumGenerated = 20;

std::vector<VisualFeatures> EncodePromptImages(ModelRunner& runner, const Fixtures& f,
                                               const FixturePrompt& prompt) {
  std::vector<const preprocessing::PatchImage*> images;
  for (int64_t i : prompt.images) images.push_back(&f.images[i]);
  return runner.EncodeImages(images);
}

void AddPrompt(ModelRunner& runner, Placements& placements, SequenceId id, const Fixtures& f,
               const FixturePrompt& prompt, int64_t gap_blocks = 0) {
  const auto length = static_cast<int64_t>(prompt.tokens.size());
  const KvPlacement placement = placements.Next(length + kNumGenerated, gap_blocks);
  runner.StartSequence(testing::Start(id, prompt.tokens, kNumGenerated, placement),
                       EncodePromptImages(runner, f, prompt));
}

// One step; every row must go through. Returns the sampled rows' logits.
at::Tensor StepLogits(TorchModelRunner& runner, const std::vector<StepRow>& rows) {
  at::Tensor logits;
  for (const RowResult& result : runner.StepWithLogits(rows, &logits)) {
    INFO("sequence " << result.sequence);
    REQUIRE(result.error == "");
  }
  return logits;
}

// Logits row `o` of a step against reference row `row` of `prompt`.
void CheckRow(const at::Tensor& logits, int64_t o, const FixturePrompt& prompt, int64_t row,
              double tolerance) {
  INFO("logits row " << row);
  REQUIRE(logits.defined());
  REQUIRE(o < logits.size(0));
  REQUIRE(logits.size(1) == prompt.logits.size(1));
  CHECK(MaxAbsDiff(logits[o], prompt.logits[row]) <= tolerance);
}

void CheckVision(const PathUnderTest& path) {
  const auto engine = LoadRunner(path.model_dir);
  const Fixtures f = testing::LoadFixtures(path.fixtures_dir);
  const bool compressed = engine->config().path == "compressed";
  std::vector<const preprocessing::PatchImage*> all;
  for (const auto& image : f.images) all.push_back(&image);
  const auto batched = engine->EncodeImages(all);
  REQUIRE(batched.size() == f.images.size());
  for (size_t i = 0; i < f.images.size(); ++i) {
    INFO("image " << i << ": grid " << f.images[i].grid_h << " x " << f.images[i].grid_w);
    const auto* features = batched[i].impl();
    if (compressed) {
      const int64_t valid = f.images[i].num_valid();
      CHECK(MaxAbsDiff(features->valid_rows, f.visual[i].narrow(0, 0, valid)) <= f.tolerance);
      CHECK(MaxAbsDiff(features->splice_rows, f.compressed[i]) <= f.tolerance);
    } else {
      CHECK(MaxAbsDiff(features->splice_rows, f.visual[i]) <= f.tolerance);
    }
    // The same image alone gives the same features as inside the batch.
    const auto alone = engine->EncodeImages({&f.images[i]});
    CHECK(MaxAbsDiff(alone[0].impl()->splice_rows, features->splice_rows) <= f.tolerance);
  }
}

// Each prompt alone: prefill in one chunk, then the reference's 20
// generated tokens one decode step at a time.
void CheckIncrementalDecoding(const PathUnderTest& path) {
  const auto runner = LoadRunner(path.model_dir);
  Placements placements(runner->kv_geometry());
  const Fixtures f = testing::LoadFixtures(path.fixtures_dir);
  for (size_t j = 0; j < f.prompts.size(); ++j) {
    INFO("prompt " << j);
    const FixturePrompt& prompt = f.prompts[j];
    const auto length = static_cast<int64_t>(prompt.tokens.size());
    const auto id = static_cast<SequenceId>(j);
    AddPrompt(*runner, placements, id, f, prompt);
    auto logits = StepLogits(*runner, {StepRow::Prefill(id, static_cast<int>(length))});
    CheckRow(logits, 0, prompt, length - 1, f.tolerance);
    for (int k = 0; k < kNumGenerated; ++k) {
      INFO("decode step " << k);
      if (prompt.margin[k].item<float>() > f.tolerance) {
        CHECK(logits[0].argmax().item<int64_t>() == prompt.generated[k]);
      }
      logits = StepLogits(*runner, {StepRow::Decode(id, prompt.generated[k])});
      CheckRow(logits, 0, prompt, length + k, f.tolerance);
    }
    runner->EndSequence(id);
  }
  CHECK(runner->num_sequences() == 0);
}

// Prefill in chunks of 5 (chunks split image runs and text), logits at
// every chunk end.
void CheckChunkedPrefill(const PathUnderTest& path) {
  const auto runner = LoadRunner(path.model_dir);
  Placements placements(runner->kv_geometry());
  const Fixtures f = testing::LoadFixtures(path.fixtures_dir);
  constexpr int kChunk = 5;
  for (size_t j = 0; j < f.prompts.size(); ++j) {
    INFO("prompt " << j);
    const FixturePrompt& prompt = f.prompts[j];
    const auto length = static_cast<int>(prompt.tokens.size());
    AddPrompt(*runner, placements, 0, f, prompt);
    for (int start = 0; start < length; start += kChunk) {
      const int n = std::min(kChunk, length - start);
      CheckRow(StepLogits(*runner, {StepRow::Prefill(0, n)}), 0, prompt, start + n - 1,
               f.tolerance);
    }
    runner->EndSequence(0);
  }
}

// Every prompt in one runner, stepped together: prefill chunks of some
// sequences share steps with decode rows of others, chunks that sample
// nothing are mixed in, and every sequence must match its reference alone.
// `options` sets the block size; `gap_blocks` leaves unused blocks between
// sequences, so that runs start at block boundaries other than 0.
void CheckBatch(const PathUnderTest& path, const EngineOptions& options, int64_t gap_blocks) {
  const auto runner = LoadRunner(options);
  Placements placements(runner->kv_geometry());
  const Fixtures f = testing::LoadFixtures(path.fixtures_dir);
  const auto count = static_cast<SequenceId>(f.prompts.size());
  for (SequenceId id = 0; id < count; ++id) {
    AddPrompt(*runner, placements, id, f, f.prompts[id], gap_blocks);
  }
  CHECK(runner->num_sequences() == count);

  std::vector<int> decoded(count, -1);  // -1: prompt not yet computed
  std::vector<int> prefilled(count, 0);
  // Sequence id joins at step id; its prompt goes in two chunks, the first
  // sampling nothing.
  for (int step = 0; step < count + 2 * kNumGenerated; ++step) {
    std::vector<StepRow> rows;
    std::vector<SequenceId> sampled;
    for (SequenceId id = 0; id < count; ++id) {
      const FixturePrompt& prompt = f.prompts[id];
      const auto length = static_cast<int>(prompt.tokens.size());
      if (step < id || decoded[id] >= kNumGenerated) continue;
      if (decoded[id] >= 0) {
        rows.push_back(StepRow::Decode(id, prompt.generated[decoded[id]]));
        sampled.push_back(id);
      } else if (prefilled[id] == 0) {
        rows.push_back(StepRow::Prefill(id, length / 2, /*sample=*/false));
      } else {
        rows.push_back(StepRow::Prefill(id, length - prefilled[id]));
        sampled.push_back(id);
      }
    }
    if (rows.empty()) break;
    const auto logits = StepLogits(*runner, rows);
    REQUIRE(logits.size(0) == static_cast<int64_t>(sampled.size()));
    for (size_t o = 0; o < sampled.size(); ++o) {
      const SequenceId id = sampled[o];
      INFO("step " << step << ", sequence " << id);
      const auto length = static_cast<int64_t>(f.prompts[id].tokens.size());
      CheckRow(logits, static_cast<int64_t>(o), f.prompts[id], length + decoded[id], f.tolerance);
    }
    for (const StepRow& row : rows) {
      if (row.sample) {
        ++decoded[row.sequence];
      } else {
        prefilled[row.sequence] = row.num_tokens;
      }
    }
  }
  for (SequenceId id = 0; id < count; ++id) CHECK(decoded[id] == kNumGenerated);
}

// The batched paths: decode rows of every prompt (0 to 3 images, so
// different numbers of fusion cross-attention rows) in the same steps, at
// different past lengths (each starts decoding one step after the previous
// one), while the last prompt is prefilled one token per step (one-row
// prefill rows, visual placeholders among them) until it decodes too.
void CheckDecodeTogether(const PathUnderTest& path) {
  const auto runner = LoadRunner(path.model_dir);
  Placements placements(runner->kv_geometry());
  const Fixtures f = testing::LoadFixtures(path.fixtures_dir);
  const auto count = static_cast<SequenceId>(f.prompts.size());
  const SequenceId last = count - 1;
  for (SequenceId id = 0; id < count; ++id) AddPrompt(*runner, placements, id, f, f.prompts[id]);
  std::vector<StepRow> prefill;
  for (SequenceId id = 0; id < last; ++id) {
    prefill.push_back(StepRow::Prefill(id, static_cast<int>(f.prompts[id].tokens.size()),
                                       /*sample=*/false));
  }
  StepLogits(*runner, prefill);

  std::vector<int> decoded(count, 0);
  int last_prefilled = 0;
  const auto last_length = static_cast<int>(f.prompts[last].tokens.size());
  for (int step = 0;; ++step) {
    std::vector<StepRow> rows;
    for (SequenceId id = 0; id < count; ++id) {
      if (id == last && last_prefilled < last_length) {
        rows.push_back(StepRow::Prefill(id, 1, /*sample=*/last_prefilled + 1 == last_length));
      } else if (step >= id && decoded[id] < kNumGenerated) {
        rows.push_back(StepRow::Decode(id, f.prompts[id].generated[decoded[id]]));
      }
    }
    if (rows.empty()) break;
    const auto logits = StepLogits(*runner, rows);
    int64_t o = 0;
    for (const StepRow& row : rows) {
      const FixturePrompt& prompt = f.prompts[row.sequence];
      if (!row.is_decode) {
        if (++last_prefilled < last_length) continue;
        INFO("step " << step << ", prompt " << row.sequence << " prefilled");
        CheckRow(logits, o++, prompt, last_length - 1, f.tolerance);
        continue;
      }
      INFO("step " << step << ", prompt " << row.sequence << ", decode "
                   << decoded[row.sequence]);
      const auto length = static_cast<int64_t>(prompt.tokens.size());
      CheckRow(logits, o++, prompt, length + decoded[row.sequence], f.tolerance);
      ++decoded[row.sequence];
    }
    CHECK((logits.defined() ? logits.size(0) : 0) == o);
  }
  for (SequenceId id = 0; id < count; ++id) CHECK(decoded[id] == kNumGenerated);
}

EngineOptions BlockOptions(const PathUnderTest& path, int block_size) {
  EngineOptions options = testing::SmallModelOptions(path.model_dir);
  options.kv_block_size = block_size;
  return options;
}

TEST_CASE("vision features match the reference, square and non-square grids (compressed)") {
  CheckVision(kCompressed);
}

TEST_CASE("vision features match the reference, padded slots zero (baseline)") {
  CheckVision(kBaseline);
}

TEST_CASE("prefill and 20 decode steps equal the full-sequence reference (compressed)") {
  CheckIncrementalDecoding(kCompressed);
}

TEST_CASE("prefill and 20 decode steps equal the full-sequence reference (baseline)") {
  CheckIncrementalDecoding(kBaseline);
}

TEST_CASE("chunked prefill equals the full-sequence reference (compressed)") {
  CheckChunkedPrefill(kCompressed);
}

TEST_CASE("chunked prefill equals the full-sequence reference (baseline)") {
  CheckChunkedPrefill(kBaseline);
}

TEST_CASE("a batch of sequences of different lengths equals each alone (compressed)") {
  CheckBatch(kCompressed, BlockOptions(kCompressed, 16), 0);
}

TEST_CASE("a batch of sequences of different lengths equals each alone (baseline)") {
  CheckBatch(kBaseline, BlockOptions(kBaseline, 16), 0);
}

TEST_CASE("KV in place across block boundaries: 3-token blocks, runs apart, equal each alone") {
  CheckBatch(kCompressed, BlockOptions(kCompressed, 3), 2);
  CheckBatch(kBaseline, BlockOptions(kBaseline, 3), 2);
}

TEST_CASE("batched decode rows (different lengths and images) equal each alone (compressed)") {
  CheckDecodeTogether(kCompressed);
}

TEST_CASE("batched decode rows (different lengths and images) equal each alone (baseline)") {
  CheckDecodeTogether(kBaseline);
}

}  // namespace
}  // namespace auroraedge::model
